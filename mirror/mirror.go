// Package mirror is the shadow traffic policy kind
// (apis[].methods[].mirror): a share of a unary method's calls is also
// sent, asynchronously, to another integration — after the gates,
// validation and request mapping, as the call's own backend gets it —
// and the copy's answer is ignored. The client's call never waits for
// the copy nor depends on it: a copy that finds no room among
// max_in_flight is dropped, and its outcome (ok, error, dropped) is
// counted in portico_mirror_total.
package mirror

import (
	"context"
	"sync"
	"sync/atomic"
	"time"

	"github.com/portico-gw/portico/call"
	"github.com/portico-gw/portico/catalog"
	"github.com/portico-gw/portico/telemetry"
	"google.golang.org/grpc"
	"google.golang.org/grpc/metadata"
	"google.golang.org/protobuf/proto"
)

// ShadowHeader marks a copy for its backend: x-portico-shadow: 1. Its
// name is reserved (call.ReservedPrefix): no client can send it, so a
// backend can trust it.
const ShadowHeader = call.ReservedPrefix + "shadow"

// DefaultMaxInFlight is max_in_flight's default.
const DefaultMaxInFlight = 16

// mirror sends the copies of one method's calls.
type mirror struct {
	integration string
	backend     catalog.Backend
	method      *catalog.Method
	sample      *Sampler
	slots       chan struct{} // one per copy in flight
	copies      *copies
}

// copies are the copies in flight of a snapshot's mirrors: cancelled and
// waited for when the snapshot closes.
type copies struct {
	ctx    context.Context
	cancel context.CancelFunc
	wg     sync.WaitGroup
}

func newCopies() *copies {
	c := &copies{}
	c.ctx, c.cancel = context.WithCancel(context.Background())
	return c
}

// Close ends the copies still in flight and waits for them.
func (c *copies) Close() error {
	c.cancel()
	c.wg.Wait()
	return nil
}

// Sampler picks percent of every 100 calls, evenly spread and
// deterministic: call n is picked when ⌊n·p/100⌋ passes an integer, so
// with percent 10 the 10th, 20th, ... calls are, and any 100 calls in a
// row hold exactly percent picks.
type Sampler struct {
	percent uint64
	n       atomic.Uint64
}

// NewSampler picks percent (1 to 100) of the calls.
func NewSampler(percent uint32) *Sampler { return &Sampler{percent: uint64(percent)} }

// Pick reports whether the next call is picked.
func (s *Sampler) Pick() bool {
	n := s.n.Add(1)
	return n*s.percent/100 != (n-1)*s.percent/100
}

// unary is the mirror as a unary interceptor: the call goes on at once;
// a picked call's copy is sent in the background.
func (m *mirror) unary(ctx context.Context, req any, _ *grpc.UnaryServerInfo, h grpc.UnaryHandler) (any, error) {
	if m.sample.Pick() {
		m.send(ctx, req)
	}
	return h(ctx, req)
}

// send starts the copy of a call, or drops it when max_in_flight copies
// are out already.
func (m *mirror) send(ctx context.Context, req any) {
	msg, ok := req.(proto.Message)
	if !ok {
		return
	}
	select {
	case m.slots <- struct{}{}:
	default:
		telemetry.Mirror(ctx, m.integration, "dropped")
		return
	}
	cctx, cancel := m.copyContext(ctx)
	msg = proto.Clone(msg) // the call's own may change once it goes on
	m.copies.wg.Add(1)
	go func() {
		defer m.copies.wg.Done()
		defer func() { <-m.slots }()
		defer cancel()
		outcome := "ok"
		if _, err := m.backend.Unary(cctx, m.method, msg); err != nil {
			outcome = "error"
		}
		telemetry.Mirror(cctx, m.integration, outcome)
	}()
}

// copyContext is the context a copy is sent with: the call's values (its
// telemetry) with a call.Info of its own (call.Info.Shadow), the incoming
// metadata as the call's backend gets it plus the shadow mark, no way
// to set the client's response headers, and a deadline of its own: as
// long as the call had left when it was copied (none: the mirror
// integration's timeout). It ends when the snapshot closes, never with
// the call.
func (m *mirror) copyContext(ctx context.Context) (context.Context, context.CancelFunc) {
	cctx := context.WithoutCancel(ctx)
	if info := call.FromContext(ctx); info != nil {
		cctx = call.NewContext(cctx, info.Shadow())
	}
	md, _ := metadata.FromIncomingContext(ctx)
	md = md.Copy()
	md.Set(ShadowHeader, "1")
	cctx = metadata.NewIncomingContext(cctx, md)
	cctx = grpc.NewContextWithServerTransportStream(cctx, discard{method: m.method.FullMethod()})
	var cancel context.CancelFunc
	if dl, ok := ctx.Deadline(); ok {
		cctx, cancel = context.WithTimeout(cctx, max(time.Until(dl), 0))
	} else {
		cctx, cancel = context.WithCancel(cctx)
	}
	stop := context.AfterFunc(m.copies.ctx, cancel)
	return cctx, func() { stop(); cancel() }
}

// discard takes the headers and trailers a copy's backend answers with:
// they are not the client's.
type discard struct{ method string }

func (d discard) Method() string             { return d.method }
func (discard) SetHeader(metadata.MD) error  { return nil }
func (discard) SendHeader(metadata.MD) error { return nil }
func (discard) SetTrailer(metadata.MD) error { return nil }
