package pipeline

import (
	"context"
	"log/slog"
	"runtime/debug"

	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
)

var errNoResponse = status.Error(codes.Internal, "internal error")

// recoverInto turns a panic in a call into an INTERNAL status with a plain
// message; the panic value and stack go to the log, never to the client.
// Every Method entry point defers it, so no policy or backend can take the
// process down.
func (m *Method) recoverInto(err *error) {
	if v := recover(); v != nil {
		*err = Panicked(m.log, m.FullMethod(), v)
	}
}

// Panicked logs a recovered panic value and returns the status a client
// gets for it. Doors and stream goroutines use it around what they run
// outside a Method.
func Panicked(log *slog.Logger, method string, v any) error {
	log.Error("panic in call", "method", method, "panic", v, "stack", string(debug.Stack()))
	return status.Error(codes.Internal, "internal error")
}

// Recover returns interceptors that turn a panic below them into an
// INTERNAL status, for chains assembled outside a Pipeline.
func Recover(log *slog.Logger) (grpc.UnaryServerInterceptor, grpc.StreamServerInterceptor) {
	unary := func(ctx context.Context, req any, info *grpc.UnaryServerInfo, h grpc.UnaryHandler) (resp any, err error) {
		defer func() {
			if v := recover(); v != nil {
				resp, err = nil, Panicked(log, info.FullMethod, v)
			}
		}()
		return h(ctx, req)
	}
	stream := func(srv any, ss grpc.ServerStream, info *grpc.StreamServerInfo, h grpc.StreamHandler) (err error) {
		defer func() {
			if v := recover(); v != nil {
				err = Panicked(log, info.FullMethod, v)
			}
		}()
		return h(srv, ss)
	}
	return unary, stream
}
