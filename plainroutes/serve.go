package plainroutes

import (
	"context"
	"encoding/base64"
	"errors"
	"net/http"
	"net/url"
	"path"
	"slices"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/portico-gw/portico/call"
	"github.com/portico-gw/portico/integrations/httpbackend"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/metadata"
	"google.golang.org/grpc/status"
)

// Serving plain HTTP routes — one canonical path before any decision:
//
//   - The request's path, as sent, is read by httpbackend.ParsePath into
//     its canonical form before a route is chosen. A path a backend could
//     resolve differently (dot segments in any encoding, "//", an encoded
//     slash, a backslash, ";", an encoded "?" "#" or "%", control
//     characters, invalid UTF-8, text NFKC changes, a segment ending in
//     "." or " ") is refused with 400 when it could concern a route: when,
//     read loosely (decoded, backslashes as slashes, dot segments
//     resolved, letter case ignored), it falls under a route's prefix.
//     Other paths go on to the proto methods, whose router reads every
//     segment literally and resolves nothing.
//   - Routes are looked up on the canonical decoded path ignoring letter
//     case (case-insensitive backends exist); a path that spells the
//     prefix of the route it falls under in another case is refused with
//     400, so the route does not depend on letter case. Two prefixes that
//     differ only in case are a config error.
//   - The chosen route's gates, and the proxy, see that same path: the
//     proxy forwards its canonical encoding under the integration's base
//     path, byte for byte (httpbackend.Proxy).
//   - What the gates set for the backend (the caller's identity, an
//     authorizer's headers) and what they remove are applied last, after
//     httputil.ReverseProxy has removed the hop-by-hop headers and those
//     the client's Connection header names, in every spelling a backend
//     reads as the same name (call.HeaderName).

// routesHandler matches requests against the routes' prefixes.
type routesHandler struct {
	routes   []*route
	next     http.Handler
	onError  func(http.ResponseWriter, *http.Request, error)
	reserved func(string) bool
	maxBody  int64
}

// errCase refuses a path that spells its route's prefix in another
// letter case.
var errCase = status.Error(codes.InvalidArgument, "invalid path: it spells a route's prefix in another letter case")

func (h *routesHandler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	rt, p, err := h.match(r)
	if rt == nil && err == nil {
		h.next.ServeHTTP(w, r)
		return
	}
	info := call.FromContext(r.Context())
	if info == nil {
		info = call.NewHTTP(r)
		r = r.WithContext(call.NewHTTPContext(r.Context(), info))
	}
	if err == nil {
		err = methodOverride(r)
	}
	if err != nil {
		h.onError(w, r, err)
		return
	}
	info.PlainRoute = rt.pr.PlainRoute
	info.Route = rt.prefix

	ctx := r.Context()
	if rt.pr.HasGate() {
		// The gates see the request's headers as metadata; what they set
		// or remove for the backend is told from what they were given.
		in := h.clientMetadata(r.Header)
		gated, err := rt.pr.Gate(metadata.NewIncomingContext(ctx, in), info)
		if err != nil {
			h.onError(w, r, err)
			return
		}
		md, _ := metadata.FromIncomingContext(gated)
		ctx = context.WithValue(gated, gateChangesKey{}, changesOf(in, md))
	}
	out := r.WithContext(ctx)
	u := *r.URL
	u.Path, u.RawPath = p.Decoded, p.Escaped
	out.URL = &u
	if h.maxBody > 0 && r.Body != nil && r.Body != http.NoBody {
		out.Body = http.MaxBytesReader(w, r.Body, h.maxBody)
	}
	// The credentials the gates consumed (query parameters included) are
	// dropped here unless the route forwards them.
	rt.proxy.ServeHTTP(w, info.RequestForBackend(out))
}

// errOverride refuses a plain route's request that asks its backend for
// another method than the one the gateway decided on.
var errOverride = status.Error(codes.InvalidArgument, "a method override (X-HTTP-Method-Override, X-HTTP-Method, X-Method-Override, _method) is not passed to a plain route: send the method itself")

// methodOverride refuses a request carrying a method override, in any
// spelling: many frameworks behind a plain route (Rails, Laravel,
// Symfony, Express's method-override, ASP.NET) run the method it names,
// while the gateway's policies (an authorizer's decision, CSRF) judged
// the request's own method. A _method in the body cannot be seen here
// without reading it; docs/security.md says so.
func methodOverride(r *http.Request) error {
	for k := range r.Header {
		switch call.HeaderName(k) {
		case "x-http-method-override", "x-http-method", "x-method-override":
			return errOverride
		}
	}
	if r.URL.RawQuery != "" {
		for _, part := range strings.Split(r.URL.RawQuery, "&") {
			k, _, _ := strings.Cut(part, "=")
			if name, err := url.QueryUnescape(k); err == nil && strings.EqualFold(name, "_method") {
				return errOverride
			}
		}
	}
	return nil
}

// match returns the route a request is for and its canonical path; nil
// and no error when no route could be concerned. The error refuses a
// path (400).
func (h *routesHandler) match(r *http.Request) (*route, httpbackend.Path, error) {
	p, err := httpbackend.ParsePath(httpbackend.RequestPath(r.URL))
	if err != nil {
		if h.near(r.URL.Path) {
			return nil, p, err
		}
		return nil, p, nil
	}
	for _, rt := range h.routes {
		if n, ok := foldCovers(rt.match, p.Decoded); ok {
			if p.Decoded[:n] != rt.match {
				return nil, p, errCase
			}
			return rt, p, nil
		}
	}
	return nil, p, nil
}

