package grpcbackend

import (
	"context"
	"errors"
	"io"

	"github.com/portico-gw/portico/catalog"
	"github.com/portico-gw/portico/codec"
	"github.com/portico-gw/portico/integrations"
	"github.com/portico-gw/portico/pipeline"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
)

// Stream proxies a streaming call between ss (either door) and the
// backend. The client's first message is read — and so validated — before
// the backend stream is opened, so a bad first message reaches nothing; a
// client stream with no message at all opens the backend stream when the
// client half-closes. Later messages are forwarded as they arrive; the
// backend's header is sent before its first message and its trailer is set
// when it ends.
func (i *Integration) Stream(ctx context.Context, m *catalog.Method, ss grpc.ServerStream) error {
	return i.stream(ctx, m, ss, false)
}

// StreamRaw is Stream on wire bytes: ss receives and sends *codec.Frame,
// and nothing is decoded (the gRPC door's zero-copy path).
func (i *Integration) StreamRaw(ctx context.Context, m *catalog.Method, ss grpc.ServerStream) error {
	return i.stream(ctx, m, ss, true)
}

func (i *Integration) stream(ctx context.Context, m *catalog.Method, ss grpc.ServerStream, raw bool) (err error) {
	newReq := func() any { return m.Input().New().Interface() }
	if raw {
		newReq = func() any { return &codec.Frame{} }
	}
	// An open stream holds its room under max_in_flight; its length says
	// nothing of the backend's latency, so it is not sampled.
	leave, err := i.guard.Enter(ctx)
	if err != nil {
		return err
	}
	defer leave(errNotSampled)
	t, done, err := i.pick(ctx)
	if err != nil {
		return err
	}
	defer func() { done(err) }()
	callCtx, cancelTimeout := i.callContext(ctx, i.CallTimeout(m))
	defer cancelTimeout()
	callCtx, cancel := context.WithCancel(callCtx)
	defer cancel()

	first := newReq()
	if err := ss.RecvMsg(first); err != nil {
		if !errors.Is(err, io.EOF) {
			return err
		}
		if !m.Desc().IsStreamingClient() {
			return status.Error(codes.InvalidArgument, "missing request message")
		}
		first = nil // a client stream of no messages
	}
	cs, err := t.client.conn.NewStream(callCtx, m.StreamDesc(), m.FullMethod())
	if err != nil {
		return integrations.Sanitize(err, false)
	}
	catalog.StreamOpened(ss.Context())
	if first != nil {
		if err := cs.SendMsg(first); err != nil && !errors.Is(err, io.EOF) {
			return integrations.Sanitize(err, true)
		}
	}
	if first == nil || !m.Desc().IsStreamingClient() {
		if err := cs.CloseSend(); err != nil {
			return integrations.Sanitize(err, true)
		}
		return i.pumpDown(m, ss, cs, nil, cancel, raw)
	}

	// Client -> backend, for the rest of the client's messages.
	upErr := make(chan error, 1)
	go func() {
		defer func() {
			if v := recover(); v != nil {
				upErr <- pipeline.Panicked(i.log, m.FullMethod(), v)
				cancel()
			}
		}()
		for {
			req := newReq()
			if err := ss.RecvMsg(req); err != nil {
				if errors.Is(err, io.EOF) {
					upErr <- cs.CloseSend()
					return
				}
				upErr <- err
				cancel() // abandon the backend call
				return
			}
			if err := cs.SendMsg(req); err != nil {
				// io.EOF means the backend ended the call; its status comes
				// from RecvMsg below.
				if errors.Is(err, io.EOF) {
					upErr <- nil
				} else {
					upErr <- err
				}
				return
			}
		}
	}()

	return i.pumpDown(m, ss, cs, upErr, cancel, raw)
}

// errNotSampled is the outcome a stream reports to the limiter: not a
// latency sample.
var errNotSampled = errors.New("stream: not a latency sample")

// pumpDown forwards the backend's header, messages and trailer to ss.
// upErr, when not nil, reports how forwarding the client's messages ended.
// Each response is received as bytes and parsed with the method's
// response type (or sent on as bytes when raw).
func (i *Integration) pumpDown(m *catalog.Method, ss grpc.ServerStream, cs grpc.ClientStream, upErr <-chan error, cancel context.CancelFunc, raw bool) error {
	header, herr := cs.Header()
	if herr == nil && len(header) > 0 {
		if err := ss.SendHeader(header); err != nil {
			cancel()
			return err
		}
	}
	for {
		f := &codec.Frame{}
		err := cs.RecvMsg(f)
		if err != nil {
			ss.SetTrailer(cs.Trailer())
			// A client-side failure (bad message, validation) explains the
			// cancelled backend call better than the cancellation does.
			select {
			case uerr := <-upErr:
				if uerr != nil && !errors.Is(err, io.EOF) {
					return uerr
				}
			default:
			}
			if errors.Is(err, io.EOF) {
				return nil
			}
			// The stream was opened on a live transport, so a status here
			// is the backend's own.
			return integrations.Sanitize(err, true)
		}
		var resp any = f
		if !raw {
			msg, perr := m.ParseResponse(f.Bytes(), responseRecursionLimit)
			f.Free()
			if perr != nil {
				cancel()
				return errMalformedResponse
			}
			resp = msg
		}
		err = ss.SendMsg(resp)
		if raw {
			f.Free()
		}
		if err != nil {
			cancel()
			return err
		}
	}
}
