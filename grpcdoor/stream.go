package grpcdoor

import (
	"context"
	"errors"
	"io"
	"sync"
	"time"

	"github.com/portico-gw/portico/call"
	"github.com/portico-gw/portico/codec"
	"github.com/portico-gw/portico/integrations"
	"github.com/portico-gw/portico/pipeline"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/reflect/protoreflect"
)

// binaryCostFactor estimates the memory decoding a binary message takes,
// per byte, for the door's budget: a field of a few bytes on the wire
// costs hundreds once decoded into a message known only from descriptors.
const binaryCostFactor = 8

// doorStream is the gRPC door's stream as the pipeline sees it: the
// call's context, and requests decoded from raw frames with Decode's
// guards (a malformed message is INVALID_ARGUMENT, never a panic or
// INTERNAL).
type doorStream struct {
	grpc.ServerStream
	ctx   context.Context
	info  *call.Info
	in    protoreflect.MessageDescriptor // the request type, for Check
	limit int
	held  func() // the budget taken for the message last received
	// waiting, when set, is told when a received message starts and
	// stops waiting for the door's budget (recvUnary pauses its receive
	// timer meanwhile: the budget bounds its own wait).
	waiting func(bool)
	// firstWithin bounds the wait for a server stream's one request
	// message (limits.body_timeout), as recvUnary bounds a unary call's.
	firstWithin time.Duration
}

// releaseHeld gives back the budget taken for the last message.
func (d *doorStream) releaseHeld() {
	if d.held != nil {
		d.held()
		d.held = nil
	}
}

func (d *doorStream) Context() context.Context { return d.ctx }

// RecvMsg receives a request message; the first of a server stream
// within firstWithin.
func (d *doorStream) RecvMsg(m any) error {
	if t := d.firstWithin; t > 0 {
		d.firstWithin = 0
		return d.within(t, func() error { return d.recvMsg(m) })
	}
	return d.recvMsg(m)
}

func (d *doorStream) recvMsg(m any) error {
	if f, ok := m.(*codec.Frame); ok {
		// Zero-copy: the frame goes on as it came, once its encoding is
		// checked (nothing malformed reaches a backend, nothing is
		// decoded); a large one still holds room in the door's budget
		// while it is forwarded.
		if err := d.ServerStream.RecvMsg(f); err != nil {
			return err
		}
		if err := codec.Check(f.Bytes(), d.in, d.limit); err != nil {
			f.Free()
			return err
		}
		return d.admit(int64(f.Len()))
	}
	msg, ok := m.(proto.Message)
	if !ok {
		return d.ServerStream.RecvMsg(m)
	}
	if ds, ok := d.ServerStream.(*directStream); ok {
		// Decoded by the stream itself (Connect JSON: from the JSON),
		// with the same budget and nesting bound.
		return ds.Decode(msg, d.limit, d)
	}
	var f codec.Frame
	if err := d.ServerStream.RecvMsg(&f); err != nil {
		return err
	}
	defer f.Free()
	// A large message holds its room in the door's budget until the next
	// one arrives or the call ends: it is being decoded and forwarded.
	if err := d.admit(int64(f.Len()) * binaryCostFactor); err != nil {
		return err
	}
	return codec.Decode(f.Bytes(), msg, d.limit)
}

// AdmitBytes takes room in the door's budget for n message bytes about to
// be decoded (webprotocols.Admitter).
func (d *doorStream) AdmitBytes(n int) error { return d.admit(int64(n) * binaryCostFactor) }

// admit takes room in the door's budget for the message just received,
// giving back what the previous one held.
func (d *doorStream) admit(cost int64) error {
	d.releaseHeld()
	if d.waiting != nil {
		d.waiting(true)
		defer d.waiting(false)
	}
	release, err := d.info.Admit(d.ctx, cost)
	if err != nil {
		return err
	}
	d.held = release
	return nil
}

// forwardRaw serves a call whose messages no interceptor needs (only
// gates, which already ran): request and response frames are forwarded as
// wire bytes, decoding nothing. The unary rules (one message, received in
// time) are the same as on the decoding path.
func (d *doorStream) forwardRaw(raw integrations.Raw, pm *pipeline.Method, timeout time.Duration) (err error) {
	if pm.Streaming() {
		sendPolicyHeaders(d.ServerStream, d.info)
		return raw.StreamRaw(d.ctx, pm.Method, d)
	}
	req := &codec.Frame{}
	defer req.Free()
	if err := d.recvUnary(req, timeout); err != nil {
		return err
	}
	resp, err := raw.UnaryRaw(d.ctx, pm.Method, req)
	sendPolicyHeaders(d.ServerStream, d.info)
	if err != nil {
		return err
	}
	defer resp.Free()
	return d.ServerStream.SendMsg(resp)
}

// recvUnary receives the one request of a unary call within timeout: a
// client that sends its message a byte at a time, or never, is let go.
// A unary call with no message, or with two, is INVALID_ARGUMENT.
func (d *doorStream) recvUnary(req any, timeout time.Duration) error {
	if _, read := d.ServerStream.(*directStream); read {
		return d.recvOne(req) // in memory already: no timer (within)
	}
	return d.within(timeout, func() error { return d.recvOne(req) })
}

// recvOne receives a unary call's one request message, and its end.
func (d *doorStream) recvOne(req any) error {
	if err := d.recvMsg(req); err != nil {
		if errors.Is(err, io.EOF) {
			return status.Error(codes.InvalidArgument, "missing request message")
		}
		return err
	}
	var extra codec.Frame
	err := d.ServerStream.RecvMsg(&extra)
	extra.Free()
	switch {
	case errors.Is(err, io.EOF):
		return nil
	case err == nil:
		return status.Error(codes.InvalidArgument, "a unary call carries one request message, got more")
	default:
		return err
	}
}

// within runs recv, a receive, bounded by timeout (0: no bound).
func (d *doorStream) within(timeout time.Duration, recv func() error) error {
	if timeout <= 0 {
		return recv()
	}
	// The timer bounds the receive only: while a message that arrived
	// waits for the door's budget, it is paused, so a call refused by the
	// budget ends with the budget's RESOURCE_EXHAUSTED, not with
	// DEADLINE_EXCEEDED (regress: TestRegressBudgetRefusalCodeUnary).
	t := time.NewTimer(timeout)
	defer t.Stop()
	var mu sync.Mutex
	deadline := time.Now().Add(timeout)
	var left time.Duration
	d.waiting = func(start bool) {
		mu.Lock()
		defer mu.Unlock()
		if start {
			left = time.Until(deadline)
			t.Stop()
			return
		}
		deadline = time.Now().Add(left)
		t.Reset(left)
	}
	done := make(chan error, 1)
	go func() { done <- recv() }()
	select {
	case err := <-done:
		d.waiting = nil // the receive is over: later ones are not timed
		return err
	case <-t.C:
		// Returning ends the call; grpc-go then cancels the stream, which
		// ends the receive above.
		return status.Error(codes.DeadlineExceeded, "request message not received in time")
	}
}
