// Package grpcbackend is the grpc integration: a private gRPC backend
// reached through grpc-go client connections shared by all its routes and
// kept, across reloads, for as long as their settings do not change.
//
// What the connection does — load balancing over the endpoints a target
// resolves to, health checking each one with grpc.health.v1, ejecting
// outliers, retrying failed attempts — is grpc-go's, configured through
// its JSON service config (serviceconfig.go). Written here: the weighted
// split between targets with its pin header (targets.go) and hedging
// (hedging.go), which grpc-go does not offer to a client of its own.
package grpcbackend

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"sync"
	"time"

	"github.com/portico-gw/portico/catalog"
	"github.com/portico-gw/portico/codec"
	"github.com/portico-gw/portico/integrations"
	"github.com/portico-gw/portico/integrations/clienttls"
	"github.com/portico-gw/portico/integrations/guard"
	"google.golang.org/grpc"
	"google.golang.org/grpc/backoff"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/grpc/metadata"
	"google.golang.org/grpc/peer"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/proto"
)

// Options configure an Integration made with New.
type Options struct {
	// Target is any grpc-go target: host:port, dns:///host:port, unix:///path.
	Target string
	// Timeout is the deadline of a unary call; a smaller deadline from the
	// client wins. Zero means none.
	Timeout time.Duration
	// StreamTimeout is the deadline of a streaming call. Zero means none.
	StreamTimeout time.Duration
	// MaxReconnectDelay caps the reconnect backoff, so a backend that comes
	// back is used again quickly. Default 2s.
	MaxReconnectDelay time.Duration
	// ServiceConfig is grpc-go's JSON service config for the connection
	// (load balancing, health checking, retries); "" for grpc-go's
	// defaults.
	ServiceConfig string
	// TLS secures the connection; nil is plaintext.
	TLS *clienttls.Source
	// DialOptions are appended to the defaults (tests use a bufconn dialer).
	DialOptions []grpc.DialOption
	// Logger receives panics caught in stream goroutines. Default
	// slog.Default().
	Logger *slog.Logger
}

// Integration is one gRPC backend, as one snapshot uses it.
type Integration struct {
	name          string
	timeout       time.Duration
	timeoutSet    bool // the config sets timeout (else it is the default)
	streamTimeout time.Duration
	log           *slog.Logger

	// open makes the targets' connections, once, at the first use — after
	// Check has seen every method routed here, so that the service config
	// can name the methods retries apply to.
	open    func(retryMethods []string) ([]*target, error)
	once    sync.Once
	targets []*target
	openErr error

	// discoverConn dials a connection of its own for Discover, which runs
	// before the methods (and so the service config) are known.
	discoverConn func() (*grpc.ClientConn, error)

	allowPin bool
	// guard bounds the calls in flight and holds each target's circuit
	// breaker (nil: none); releaseGuard lets go of its pool lease.
	guard        *guard.Guard
	releaseGuard func() error
	hedge        *hedging
	retry        *retryScope

	mu        sync.Mutex
	retryable map[string]bool // method paths retries apply to
	hedgeable map[string]bool // method paths hedging applies to
	// hedged is hedgeable as frozen when the connections open (read
	// without a lock from then on).
	hedged map[string]bool
}

// target is one target of the integration and its connection.
type target struct {
	name    string // as configured: what x-portico-target names
	weight  uint32
	client  *client
	release func() error
}

// retryScope says which methods the retry policy covers.
type retryScope struct {
	all bool // retry.all_methods
}

var _ integrations.Backend = (*Integration)(nil)

// errClosed is what an integration used after Close reports.
var errClosed = errors.New("integration closed")

// New creates the client and starts connecting in the background. A
// backend that is down fails calls with UNAVAILABLE at once (no
// wait-for-ready) and is reconnected in the background.
func New(name string, opts Options) (*Integration, error) {
	c, err := newClient(opts)
	if err != nil {
		return nil, fmt.Errorf("integration %q: %v", name, err)
	}
	i := newIntegration(name, opts)
	i.discoverConn = func() (*grpc.ClientConn, error) { return grpc.NewClient(opts.Target, dialOptions(opts)...) }
	i.open = func([]string) ([]*target, error) {
		return []*target{{name: opts.Target, weight: 1, client: c, release: c.Close}}, nil
	}
	return i, nil
}

func newIntegration(name string, opts Options) *Integration {
	log := opts.Logger
	if log == nil {
		log = slog.Default()
	}
	return &Integration{
		name: name, timeout: opts.Timeout, streamTimeout: opts.StreamTimeout, log: log,
		retryable: map[string]bool{}, hedgeable: map[string]bool{},
		releaseGuard: func() error { return nil },
	}
}

