package snapshot

import (
	"net/http"
	"slices"
	"sort"

	"github.com/portico-gw/portico/call"
	"github.com/portico-gw/portico/webprotocols"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"github.com/portico-gw/portico/catalog"
	"github.com/portico-gw/portico/crossorigin"
	configv1 "github.com/portico-gw/portico/gen/portico/config/v1"
	"github.com/portico-gw/portico/pipeline"
	"github.com/portico-gw/portico/plainroutes"
	"github.com/portico-gw/portico/responsemap"
	"github.com/portico-gw/portico/transcoder"
)

// restOptions are the REST door's options: the build's, with the
// config's settings and limits where the build set none, and what the
// policies give the door (a response mapping's HTTP choices).
func restOptions(opts Options, c *configv1.Config, s *Snapshot, policies []pipeline.Policy) transcoder.Options {
	o := opts.REST
	lim := s.limits
	o.ForwardHeaders = append(o.ForwardHeaders, c.GetRest().GetForwardHeaders()...)
	o.HTTPBodyCSP = c.GetRest().GetHttpBodyContentSecurityPolicy()
	if o.MaxBodyBytes == 0 {
		o.MaxBodyBytes = lim.MaxBodyBytes
	}
	if o.MaxPathBytes == 0 {
		o.MaxPathBytes = lim.MaxPathBytes
	}
	if o.MaxJSONDepth == 0 {
		o.MaxJSONDepth = lim.MaxJSONDepth
	}
	if o.MaxJSONValues == 0 {
		o.MaxJSONValues = lim.MaxJSONValues
	}
	if o.MaxQueryParams == 0 {
		o.MaxQueryParams = lim.MaxQueryParams
	}
	if o.BodyTimeout == 0 {
		o.BodyTimeout = lim.BodyTimeout
		if o.BodyTimeout == 0 {
			o.BodyTimeout = -1 // configured off
		}
	}
	if o.WriteTimeout == 0 {
		o.WriteTimeout = lim.WriteTimeout
		if o.WriteTimeout == 0 {
			o.WriteTimeout = -1
		}
	}
	o.RecursionLimit = lim.RecursionLimit()
	if o.Reserved == nil {
		o.Reserved = s.reserved
	}
	if o.Logger == nil {
		o.Logger = opts.Logger
	}
	if o.WebSocketOrigins == nil {
		// The origins whose pages may open a WebSocket on a stream.
		o.WebSocketOrigins = c.GetCors().GetAllowedOrigins()
	}
	for _, p := range policies {
		// The response mapping kind also shapes what only HTTP has:
		// status overrides and problem+json errors.
		if rm, ok := p.(interface {
			Mapping(*catalog.Method) *responsemap.Mapping
		}); ok && o.Response == nil {
			o.Response = rm.Mapping
		}
	}
	return o
}

// restEdges wraps the REST door in what runs before routing, outermost
// first: the request ID, the client's address and the global network
// rules, CORS (a preflight answered before authentication) and the CSRF
// check, gRPC-Web and Connect (outerEdges), the plain HTTP routes,
// compression, the API documentation. Each returns what it wraps
// unchanged when the config does not use it.
func restEdges(s *Snapshot) (http.Handler, error) {
	onError := s.rest.WriteError
	next, err := docsEdge(s, s.rest)
	if err != nil {
		return nil, err
	}
	// Compression for what the gateway answers itself; plain routes pass
	// their bodies and codings through to their backends as they are.
	if next, err = s.compress.Handler(next, onError); err != nil {
		return nil, err
	}
	next, err = plainroutes.New(next, plainroutes.Options{
		Catalog: s.catalog, Pipeline: s.pipeline, Backend: s.Integration, Reserved: s.reserved,
		MaxBodyBytes: s.limits.MaxBodyBytes, OnError: onError,
	})
	if err != nil {
		return nil, err
	}
	return outerEdges(s, next)
}

// outerEdges wraps next in the edges every request of both listeners'
// HTTP doors runs, outermost first: the request ID, the client's address
// and the global network rules, CORS and CSRF, then gRPC-Web and Connect
// (handed to the gRPC door), next taking the rest.
func outerEdges(s *Snapshot, next http.Handler) (http.Handler, error) {
	c := s.config.Config
	next = s.web.Handler(next)
	var expose, allow []string
	if len(c.GetRateLimits().GetPolicies()) > 0 || len(c.GetUsagePlans()) > 0 {
		expose = []string{"RateLimit", "RateLimit-Policy", "Retry-After"}
	}
	if s.ids != nil {
		// A page's script may read the ID to quote it.
		expose = append(expose, s.ids.Header())
	}
	methods := restMethods(s.catalog)
	if s.web != nil {
		expose = append(expose, webprotocols.ExposedHeaders()...)
		allow = webprotocols.AllowedHeaders()
		methods = slices.Compact(slices.Sorted(slices.Values(append(methods, http.MethodGet, http.MethodPost))))
	}
	next, err := crossorigin.NewEdge(c.GetCors(), crossorigin.CORSOptions{Methods: methods, Expose: expose, Allow: allow}, next, s.rest.WriteError)
	if err != nil {
		return nil, err
	}
	// The request ID first: every answer carries it, refusals included.
	return s.ids.Handler(s.edge.Handler(next, s.rest.WriteError)), nil
}

// webOnly is what the gRPC listener's HTTP/1.1 connections get besides
// gRPC-Web and Connect: a 404 (REST is the REST listener's).
func webOnly(s *Snapshot) (http.Handler, error) {
	return outerEdges(s, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		s.rest.WriteError(w, r, call.WithHTTPStatus(http.StatusNotFound,
			status.New(codes.NotFound, "this listener serves gRPC, gRPC-Web and Connect; REST is served on listen.http")))
	}))
}

// restMethods are the HTTP methods the REST door serves, for CORS
// preflights: those of the exposed methods' bindings, and the standard
// ones when plain HTTP routes (any method) are configured.
func restMethods(cat *catalog.Catalog) []string {
	set := map[string]bool{}
	if len(cat.Routes()) > 0 {
		for _, m := range crossorigin.StandardMethods() {
			set[m] = true
		}
	}
	for _, m := range cat.MethodList() {
		for _, bd := range m.Bindings() {
			set[bd.HTTPMethod] = true
		}
	}
	out := make([]string, 0, len(set))
	for m := range set {
		out = append(out, m)
	}
	sort.Strings(out)
	return out
}
