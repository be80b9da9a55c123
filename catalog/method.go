package catalog

import (
	"fmt"

	"github.com/portico-gw/portico/codec"
	"google.golang.org/grpc"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/reflect/protoreflect"
)

// Method is one exposed gRPC method with everything prepared for calls.
// It is immutable once built; its parts are read through methods.
type Method struct {
	desc        protoreflect.MethodDescriptor
	fullMethod  string
	input       protoreflect.MessageType
	output      protoreflect.MessageType
	response    protoreflect.MessageType
	backend     Backend
	backendName string
	bindings    []*Binding
	streamDesc  grpc.StreamDesc
	unaryInfo   grpc.UnaryServerInfo // in the method: one allocation a method
	streamInfo  grpc.StreamServerInfo
	api         *API
	overrides   []Override
}

// NewMethod makes a method outside a catalog (an in-process API, tests):
// its types are the generated ones linked in, dynamicpb otherwise, and
// backend serves it. It has no API and no bindings.
func NewMethod(md protoreflect.MethodDescriptor, backend Backend) (*Method, error) {
	m, err := newMethod(md, &API{Backend: backend}, newTypeResolver())
	if err != nil {
		return nil, err
	}
	m.api = nil
	return m, nil
}

// Desc is the method's descriptor.
func (m *Method) Desc() protoreflect.MethodDescriptor { return m.desc }

// FullMethod is the gRPC path, "/package.Service/Method".
func (m *Method) FullMethod() string { return m.fullMethod }

// Input builds request messages: the generated Go type when one is linked
// in and matches the descriptor, dynamicpb otherwise.
func (m *Method) Input() protoreflect.MessageType { return m.input }

// Output builds response messages, as Input does requests.
func (m *Method) Output() protoreflect.MessageType { return m.output }

// Response parses backend responses: Output when it is a generated type;
// for a type known only from descriptors, hyperpb's compiled parser
// (read-only messages, about ten times faster than dynamicpb), built once
// per message type by the catalog. Use ParseResponse, which falls back to Output.
func (m *Method) Response() protoreflect.MessageType { return m.response }

// Backend serves the method.
func (m *Method) Backend() Backend { return m.backend }

// BackendName is the integration's name.
func (m *Method) BackendName() string { return m.backendName }

// Bindings are the method's HTTP bindings (empty: gRPC only).
func (m *Method) Bindings() []*Binding { return m.bindings }

// StreamDesc describes the method's streaming shape for grpc-go.
func (m *Method) StreamDesc() *grpc.StreamDesc { return &m.streamDesc }

// UnaryInfo and StreamInfo are handed to interceptors; their Server field
// is this *Method, so interceptors can read prepared policy.
func (m *Method) UnaryInfo() *grpc.UnaryServerInfo { return &m.unaryInfo }

// StreamInfo: see UnaryInfo.
func (m *Method) StreamInfo() *grpc.StreamServerInfo { return &m.streamInfo }

// API returns the apis[] entry that exposes the method (nil for a method
// made outside a catalog).
func (m *Method) API() *API { return m.api }

// Overrides returns the apis[].methods[] entries that name the method, in
// config order: its own settings over its API's.
func (m *Method) Overrides() []Override { return m.overrides }

// Streaming reports whether either side streams.
func (m *Method) Streaming() bool {
	return m.desc.IsStreamingClient() || m.desc.IsStreamingServer()
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
	full := "/" + string(md.Parent().FullName()) + "/" + string(md.Name())
	m := &Method{
		desc:        md,
		fullMethod:  full,
		input:       in,
		output:      out,
		backend:     api.Backend,
		backendName: api.BackendName,
		api:         api,
		streamDesc: grpc.StreamDesc{
			StreamName:    string(md.Name()),
			ServerStreams: md.IsStreamingServer(),
			ClientStreams: md.IsStreamingClient(),
		},
	}
	m.response = types.responseType(md.Output(), out)
	m.unaryInfo = grpc.UnaryServerInfo{Server: m, FullMethod: full}
	m.streamInfo = grpc.StreamServerInfo{
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
	resp := m.response.New().Interface()
	err := codec.Decode(b, resp, recursionLimit)
	if err == nil || m.response == m.output {
		return resp, err
	}
	resp = m.output.New().Interface()
	if err := codec.Decode(b, resp, recursionLimit); err != nil {
		return nil, err
	}
	return resp, nil
}
