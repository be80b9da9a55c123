package catalog

import (
	"fmt"

	"buf.build/go/hyperpb"
	"github.com/portico-gw/portico/codec"
	"google.golang.org/grpc"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/reflect/protoreflect"
	"google.golang.org/protobuf/types/dynamicpb"
)

// Method is one exposed gRPC method with everything prepared for calls.
type Method struct {
	// Desc is the method's descriptor.
	Desc protoreflect.MethodDescriptor
	// FullMethod is the gRPC path, "/package.Service/Method".
	FullMethod string
	// Input and Output build request and response messages: the generated
	// Go type when one is linked in and matches the descriptor, dynamicpb
	// otherwise.
	Input, Output protoreflect.MessageType
	// Response parses backend responses: Output when it is a generated
	// type; for a type known only from descriptors, hyperpb's compiled
	// parser (read-only messages, about ten times faster than dynamicpb),
	// built once here. Use ParseResponse, which falls back to Output.
	Response protoreflect.MessageType
	// Backend serves the method.
	Backend Backend
	// BackendName is the integration's name.
	BackendName string
	// Bindings are the method's HTTP bindings (empty: gRPC only).
	Bindings []*Binding
	// StreamDesc describes the method's streaming shape for grpc-go.
	StreamDesc grpc.StreamDesc
	// UnaryInfo and StreamInfo are handed to interceptors; their Server
	// field is this *Method, so interceptors can read prepared policy.
	UnaryInfo  *grpc.UnaryServerInfo
	StreamInfo *grpc.StreamServerInfo

	api       *API
	overrides []Override
}

// API returns the apis[] entry that exposes the method (nil for a method
// made outside a catalog).
func (m *Method) API() *API { return m.api }

// Overrides returns the apis[].methods[] entries that name the method, in
// config order: its own settings over its API's.
func (m *Method) Overrides() []Override { return m.overrides }

// Streaming reports whether either side streams.
func (m *Method) Streaming() bool {
	return m.Desc.IsStreamingClient() || m.Desc.IsStreamingServer()
}

func newMethod(md protoreflect.MethodDescriptor, api *API, types *typeResolver) (*Method, error) {
	in, err := types.messageType(md.Input())
	if err != nil {
		return nil, fmt.Errorf("method %s: %v", md.FullName(), err)
	}
	out, err := types.messageType(md.Output())
	if err != nil {
		return nil, fmt.Errorf("method %s: %v", md.FullName(), err)
	}
	full := fmt.Sprintf("/%s/%s", md.Parent().FullName(), md.Name())
	m := &Method{
		Desc:        md,
		FullMethod:  full,
		Input:       in,
		Output:      out,
		Backend:     api.Backend,
		BackendName: api.BackendName,
		api:         api,
		StreamDesc: grpc.StreamDesc{
			StreamName:    string(md.Name()),
			ServerStreams: md.IsStreamingServer(),
			ClientStreams: md.IsStreamingClient(),
		},
	}
	m.Response = out
	if out == dynamicpb.NewMessageType(md.Output()) {
		m.Response = hyperpb.CompileMessageDescriptor(md.Output())
	}
	m.UnaryInfo = &grpc.UnaryServerInfo{Server: m, FullMethod: full}
	m.StreamInfo = &grpc.StreamServerInfo{
		FullMethod:     full,
		IsClientStream: md.IsStreamingClient(),
		IsServerStream: md.IsStreamingServer(),
	}
	return m, nil
}

// ParseResponse decodes a backend's response message from its wire bytes
// with the method's Response type, falling back to Output for the rare
// input hyperpb refuses (it rejects some valid unknown fields). It never
// panics; a message neither can parse is an error.
func (m *Method) ParseResponse(b []byte, recursionLimit int) (proto.Message, error) {
	resp := m.Response.New().Interface()
	err := codec.Decode(b, resp, recursionLimit)
	if err == nil || m.Response == m.Output {
		return resp, err
	}
	resp = m.Output.New().Interface()
	if err := codec.Decode(b, resp, recursionLimit); err != nil {
		return nil, err
	}
	return resp, nil
}

// MethodFromInfo returns the *Method an interceptor was handed, or nil when
// the call did not come through the catalog.
func MethodFromInfo(server any) *Method {
	m, _ := server.(*Method)
	return m
}
