package server

import (
	"encoding/base64"
	"errors"
	"fmt"
	"net/http"
	"sort"
	"strings"

	"github.com/portico-gw/portico/call"
	"github.com/portico-gw/portico/catalog"
	"github.com/portico-gw/portico/catalog/httprule"
	"github.com/portico-gw/portico/config"
	configv1 "github.com/portico-gw/portico/gen/portico/config/v1"
	"github.com/portico-gw/portico/integrations"
	"github.com/portico-gw/portico/integrations/httpbackend"
	"github.com/portico-gw/portico/pipeline"
	"github.com/portico-gw/portico/transcoder"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/metadata"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/reflect/protodesc"
	"google.golang.org/protobuf/reflect/protoregistry"
	"google.golang.org/protobuf/types/descriptorpb"
	"google.golang.org/protobuf/types/known/emptypb"
)

// Plain HTTP routes (routes[]) pass through the same decisions as proto
// methods — the shape:
//
//   - What runs before routing applies to them as to every REST request:
//     they sit inside the traffic edge (client address, global allow/deny,
//     CORS, CSRF) and inside the REST door's HTTP middleware (telemetry).
//   - Each route gets an identity the pipeline understands: a synthetic
//     method, routes[i] being portico.routes.Routes.Route<i> (a
//     *catalog.Method whose descriptor comes from a small descriptor made
//     here; request and response google.protobuf.Empty). Its gates are
//     compiled by pipeline.New from the very policies the snapshot built
//     for proto methods, so authentication, rate limits and network rules
//     apply to routes as soon as those policies exist. A policy kind tells
//     a route from a method with routeOf(cfg, m) and then reads the route's
//     own settings (routes[i].auth, .rate_limits, .network) instead of an
//     API's.
//   - Only gates run: a route has no message to decode, validate,
//     authorize on fields or map. What gates add to the incoming metadata
//     for the backend (the caller's identity) becomes request headers; the
//     names Portico reserves for that are removed from what the client
//     sent. Headers policies set for the response (Retry-After,
//     RateLimit-*) are added to the backend's response.
//   - Fail closed: a route that declares auth, rate_limits or network
//     rules but gets no gate from the policies is a config error, so a
//     route is never open by mistake.
//   - Routes take precedence over proto methods for paths under their
//     prefix; a prefix that covers a method's HTTP route is a config error.

// routesService is the full name of the synthetic service whose methods
// stand for the plain HTTP routes.
const routesService = "portico.routes.Routes"

// routeOf reports whether m stands for a plain HTTP route and returns the
// route's config and index. Policy kinds call it in Stage(m) to apply a
// route's own auth, rate_limits and network settings.
func routeOf(cfg *configv1.Config, m *catalog.Method) (*configv1.Route, int, bool) {
	if m == nil || m.Desc == nil || m.Desc.Parent().FullName() != routesService {
		return nil, 0, false
	}
	var i int
	if _, err := fmt.Sscanf(string(m.Desc.Name()), "Route%d", &i); err != nil || i < 0 || i >= len(cfg.GetRoutes()) {
		return nil, 0, false
	}
	return cfg.GetRoutes()[i], i, true
}

// route is one built plain HTTP route.
type route struct {
	prefix string // as configured
	match  string // the prefix without its trailing "/"
	pm     *pipeline.Method
	proxy  http.Handler
}

