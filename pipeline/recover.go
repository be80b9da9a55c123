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

// Recover turns a panic anywhere below it into an INTERNAL status with a
// plain message (the panic value is logged, never sent to the client).
func Recover(log *slog.Logger) (grpc.UnaryServerInterceptor, grpc.StreamServerInterceptor) {
	report := func(method string, v any) error {
		log.Error("panic in call", "method", method, "panic", v, "stack", string(debug.Stack()))
		return status.Error(codes.Internal, "internal error")
	}
	unary := func(ctx context.Context, req any, info *grpc.UnaryServerInfo, h grpc.UnaryHandler) (resp any, err error) {
		defer func() {
			if v := recover(); v != nil {
				resp, err = nil, report(info.FullMethod, v)
			}
		}()
		return h(ctx, req)
	}
	stream := func(srv any, ss grpc.ServerStream, info *grpc.StreamServerInfo, h grpc.StreamHandler) (err error) {
		defer func() {
			if v := recover(); v != nil {
				err = report(info.FullMethod, v)
			}
		}()
		return h(srv, ss)
	}
	return unary, stream
}
