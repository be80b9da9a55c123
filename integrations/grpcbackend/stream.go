package grpcbackend

import (
	"context"
	"errors"
	"io"

	"github.com/portico-gw/portico/catalog"
	"google.golang.org/grpc"
)

// Stream proxies a streaming call between ss (either door) and the
// backend. Messages from the client are forwarded as they arrive; the
// backend's header is sent before its first message and its trailer is set
// when it ends.
func (i *Integration) Stream(ctx context.Context, m *catalog.Method, ss grpc.ServerStream) error {
	callCtx, cancelTimeout := i.callContext(ctx)
	defer cancelTimeout()
	callCtx, cancel := context.WithCancel(callCtx)
	defer cancel()
	cs, err := i.conn.NewStream(callCtx, &m.StreamDesc, m.FullMethod)
	if err != nil {
		return backendError(err, false)
	}

	// Client -> backend.
	upErr := make(chan error, 1)
	go func() {
		for {
			req := m.Input.New().Interface()
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

	// Backend -> client.
	header, herr := cs.Header()
	if herr == nil && len(header) > 0 {
		if err := ss.SendHeader(header); err != nil {
			cancel()
			return err
		}
	}
	for {
		resp := m.Output.New().Interface()
		err := cs.RecvMsg(resp)
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
			return backendError(err, header != nil)
		}
		if err := ss.SendMsg(resp); err != nil {
			cancel()
			return err
		}
	}
}