// routesEdge serves the config's plain HTTP routes (routes[]: prefixes
// proxied to http integrations) and hands every other request to next.
func routesEdge(b *buildEnv, next http.Handler) (http.Handler, error) {
	routes := b.cfg.Config.GetRoutes()
	if len(routes) == 0 {
		return next, nil
	}
	var problems config.Errors
	add := func(field, format string, args ...any) {
		problems = append(problems, &config.Error{Field: field, Message: fmt.Sprintf(format, args...)})
	}
	if len(b.routeMethods) != len(routes) {
		ms, err := routeMethods(len(routes))
		if err != nil {
			return nil, err
		}
		b.routeMethods = ms
	}
	methods := b.routeMethods
	backends := make([]*httpbackend.Integration, len(routes))
	seen := map[string]int{}
	for i, r := range routes {
		where := fmt.Sprintf("routes[%d]", i)
		m := strings.TrimSuffix(r.GetPrefix(), "/")
		if first, dup := seen[m]; dup {
			add(where+".prefix", "%q is also the prefix of routes[%d]", r.GetPrefix(), first)
		}
		seen[m] = i
		be := b.snap.Integration(r.GetIntegration())
		hb, ok := be.(*httpbackend.Integration)
		switch {
		case be == nil:
			add(where+".integration", "unknown integration %q", r.GetIntegration())
		case !ok:
			add(where+".integration", "%q is not an http integration (routes are proxied to http integrations)", r.GetIntegration())
		}
		backends[i] = hb
		methods[i].Backend, methods[i].BackendName = be, r.GetIntegration()
		for _, cm := range b.catalog.MethodList() {
			for _, bd := range cm.Bindings {
				if p := samplePath(bd.Template); covers(m, p) {
					add(where+".prefix", "%q covers %s %s (method %s): a route takes precedence, so the method would be unreachable",
						r.GetPrefix(), bd.HTTPMethod, bd.Template.Raw, cm.Desc.FullName())
				}
			}
		}
	}
	if len(problems) > 0 {
		return nil, problems
	}
	pl, err := pipeline.New(methods, pipeline.Options{Logger: b.opts.Logger}, b.policies...)
	if err != nil {
		return nil, asConfigErrors(err, "routes")
	}
	h := &routesHandler{next: next, snap: b.snap, reserved: b.reserved, maxBody: b.snap.Limits.MaxBodyBytes}
	for i, r := range routes {
		pm := pl.Method(methods[i].FullMethod)
		if declaresGates(r) && !pm.HasGate() {
			add(fmt.Sprintf("routes[%d]", i), "declares auth, rate_limits or network rules, but no policy gates it (routes fail closed)")
			continue
		}
		rt := &route{prefix: r.GetPrefix(), match: strings.TrimSuffix(r.GetPrefix(), "/"), pm: pm}
		rt.proxy = backends[i].Proxy(r.GetPrefix(), r.GetStripPrefix(), h.proxyError, h.policyHeaders)
		h.routes = append(h.routes, rt)
	}
	if len(problems) > 0 {
		return nil, problems
	}
	// The longest prefix first: /api/v2/ before /api/.
	sort.SliceStable(h.routes, func(i, j int) bool { return len(h.routes[i].match) > len(h.routes[j].match) })
	return h, nil
}

// declaresGates reports whether a route asks for decisions a policy must
// make.
func declaresGates(r *configv1.Route) bool {
	a := r.GetAuth()
	return a != nil && !a.GetPublic() && (len(a.GetProviders()) > 0 || a.GetRequire() != "") ||
		len(r.GetRateLimits()) > 0 ||
		len(r.GetNetwork().GetAllow()) > 0 || len(r.GetNetwork().GetDeny()) > 0
}

// covers reports whether a route prefix (without its trailing "/")
// matches path.
func covers(prefix, path string) bool {
	return prefix == "" || path == prefix || strings.HasPrefix(path, prefix+"/")
}

// samplePath is a path a template matches: its wildcards filled in.
func samplePath(t *httprule.Template) string {
	var b strings.Builder
	for _, s := range t.Segments {
		b.WriteByte('/')
		if s.Kind == httprule.Literal {
			b.WriteString(s.Literal)
		} else {
			b.WriteString("x")
		}
	}
	if t.Verb != "" {
		b.WriteString(":" + t.Verb)
	}
	return b.String()
}

// routeMethods makes the synthetic methods of n routes.
func routeMethods(n int) ([]*catalog.Method, error) {
	svc := &descriptorpb.ServiceDescriptorProto{Name: proto.String("Routes")}
	for i := range n {
		svc.Method = append(svc.Method, &descriptorpb.MethodDescriptorProto{
			Name:       proto.String(fmt.Sprintf("Route%d", i)),
			InputType:  proto.String(".google.protobuf.Empty"),
			OutputType: proto.String(".google.protobuf.Empty"),
		})
	}
	fdp := &descriptorpb.FileDescriptorProto{
		Name:       proto.String("portico/routes/routes.proto"),
		Package:    proto.String("portico.routes"),
		Syntax:     proto.String("proto3"),
		Dependency: []string{"google/protobuf/empty.proto"},
		Service:    []*descriptorpb.ServiceDescriptorProto{svc},
	}
	fd, err := protodesc.NewFile(fdp, protoregistry.GlobalFiles)
	if err != nil {
		return nil, err
	}
	empty := (&emptypb.Empty{}).ProtoReflect().Type()
	ms := fd.Services().Get(0).Methods()
	out := make([]*catalog.Method, n)
	for i := range n {
		md := ms.Get(i)
		m := &catalog.Method{
			Desc:       md,
			FullMethod: fmt.Sprintf("/%s/%s", routesService, md.Name()),
			Input:      empty,
			Output:     empty,
			StreamDesc: grpc.StreamDesc{StreamName: string(md.Name())},
		}
		m.UnaryInfo = &grpc.UnaryServerInfo{Server: m, FullMethod: m.FullMethod}
		m.StreamInfo = &grpc.StreamServerInfo{FullMethod: m.FullMethod}
		out[i] = m
	}
	return out, nil
}

