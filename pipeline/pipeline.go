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
	"errors"
	"fmt"
	"log/slog"

	"github.com/portico-gw/portico/call"
	"github.com/portico-gw/portico/catalog"
	"github.com/portico-gw/portico/config"
	"google.golang.org/grpc"
	"google.golang.org/protobuf/proto"
)

// Gate decides on a call before its body is read. It returns the context
// the call goes on with (a policy may add to it), or a status error that
// ends the call.
type Gate func(ctx context.Context, c *call.Info) (context.Context, error)

// Stage is what one policy does for one method (or plain route). Any part
// may be nil. Early gates run first, in the order of the policies; then
// the Gates, in the same order; then, once the request is decoded, the
// interceptors, the first policy's outermost.
type Stage struct {
	// Early decides on the client's address alone (network rules,
	// per-address rate limits), before any Gate: a call a later gate
	// refuses (a failed authentication) has been seen by it.
	Early Gate
	// Gate decides on headers, peer and method, before the body is read.
	Gate Gate
	// Unary and Stream run on the decoded request.
	Unary  grpc.UnaryServerInterceptor
	Stream grpc.StreamServerInterceptor
	// RequestOnly says Unary reads the request alone and returns the
	// response its handler returned, as it is (validation): the response
	// may then stay wire bytes (Method.WireResponse).
	RequestOnly bool
}

// Policy is one kind of policy. For each method it returns its Stage, or
// the zero Stage when it does nothing for that method; an error is a
// configuration error found when the snapshot is built.
type Policy interface {
	Stage(m *catalog.Method) (Stage, error)
}

// RoutePolicy is a Policy that applies to plain HTTP routes too (the
// catalog's PlainRoutes): it gates them like methods. Only gates apply: a
// route has no message to decode, so interceptors are an error.
type RoutePolicy interface {
	Policy
	RouteStage(r *catalog.PlainRoute) (Stage, error)
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
	// Routes are the plain HTTP routes to compile gates for (their
	// policies are those that implement RoutePolicy).
	Routes []*catalog.PlainRoute
}

// Pipeline holds every exposed method's compiled chain, and every plain
// route's gates. It is immutable.
type Pipeline struct {
	methods map[string]*Method
	routes  map[*catalog.PlainRoute]*Route
}

// New compiles the chains of methods (and the gates of opts.Routes):
// policies run in the order given, the first outermost. The error is a
// config.Errors: each policy's problems for a method, located at the key
// its policy gives, or at the method's API.
func New(methods []*catalog.Method, opts Options, policies ...Policy) (*Pipeline, error) {
	if opts.Logger == nil {
		opts.Logger = slog.Default()
	}
	p := &Pipeline{methods: make(map[string]*Method, len(methods)), routes: make(map[*catalog.PlainRoute]*Route, len(opts.Routes))}
	var errs config.Errors
	for _, m := range methods {
		pm := &Method{Method: m, log: opts.Logger}
		var unary []grpc.UnaryServerInterceptor
		var stream []grpc.StreamServerInterceptor
		pm.wireResponse = true
		for _, pol := range policies {
			st, err := pol.Stage(m)
			if err != nil {
				errs = append(errs, located(err, apiWhere(m), "method "+string(m.Desc().FullName()))...)
				continue
			}
			pm.gates.add(st)
			if st.Unary != nil {
				unary = append(unary, st.Unary)
				pm.wireResponse = pm.wireResponse && st.RequestOnly
			}
			if st.Stream != nil {
				stream = append(stream, st.Stream)
			}
		}
		pm.unary = chainUnary(unary)
		pm.stream = chainStream(stream)
		p.methods[m.FullMethod()] = pm
	}
	for _, r := range opts.Routes {
		pr := &Route{PlainRoute: r, log: opts.Logger}
		for _, pol := range policies {
			rp, ok := pol.(RoutePolicy)
			if !ok {
				continue
			}
			st, err := rp.RouteStage(r)
			if err == nil && (st.Unary != nil || st.Stream != nil) {
				err = fmt.Errorf("a plain HTTP route has no message for an interceptor")
			}
			if err != nil {
				errs = append(errs, located(err, r.Where, "")...)
				continue
			}
			pr.gates.add(st)
		}
		p.routes[r] = pr
	}
	if len(errs) > 0 {
		return nil, errs
	}
	return p, nil
}

