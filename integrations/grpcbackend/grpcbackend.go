// Package grpcbackend is the grpc integration: a private gRPC backend
// reached through one grpc-go client connection shared by all its routes
// and kept, across reloads, for as long as its settings do not change.
package grpcbackend

import (
	"context"
	"fmt"
	"log/slog"
	"time"

	"github.com/portico-gw/portico/catalog"
	"github.com/portico-gw/portico/codec"
	"github.com/portico-gw/portico/integrations"
	"google.golang.org/grpc"
	"google.golang.org/grpc/backoff"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/grpc/metadata"
	"google.golang.org/grpc/peer"
	"google.golang.org/protobuf/proto"
)

// Options configure an Integration.
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
	// DialOptions are appended to the defaults (tests use a bufconn dialer).
	DialOptions []grpc.DialOption
	// Logger receives panics caught in stream goroutines. Default
	// slog.Default().
	Logger *slog.Logger
}

// Integration is one gRPC backend, as one snapshot uses it.
type Integration struct {
	name          string
	client        *client
	release       func() error // drops this snapshot's hold on the client
	timeout       time.Duration
	streamTimeout time.Duration
	log           *slog.Logger
}

var _ integrations.Backend = (*Integration)(nil)

// New creates the client and starts connecting in the background. A
// backend that is down fails calls with UNAVAILABLE at once (no
// wait-for-ready) and is reconnected in the background.
func New(name string, opts Options) (*Integration, error) {
	c, err := newClient(name, opts)
	if err != nil {
		return nil, err
	}
	return newIntegration(name, c, c.Close, opts), nil
}

func newIntegration(name string, c *client, release func() error, opts Options) *Integration {
	log := opts.Logger
	if log == nil {
		log = slog.Default()
	}
	return &Integration{name: name, client: c, release: release, timeout: opts.Timeout, streamTimeout: opts.StreamTimeout, log: log}
}

func dialOptions(opts Options) []grpc.DialOption {
	maxDelay := opts.MaxReconnectDelay
	if maxDelay <= 0 {
		maxDelay = 2 * time.Second
	}
	bo := backoff.DefaultConfig
	bo.BaseDelay = 100 * time.Millisecond
	bo.MaxDelay = maxDelay
	dial := []grpc.DialOption{
		grpc.WithTransportCredentials(insecure.NewCredentials()),
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
	return append(dial, opts.DialOptions...)
}

// Name is the integration's name.
func (i *Integration) Name() string { return i.name }

// Check accepts every method: a gRPC backend serves any method by its path.
func (i *Integration) Check(*catalog.Method) error { return nil }

// Close drops this snapshot's hold on the client connection; it closes
// when no snapshot uses it.
func (i *Integration) Close() error { return i.release() }

// Ready reports whether the client is connected to the backend.
func (i *Integration) Ready() bool { return i.client.ready() }

// State is the connection's state, as grpc-go names it (READY,
// CONNECTING, TRANSIENT_FAILURE, ...).
func (i *Integration) State() string { return i.client.conn.GetState().String() }

// Notify calls f whenever Ready may have changed, until stop is called.
func (i *Integration) Notify(f func()) (stop func()) { return i.client.notify(f) }

// callContext applies the call's deadline and turns the incoming metadata
// into outgoing.
func (i *Integration) callContext(ctx context.Context, timeout time.Duration) (context.Context, context.CancelFunc) {
	ctx, cancel := integrations.WithTimeout(ctx, timeout)
	if md, ok := metadata.FromIncomingContext(ctx); ok {
		ctx = metadata.NewOutgoingContext(ctx, integrations.Forwardable(md))
	} else {
		ctx = metadata.NewOutgoingContext(ctx, nil)
	}
	return ctx, cancel
}

// Unary calls the backend and reports its headers and trailers on ctx.
func (i *Integration) Unary(ctx context.Context, m *catalog.Method, req proto.Message) (proto.Message, error) {
	callCtx, cancel := i.callContext(ctx, i.timeout)
	defer cancel()
	resp := m.Output.New().Interface()
	var header, trailer metadata.MD
	var p peer.Peer
	err := i.client.conn.Invoke(callCtx, m.FullMethod, req, resp, grpc.Header(&header), grpc.Trailer(&trailer), grpc.Peer(&p))
	if len(header) > 0 {
		_ = grpc.SetHeader(ctx, header)
	}
	if len(trailer) > 0 {
		_ = grpc.SetTrailer(ctx, trailer)
	}
	if err != nil {
		// A call that got a peer and any header or trailer from it reached
		// the backend: its status is the backend's own, even when sent
		// without headers (trailers-only). A transport that failed under
		// the call ("error reading from server: EOF") sends neither.
		return nil, integrations.Sanitize(err, p.Addr != nil && (len(header) > 0 || len(trailer) > 0))
	}
	return resp, nil
}

// String names the integration for logs.
func (i *Integration) String() string { return fmt.Sprintf("grpc integration %q", i.name) }