func dialOptions(opts Options) []grpc.DialOption {
	maxDelay := opts.MaxReconnectDelay
	if maxDelay <= 0 {
		maxDelay = 2 * time.Second
	}
	bo := backoff.DefaultConfig
	bo.BaseDelay = 100 * time.Millisecond
	bo.MaxDelay = maxDelay
	creds := insecure.NewCredentials()
	if opts.TLS != nil {
		creds = opts.TLS.Credentials()
	}
	dial := []grpc.DialOption{
		grpc.WithTransportCredentials(creds),
		grpc.WithConnectParams(grpc.ConnectParams{Backoff: bo, MinConnectTimeout: 5 * time.Second}),
		grpc.WithDefaultCallOptions(
			// The gateway forwards whatever size the backend accepts; the
			// limits that protect the gateway are on its own doors.
			grpc.MaxCallRecvMsgSize(64<<20),
			// What a backend sends back is decoded with the same guards as
			// what clients send.
			grpc.ForceCodecV2(codec.Client{}),
		),
	}
	if opts.ServiceConfig != "" {
		// The gateway's config decides, not the backend's DNS records.
		dial = append(dial, grpc.WithDefaultServiceConfig(opts.ServiceConfig), grpc.WithDisableServiceConfig())
	}
	return append(dial, opts.DialOptions...)
}

// Name is the integration's name.
func (i *Integration) Name() string { return i.name }

// Check accepts every method (a gRPC backend serves any method by its
// path) and notes whether retries and hedging may apply to it: only to
// idempotent methods (see Idempotent), unless retry.all_methods.
func (i *Integration) Check(m *catalog.Method) error {
	idem := Idempotent(m)
	i.mu.Lock()
	defer i.mu.Unlock()
	if i.retry != nil && (i.retry.all || idem) {
		i.retryable[m.FullMethod()] = true
	}
	if i.hedge != nil && idem && !m.Streaming() {
		i.hedgeable[m.FullMethod()] = true
	}
	return nil
}

// conns returns the targets, opening their connections at the first call.
func (i *Integration) conns() ([]*target, error) {
	i.once.Do(func() {
		i.mu.Lock()
		var methods []string
		if i.retry != nil && !i.retry.all {
			methods = make([]string, 0, len(i.retryable))
			for m := range i.retryable {
				methods = append(methods, m)
			}
		}
		i.hedged = make(map[string]bool, len(i.hedgeable))
		for m := range i.hedgeable {
			i.hedged[m] = true
		}
		i.mu.Unlock()
		i.targets, i.openErr = i.open(methods)
		if i.openErr != nil {
			i.log.Error("integration: cannot open its connections", "integration", i.name, "err", i.openErr)
		}
	})
	return i.targets, i.openErr
}

// Close drops this snapshot's hold on the client connections; each closes
// when no snapshot uses it.
func (i *Integration) Close() error {
	opened := true
	i.once.Do(func() { opened, i.openErr = false, errClosed })
	errs := []error{i.releaseGuard()}
	if !opened {
		return errors.Join(errs...)
	}
	for _, t := range i.targets {
		errs = append(errs, t.release())
	}
	return errors.Join(errs...)
}

// Ready reports whether any target's connection is ready.
func (i *Integration) Ready() bool {
	ts, _ := i.conns()
	for _, t := range ts {
		if t.client.ready() {
			return true
		}
	}
	return false
}

// State is the connection's state, as grpc-go names it (READY,
// CONNECTING, TRANSIENT_FAILURE, ...); with several targets, each
// target's, "target=STATE" separated by commas.
func (i *Integration) State() string {
	ts, err := i.conns()
	if err != nil {
		return "SHUTDOWN"
	}
	if len(ts) == 1 {
		return ts[0].client.conn.GetState().String()
	}
	parts := make([]string, len(ts))
	for k, t := range ts {
		parts[k] = t.name + "=" + t.client.conn.GetState().String()
	}
	return strings.Join(parts, ",")
}

// Notify calls f whenever Ready may have changed, until stop is called.
func (i *Integration) Notify(f func()) (stop func()) {
	ts, _ := i.conns()
	stops := make([]func(), len(ts))
	for k, t := range ts {
		stops[k] = t.client.notify(f)
	}
	return func() {
		for _, s := range stops {
			s()
		}
	}
}

// callContext applies the call's deadline and turns the incoming metadata
// into outgoing.
func (i *Integration) callContext(ctx context.Context, timeout time.Duration) (context.Context, context.CancelFunc) {
	ctx, cancel := integrations.WithTimeout(ctx, timeout)
	md, _ := metadata.FromIncomingContext(ctx)
	md = integrations.WithRequestID(ctx, integrations.Forwardable(md))
	return metadata.NewOutgoingContext(ctx, md), cancel
}