// apiWhere is the key path of a method's API, for its unlocated errors.
func apiWhere(m *catalog.Method) string {
	if a := m.API(); a != nil && a.Where != "" {
		return a.Where
	}
	return "apis"
}

// located returns err as config problems: as they are when err is
// config.Errors, else one at where (prefixed with what).
func located(err error, where, what string) config.Errors {
	var ce config.Errors
	if errors.As(err, &ce) {
		return ce
	}
	msg := err.Error()
	if what != "" {
		msg = what + ": " + msg
	}
	return config.Errors{{Field: where, Message: msg}}
}

// Method returns the compiled method for a gRPC path
// ("/package.Service/Method"), or nil.
func (p *Pipeline) Method(fullMethod string) *Method { return p.methods[fullMethod] }

// Route returns the compiled gates of a plain route, or nil.
func (p *Pipeline) Route(r *catalog.PlainRoute) *Route { return p.routes[r] }

// Method is one method with its compiled chain.
type Method struct {
	*catalog.Method
	gates  gates
	unary  grpc.UnaryServerInterceptor
	stream grpc.StreamServerInterceptor
	log    *slog.Logger
	// wireResponse: no unary interceptor reads or replaces the response.
	wireResponse bool
}

// HasGate reports whether any policy gates the method.
func (m *Method) HasGate() bool { return m.gates.any() }

// Opaque reports whether no interceptor needs the method's messages: only
// gates (which read headers, peer and method) apply to it. Such a call
// can be forwarded as wire bytes, decoding nothing.
func (m *Method) Opaque() bool { return m.unary == nil && m.stream == nil }

// WireResponse reports whether no unary interceptor reads or replaces
// the method's response (each is Stage.RequestOnly, or there is none): a
// door that answers in wire bytes may have the backend's response
// forwarded as it came (UnaryVia), not decoded and encoded again.
func (m *Method) WireResponse() bool { return m.wireResponse }

// Gate runs the method's gates in order (the early ones first); the
// first refusal ends the call.
func (m *Method) Gate(ctx context.Context, c *call.Info) (_ context.Context, err error) {
	defer m.recoverInto(&err)
	return m.gates.run(ctx, c)
}

// Unary runs a unary or server-streaming call whose request a door has
// decoded: the interceptors, then the backend. The result is the
// backend's response or a status error.
func (m *Method) Unary(ctx context.Context, req proto.Message) (resp proto.Message, err error) {
	defer m.recoverInto(&err)
	backend := func(ctx context.Context, req any) (any, error) {
		return m.Backend().Unary(ctx, m.Method, req.(proto.Message))
	}
	var out any
	if m.unary == nil {
		out, err = backend(ctx, req)
	} else {
		out, err = m.unary(ctx, req, m.UnaryInfo(), backend)
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

// UnaryVia runs a unary call whose request a door has decoded through
// the interceptors to backend, which calls the backend its own way (the
// gRPC door: the response as wire bytes, when WireResponse). The result
// is backend's, or a status error.
func (m *Method) UnaryVia(ctx context.Context, req proto.Message, backend grpc.UnaryHandler) (out any, err error) {
	defer m.recoverInto(&err)
	if m.unary == nil {
		out, err = backend(ctx, req)
	} else {
		out, err = m.unary(ctx, req, m.UnaryInfo(), backend)
	}
	if err == nil && out == nil {
		return nil, errNoResponse
	}
	return out, err
}

// Stream runs a streaming call over ss.
func (m *Method) Stream(ss grpc.ServerStream) (err error) {
	defer m.recoverInto(&err)
	backend := func(_ any, ss grpc.ServerStream) error {
		return m.Backend().Stream(ss.Context(), m.Method, ss)
	}
	if m.stream == nil {
		return backend(m.Method, ss)
	}
	return m.stream(m.Method, ss, m.StreamInfo(), backend)
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