// near reports whether a path that is not canonical (as Go decoded it)
// falls under a route's prefix when read loosely: backslashes as
// slashes, with or without its dot segments resolved, any letter case.
func (h *routesHandler) near(decoded string) bool {
	loose := strings.ReplaceAll(decoded, `\`, "/")
	resolved := loose
	if strings.HasPrefix(loose, "/") {
		resolved = path.Clean(loose)
	}
	for _, rt := range h.routes {
		if _, ok := foldCovers(rt.match, loose); ok {
			return true
		}
		if _, ok := foldCovers(rt.match, resolved); ok {
			return true
		}
	}
	return false
}

// foldCovers reports whether a route prefix (canonical, decoded, without
// its trailing "/") is p or one of its ancestors, ignoring letter case
// (Unicode simple folding, as strings.EqualFold); n is the length in p of
// the part that matched.
func foldCovers(prefix, p string) (n int, ok bool) {
	for _, pr := range prefix {
		if n >= len(p) {
			return 0, false
		}
		r, size := utf8.DecodeRuneInString(p[n:])
		if r != pr && !sameFold(r, pr) {
			return 0, false
		}
		n += size
	}
	return n, n == len(p) || p[n] == '/' || prefix == ""
}

// sameFold reports whether a and b are the same letter in any case.
func sameFold(a, b rune) bool {
	for f := unicode.SimpleFold(a); f != a; f = unicode.SimpleFold(f) {
		if f == b {
			return true
		}
	}
	return false
}

// clientMetadata is what the gates see of the client's headers: the
// headers as metadata (lower-case keys), without the names Portico
// reserves, in any spelling.
func (h *routesHandler) clientMetadata(in http.Header) metadata.MD {
	md := make(metadata.MD, len(in))
	for k, vs := range in {
		if !call.Reserved(k, h.reserved) {
			md[strings.ToLower(k)] = vs
		}
	}
	return md
}

// gateChanges is what the gates did to the headers the backend gets.
type gateChanges struct {
	set     metadata.MD     // names set (or set again), as the gates wrote them
	removed map[string]bool // names removed (call.HeaderName)
}

type gateChangesKey struct{}

// changesOf compares what the gates returned (out) with what they were
// given (in).
func changesOf(in, out metadata.MD) *gateChanges {
	c := &gateChanges{set: metadata.MD{}}
	kept := make(map[string]bool, len(out))
	for k, vs := range out {
		kept[call.HeaderName(k)] = true
		if was, ok := in[k]; !ok || !slices.Equal(was, vs) {
			c.set[k] = vs
		}
	}
	for k := range in {
		if n := call.HeaderName(k); !kept[n] {
			if c.removed == nil {
				c.removed = map[string]bool{}
			}
			c.removed[n] = true
		}
	}
	return c
}

// forwardHeaders makes the headers the backend gets, as the proxy's last
// step (after hop-by-hop removal): the client's, without the names Portico
// reserves and those the gates removed or set, in any spelling; then what
// the gates set.
func (h *routesHandler) forwardHeaders(in *http.Request, out http.Header) {
	c, _ := in.Context().Value(gateChangesKey{}).(*gateChanges)
	info := call.FromContext(in.Context())
	idName := call.HeaderName(info.RequestIDHeader())
	for k := range out {
		n := call.HeaderName(k)
		if call.Reserved(n, h.reserved) || c != nil && (c.removed[n] || setsName(c.set, n)) || n == idName && info.RequestID() != "" {
			delete(out, k)
		}
	}
	if id := info.RequestID(); id != "" {
		out.Set(info.RequestIDHeader(), id) // the gateway's, whatever the client sent
	}
	if c == nil {
		return
	}
	for k, vs := range c.set {
		for _, v := range vs {
			if strings.HasSuffix(k, "-bin") {
				v = base64.StdEncoding.EncodeToString([]byte(v))
			}
			out.Add(k, v)
		}
	}
}

// setsName reports whether md has a key whose HeaderName is n.
func setsName(md metadata.MD, n string) bool {
	if _, ok := md[n]; ok {
		return true
	}
	for k := range md {
		if call.HeaderName(k) == n {
			return true
		}
	}
	return false
}

// proxyError answers a request the proxy did not forward or the backend
// did not answer, in the REST door's JSON error format.
func (h *routesHandler) proxyError(w http.ResponseWriter, r *http.Request, err error) {
	var mbe *http.MaxBytesError
	if errors.As(err, &mbe) {
		h.onError(w, r, call.WithHTTPStatus(http.StatusRequestEntityTooLarge,
			status.Newf(codes.ResourceExhausted, "request body larger than %d bytes", h.maxBody)))
		return
	}
	code, st := httpbackend.ProxyError(r.Context(), err)
	h.onError(w, r, call.WithHTTPStatus(code, st))
}

// policyHeaders adds the response headers policies set to the backend's
// response, and leaves the request ID header to the gateway's.
func (h *routesHandler) policyHeaders(resp *http.Response) error {
	if info := call.FromContext(resp.Request.Context()); info != nil {
		for k, vs := range info.ResponseHeader() {
			resp.Header[k] = vs
		}
		if info.RequestID() != "" {
			// The edge has set the gateway's ID on the response already.
			resp.Header.Del(info.RequestIDHeader())
		}
	}
	return nil
}