// Unary calls the backend and reports its headers and trailers on ctx.
func (i *Integration) Unary(ctx context.Context, m *catalog.Method, req proto.Message) (proto.Message, error) {
	resp, err := i.unary(ctx, m, req, false)
	if err != nil {
		return nil, err
	}
	return resp.(proto.Message), nil
}

// UnaryRaw is Unary with the response as wire bytes: it comes back
// undecoded. A request frame is sent as it came (the gRPC door's
// zero-copy path), a message encoded (a validated request whose response
// nothing reads: pipeline.Method.WireResponse).
func (i *Integration) UnaryRaw(ctx context.Context, m *catalog.Method, req any) (*codec.Frame, error) {
	resp, err := i.unary(ctx, m, req, true)
	if err != nil {
		return nil, err
	}
	return resp.(*codec.Frame), nil
}

func (i *Integration) unary(ctx context.Context, m *catalog.Method, req any, raw bool) (_ any, err error) {
	leave, err := i.guard.Enter(ctx)
	if err != nil {
		return nil, err
	}
	defer func() { leave(err) }()
	t, done, err := i.pick(ctx)
	if err != nil {
		return nil, err
	}
	callCtx, cancel := i.callContext(ctx, i.CallTimeout(m))
	defer cancel()
	var a attempt
	if i.hedge != nil && i.hedged[m.FullMethod()] {
		a = i.hedge.run(callCtx, t.client.conn, m, req, raw)
	} else {
		a = invoke(callCtx, t.client.conn, m, req, raw)
	}
	done(a.err)
	if len(a.header) > 0 {
		_ = grpc.SetHeader(ctx, a.header)
	}
	if len(a.trailer) > 0 {
		_ = grpc.SetTrailer(ctx, a.trailer)
	}
	if a.err != nil {
		// A call that got a peer and any header or trailer from it reached
		// the backend: its status is the backend's own, even when sent
		// without headers (trailers-only). A transport that failed under
		// the call ("error reading from server: EOF") sends neither.
		return nil, integrations.Sanitize(a.err, a.answered)
	}
	return a.resp, nil
}

// attempt is the outcome of one call to the backend.
type attempt struct {
	resp            any // a proto.Message, or a *codec.Frame when raw
	header, trailer metadata.MD
	answered        bool // the backend was reached
	err             error
}

// responseRecursionLimit bounds a backend response's nesting: backends are
// trusted further than clients, but the encoder must not recurse without
// end either.
const responseRecursionLimit = 10000

// invoke makes one unary call on conn. The response is received as bytes
// and parsed with the method's response type (hyperpb for a type known
// only from descriptors), or handed on as bytes when raw.
func invoke(ctx context.Context, conn *grpc.ClientConn, m *catalog.Method, req any, raw bool) attempt {
	var a attempt
	var p peer.Peer
	f := &codec.Frame{}
	a.err = conn.Invoke(ctx, m.FullMethod(), req, f, grpc.Header(&a.header), grpc.Trailer(&a.trailer), grpc.Peer(&p))
	a.answered = p.Addr != nil && (len(a.header) > 0 || len(a.trailer) > 0)
	if a.err != nil {
		f.Free()
		return a
	}
	if raw {
		a.resp = f
		return a
	}
	defer f.Free()
	resp, err := m.ParseResponse(f.Bytes(), responseRecursionLimit)
	if err != nil {
		a.err = errMalformedResponse
		return a
	}
	a.resp = resp
	return a
}

// errMalformedResponse is what a client gets for a response the backend
// sent that cannot be parsed.
var errMalformedResponse = status.Error(codes.Internal, "malformed response from the backend")

// String names the integration for logs.
func (i *Integration) String() string { return fmt.Sprintf("grpc integration %q", i.name) }

// Endpoints reports each target's circuit breaker state (nil without a
// limit or breaker: nothing of its own to show).
func (i *Integration) Endpoints() []integrations.Endpoint { return i.guard.Endpoints() }

// CallTimeout is the deadline a call of m gets before the client's own:
// the shortest of the method's, the API's (unary methods) and the
// integration's timeout (its default counts only when neither is set;
// streams have no default).
func (i *Integration) CallTimeout(m *catalog.Method) time.Duration {
	if m.Streaming() {
		return integrations.CallTimeout(m, i.streamTimeout, i.timeoutSet)
	}
	return integrations.CallTimeout(m, i.timeout, i.timeoutSet)
}
