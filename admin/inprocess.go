package admin

import (
	"context"

	"github.com/portico-gw/portico/catalog"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/proto"
)

// InProcess is a catalog.Backend that serves a gRPC service implemented
// in this process, through the handlers protoc-gen-go-grpc generates (its
// grpc.ServiceDesc): a call goes through a door and the pipeline like any
// other and ends in the implementation, with no connection in between.
type InProcess struct {
	impl    any
	unary   map[string]grpc.MethodDesc
	streams map[string]grpc.StreamDesc
}

// NewInProcess serves impl, which implements desc's service.
func NewInProcess(desc *grpc.ServiceDesc, impl any) *InProcess {
	b := &InProcess{impl: impl, unary: map[string]grpc.MethodDesc{}, streams: map[string]grpc.StreamDesc{}}
	for _, m := range desc.Methods {
		b.unary[m.MethodName] = m
	}
	for _, s := range desc.Streams {
		b.streams[s.StreamName] = s
	}
	return b
}

// Unary calls the implementation's method with req.
func (b *InProcess) Unary(ctx context.Context, m *catalog.Method, req proto.Message) (proto.Message, error) {
	md, ok := b.unary[string(m.Desc().Name())]
	if !ok {
		return nil, status.Errorf(codes.Unimplemented, "method %s is not implemented", m.FullMethod())
	}
	dec := func(v any) error {
		into, ok := v.(proto.Message)
		if !ok {
			return status.Errorf(codes.Internal, "request type %T is not a message", v)
		}
		if into.ProtoReflect().Type() == req.ProtoReflect().Type() {
			proto.Merge(into, req)
			return nil
		}
		// The door decoded into another type with the same descriptor
		// (dynamicpb): go through the wire format.
		raw, err := proto.Marshal(req)
		if err != nil {
			return status.Errorf(codes.Internal, "encoding the request: %v", err)
		}
		return proto.Unmarshal(raw, into)
	}
	out, err := md.Handler(b.impl, ctx, dec, nil)
	if err != nil {
		return nil, err
	}
	msg, ok := out.(proto.Message)
	if !ok {
		return nil, status.Errorf(codes.Internal, "method %s answered %T, not a message", m.FullMethod(), out)
	}
	return msg, nil
}

// Stream runs the implementation's streaming method over ss.
func (b *InProcess) Stream(_ context.Context, m *catalog.Method, ss grpc.ServerStream) error {
	sd, ok := b.streams[string(m.Desc().Name())]
	if !ok {
		return status.Errorf(codes.Unimplemented, "method %s is not implemented", m.FullMethod())
	}
	return sd.Handler(b.impl, ss)
}

var _ catalog.Backend = (*InProcess)(nil)