// routesHandler matches requests against the routes' prefixes.
type routesHandler struct {
	routes   []*route
	next     http.Handler
	snap     *Snapshot
	reserved func(string) bool
	maxBody  int64
}

func (h *routesHandler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	rt := h.find(r.URL.Path)
	if rt == nil {
		h.next.ServeHTTP(w, r)
		return
	}
	info := call.FromContext(r.Context())
	if info == nil {
		info = transcoder.NewInfo(r)
		r = r.WithContext(transcoder.WithInfo(r.Context(), info))
	}
	info.Method = rt.pm.Method
	info.Route = rt.prefix

	out := r
	if rt.pm.HasGate() {
		// The gates see the request; what they add for the backend goes
		// in this metadata.
		ctx, err := rt.pm.Gate(metadata.NewIncomingContext(r.Context(), metadata.MD{}), info)
		if err != nil {
			h.snap.REST.WriteError(w, r, err)
			return
		}
		out = r.WithContext(ctx)
		md, _ := metadata.FromIncomingContext(ctx)
		out.Header = h.backendHeaders(r.Header, md)
	} else if h.hasReserved(r.Header) {
		out = r.WithContext(r.Context())
		out.Header = h.backendHeaders(r.Header, nil)
	}
	if h.maxBody > 0 && r.Body != nil && r.Body != http.NoBody {
		if out == r {
			out = r.WithContext(r.Context())
		}
		out.Body = http.MaxBytesReader(w, r.Body, h.maxBody)
	}
	rt.proxy.ServeHTTP(w, out)
}

// find returns the route whose prefix matches path, the longest first.
func (h *routesHandler) find(path string) *route {
	for _, rt := range h.routes {
		if covers(rt.match, path) {
			return rt
		}
	}
	return nil
}

// reservedName reports whether a header name (any case) is one Portico
// sets for backends.
func (h *routesHandler) reservedName(k string) bool {
	if len(k) >= len(integrations.ReservedPrefix) && strings.EqualFold(k[:len(integrations.ReservedPrefix)], integrations.ReservedPrefix) {
		return true
	}
	return h.reserved != nil && h.reserved(strings.ToLower(k))
}

// hasReserved reports whether the client sent a reserved name.
func (h *routesHandler) hasReserved(in http.Header) bool {
	for k := range in {
		if h.reservedName(k) {
			return true
		}
	}
	return false
}

// backendHeaders are the client's headers without the names Portico
// reserves for identity, plus what the gates set for the backend (md).
func (h *routesHandler) backendHeaders(in http.Header, md metadata.MD) http.Header {
	out := make(http.Header, len(in)+len(md))
	for k, vs := range in {
		if !h.reservedName(k) {
			out[k] = vs
		}
	}
	for k, vs := range md {
		out.Del(k)
		for _, v := range vs {
			if strings.HasSuffix(k, "-bin") {
				v = base64.StdEncoding.EncodeToString([]byte(v))
			}
			out.Add(k, v)
		}
	}
	return out
}

// proxyError answers a request the backend did not answer, in the REST
// door's JSON error format.
func (h *routesHandler) proxyError(w http.ResponseWriter, r *http.Request, err error) {
	var mbe *http.MaxBytesError
	if errors.As(err, &mbe) {
		h.snap.REST.WriteError(w, r, transcoder.HTTPStatus(http.StatusRequestEntityTooLarge,
			status.Newf(codes.ResourceExhausted, "request body larger than %d bytes", h.maxBody)))
		return
	}
	code, st := httpbackend.ProxyError(r.Context(), err)
	h.snap.REST.WriteError(w, r, transcoder.HTTPStatus(code, st))
}

// policyHeaders adds the response headers policies set to the backend's
// response.
func (h *routesHandler) policyHeaders(resp *http.Response) error {
	if info := call.FromContext(resp.Request.Context()); info != nil {
		for k, vs := range info.ResponseHeader() {
			resp.Header[k] = vs
		}
	}
	return nil
}
