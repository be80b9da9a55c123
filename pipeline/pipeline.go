// Package pipeline runs calls through the gateway's policies and on to the
// method's backend. Both doors use it, so a policy written once applies to
// REST and gRPC alike.
//
// Each policy kind offers, for one method, a Stage: a Gate that runs on the
// call's headers, peer and method before the request body is read (network
// rules, authentication, rate limits: a refused call costs no body read
// and no decoding), and interceptors with grpc-go's own shapes that run on
// the decoded request (validation, authorization on fields), so the
// ecosystem's interceptors fit. The chains are compiled per method when the
// snapshot is built: a method no policy applies to runs an empty chain.
package pipeline

import (
	"context"
	"fmt"
	"log/slog"
	"sort"
	"strings"

	"github.com/portico-gw/portico/call"
	"github.com/portico-gw/portico/catalog"
	"google.golang.org/grpc"
	"google.golang.org/protobuf/proto"
)

// Gate decides on a call before its body is read. It returns the context
// the call goes on with (a policy may add to it), or a status error that
// ends the call.
type Gate func(ctx context.Context, c *call.Info) (context.Context, error)

// Stage is what one policy does for one method. Any part may be nil.
type Stage struct {
	Gate   Gate
	Unary  grpc.UnaryServerInterceptor
	Stream grpc.StreamServerInterceptor
}

// Policy is one kind of policy. For each method it returns its Stage, or
// the zero Stage when it does nothing for that method; an error is a
// configuration error found when the snapshot is built.
type Policy interface {
	Stage(m *catalog.Method) (Stage, error)
}

// PolicyFunc adapts a function to Policy.
type PolicyFunc func(m *catalog.Method) (Stage, error)

// Stage calls f.
func (f PolicyFunc) Stage(m *catalog.Method) (Stage, error) { return f(m) }

// Interceptors is a policy that applies the same interceptors to every
// method (ecosystem interceptors, tests).
func Interceptors(unary []grpc.UnaryServerInterceptor, stream []grpc.StreamServerInterceptor) Policy {
	u, s := chainUnary(unary), chainStream(stream)
	return PolicyFunc(func(*catalog.Method) (Stage, error) {
		return Stage{Unary: u, Stream: s}, nil
	})
}

// Options tune a Pipeline.
type Options struct {
	// Logger receives panics caught in calls. Default slog.Default().
	Logger *slog.Logger
}

// Pipeline holds every exposed method's compiled chain. It is immutable.
type Pipeline struct {
	methods map[string]*Method
}

// New compiles the chains of methods: policies run in the order given,
// the first outermost.
func New(methods []*catalog.Method, opts Options, policies ...Policy) (*Pipeline, error) {
	if opts.Logger == nil {
		opts.Logger = slog.Default()
	}
	p := &Pipeline{methods: make(map[string]*Method, len(methods))}
	var errs []string
	for _, m := range methods {
		pm := &Method{Method: m, log: opts.Logger}
		var unary []grpc.UnaryServerInterceptor
		var stream []grpc.StreamServerInterceptor
		for _, pol := range policies {
			st, err := pol.Stage(m)
			if err != nil {
				errs = append(errs, fmt.Sprintf("method %s: %v", m.Desc.FullName(), err))
				continue
			}
			if st.Gate != nil {
				pm.gates = append(pm.gates, st.Gate)
			}
			if st.Unary != nil {
				unary = append(unary, st.Unary)
			}
			if st.Stream != nil {
				stream = append(stream, st.Stream)
			}
		}
		pm.unary = chainUnary(unary)
		pm.stream = chainStream(stream)
		p.methods[m.FullMethod] = pm
	}
	if len(errs) > 0 {
		sort.Strings(errs)
		return nil, fmt.Errorf("%s", strings.Join(errs, "\n"))
	}
	return p, nil
}

// Method returns the compiled method for a gRPC path
// ("/package.Service/Method"), or nil.
func (p *Pipeline) Method(fullMethod string) *Method { return p.methods[fullMethod] }

// Method is one method with its compiled chain.
type Method struct {
	*catalog.Method
	gates  []Gate
	unary  grpc.UnaryServerInterceptor
	stream grpc.StreamServerInterceptor
	log    *slog.Logger
}

// HasGate reports whether any policy gates the method.
func (m *Method) HasGate() bool { return len(m.gates) > 0 }

// Opaque reports whether no interceptor needs the method's messages: only
// gates (which read headers, peer and method) apply to it. Such a call
// can be forwarded as wire bytes, decoding nothing.
func (m *Method) Opaque() bool { return m.unary == nil && m.stream == nil }

// Gate runs the method's gates in order; the first refusal ends the call.
func (m *Method) Gate(ctx context.Context, c *call.Info) (_ context.Context, err error) {
	defer m.recoverInto(&err)
	for _, g := range m.gates {
		if ctx, err = g(ctx, c); err != nil {
			return nil, err
		}
	}
	return ctx, nil
}

// Unary runs a unary or server-streaming call whose request a door has
// decoded: the interceptors, then the backend. The result is the
// backend's response or a status error.
func (m *Method) Unary(ctx context.Context, req proto.Message) (resp proto.Message, err error) {
	defer m.recoverInto(&err)
	backend := func(ctx context.Context, req any) (any, error) {
		return m.Backend.Unary(ctx, m.Method, req.(proto.Message))
	}
	var out any
	if m.unary == nil {
		out, err = backend(ctx, req)
	} else {
		out, err = m.unary(ctx, req, m.UnaryInfo, backend)
	}
	if err != nil {
		return nil, err
	}
	msg, ok := out.(proto.Message)
	if !ok || msg == nil || !msg.ProtoReflect().IsValid() { // nil, or a typed nil
		return nil, errNoResponse
	}
	return msg, nil
}

// Stream runs a streaming call over ss.
func (m *Method) Stream(ss grpc.ServerStream) (err error) {
	defer m.recoverInto(&err)
	backend := func(_ any, ss grpc.ServerStream) error {
		return m.Backend.Stream(ss.Context(), m.Method, ss)
	}
	if m.stream == nil {
		return backend(m.Method, ss)
	}
	return m.stream(m.Method, ss, m.StreamInfo, backend)
}

func chainUnary(ics []grpc.UnaryServerInterceptor) grpc.UnaryServerInterceptor {
	switch len(ics) {
	case 0:
		return nil
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
		return nil
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
