// Package pipeline runs calls through the gateway's interceptors and on to
// the method's backend. Both doors use it, so a policy written once applies
// to REST and gRPC alike. Interceptors have grpc-go's own shapes, so the
// ecosystem's interceptors fit.
package pipeline

import (
	"context"

	"github.com/portico-gw/portico/catalog"
	"google.golang.org/grpc"
	"google.golang.org/protobuf/proto"
)

// Pipeline is an immutable chain of interceptors.
type Pipeline struct {
	unary  grpc.UnaryServerInterceptor
	stream grpc.StreamServerInterceptor
}

// New chains the interceptors; the first one given runs outermost.
func New(unary []grpc.UnaryServerInterceptor, stream []grpc.StreamServerInterceptor) *Pipeline {
	return &Pipeline{unary: chainUnary(unary), stream: chainStream(stream)}
}

// Unary runs a unary call: req has been decoded by a door; the result is
// the backend's response or a status error.
func (p *Pipeline) Unary(ctx context.Context, m *catalog.Method, req proto.Message) (proto.Message, error) {
	resp, err := p.unary(ctx, req, m.UnaryInfo, func(ctx context.Context, req any) (any, error) {
		return m.Backend.Unary(ctx, m, req.(proto.Message))
	})
	if err != nil {
		return nil, err
	}
	out, ok := resp.(proto.Message)
	if !ok || out == nil || !out.ProtoReflect().IsValid() { // nil, or a typed nil
		return nil, errNoResponse
	}
	return out, nil
}

// Stream runs a streaming call over ss.
func (p *Pipeline) Stream(m *catalog.Method, ss grpc.ServerStream) error {
	return p.stream(m, ss, m.StreamInfo, func(_ any, ss grpc.ServerStream) error {
		return m.Backend.Stream(ss.Context(), m, ss)
	})
}

func chainUnary(ics []grpc.UnaryServerInterceptor) grpc.UnaryServerInterceptor {
	switch len(ics) {
	case 0:
		return func(ctx context.Context, req any, _ *grpc.UnaryServerInfo, h grpc.UnaryHandler) (any, error) {
			return h(ctx, req)
		}
	case 1:
		return ics[0]
	}
	return func(ctx context.Context, req any, info *grpc.UnaryServerInfo, h grpc.UnaryHandler) (any, error) {
		return ics[0](ctx, req, info, unaryStep(ics, 1, info, h))
	}
}

func unaryStep(ics []grpc.UnaryServerInterceptor, i int, info *grpc.UnaryServerInfo, final grpc.UnaryHandler) grpc.UnaryHandler {
	if i == len(ics) {
		return final
	}
	return func(ctx context.Context, req any) (any, error) {
		return ics[i](ctx, req, info, unaryStep(ics, i+1, info, final))
	}
}

func chainStream(ics []grpc.StreamServerInterceptor) grpc.StreamServerInterceptor {
	switch len(ics) {
	case 0:
		return func(srv any, ss grpc.ServerStream, _ *grpc.StreamServerInfo, h grpc.StreamHandler) error {
			return h(srv, ss)
		}
	case 1:
		return ics[0]
	}
	return func(srv any, ss grpc.ServerStream, info *grpc.StreamServerInfo, h grpc.StreamHandler) error {
		return ics[0](srv, ss, info, streamStep(ics, 1, info, h))
	}
}

func streamStep(ics []grpc.StreamServerInterceptor, i int, info *grpc.StreamServerInfo, final grpc.StreamHandler) grpc.StreamHandler {
	if i == len(ics) {
		return final
	}
	return func(srv any, ss grpc.ServerStream) error {
		return ics[i](srv, ss, info, streamStep(ics, i+1, info, final))
	}
}
