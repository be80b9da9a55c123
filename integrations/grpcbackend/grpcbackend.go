// Package grpcbackend is the grpc integration: a private gRPC backend
// reached through one grpc-go client connection shared by all its routes.
package grpcbackend

import (
	"context"
	"fmt"
	"time"

	"github.com/portico-gw/portico/catalog"
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
	// Timeout is the default deadline of a call; a smaller deadline from the
	// client wins. Zero means none.
	Timeout time.Duration
	// MaxReconnectDelay caps the reconnect backoff, so a backend that comes
	// back is used again quickly. Default 2s.
	MaxReconnectDelay time.Duration
	// DialOptions are appended to the defaults (tests use a bufconn dialer).
	DialOptions []grpc.DialOption
}

// Integration is one gRPC backend.
type Integration struct {
	name    string
	conn    *grpc.ClientConn
	timeout time.Duration
}

var _ catalog.Backend = (*Integration)(nil)

// New creates the client. It does not connect: the first call does, and a
// backend that is down fails calls with UNAVAILABLE at once (no
// wait-for-ready), then is reconnected in the background.
func New(name string, opts Options) (*Integration, error) {
	if opts.Target == "" {
		return nil, fmt.Errorf("integration %q: empty target", name)
	}
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
		// The gateway forwards whatever size the backend accepts; the
		// limits that protect the gateway are on its own doors.
		grpc.WithDefaultCallOptions(grpc.MaxCallRecvMsgSize(64 << 20)),
	}
	dial = append(dial, opts.DialOptions...)
	conn, err := grpc.NewClient(opts.Target, dial...)
	if err != nil {
		return nil, fmt.Errorf("integration %q: target %q: %v", name, opts.Target, err)
	}
	return &Integration{name: name, conn: conn, timeout: opts.Timeout}, nil
}

// Name is the integration's name.
func (i *Integration) Name() string { return i.name }

// Close closes the client connection.
func (i *Integration) Close() error { return i.conn.Close() }

// callContext applies the integration's timeout (when smaller than the
// client's deadline) and turns the incoming metadata into outgoing.
func (i *Integration) callContext(ctx context.Context) (context.Context, context.CancelFunc) {
	cancel := context.CancelFunc(func() {})
	if i.timeout > 0 {
		if dl, ok := ctx.Deadline(); !ok || time.Until(dl) > i.timeout {
			ctx, cancel = context.WithTimeout(ctx, i.timeout)
		}
	}
	if md, ok := metadata.FromIncomingContext(ctx); ok {
		ctx = metadata.NewOutgoingContext(ctx, forwardable(md))
	} else {
		ctx = metadata.NewOutgoingContext(ctx, nil)
	}
	return ctx, cancel
}

// Unary calls the backend and reports its headers and trailers on ctx.
func (i *Integration) Unary(ctx context.Context, m *catalog.Method, req proto.Message) (proto.Message, error) {
	callCtx, cancel := i.callContext(ctx)
	defer cancel()
	resp := m.Output.New().Interface()
	var header, trailer metadata.MD
	var p peer.Peer
	err := i.conn.Invoke(callCtx, m.FullMethod, req, resp, grpc.Header(&header), grpc.Trailer(&trailer), grpc.Peer(&p))
	if len(header) > 0 {
		_ = grpc.SetHeader(ctx, header)
	}
	if len(trailer) > 0 {
		_ = grpc.SetTrailer(ctx, trailer)
	}
	if err != nil {
		// A call that got a peer reached the backend: its status is the
		// backend's own, even when sent without headers (trailers-only).
		return nil, backendError(err, p.Addr != nil)
	}
	return resp, nil
}
