package admin

import (
	"fmt"
	"mime"
	"net"
	"net/http"
	"net/netip"
	"strings"

	"github.com/portico-gw/portico/call"
	"github.com/portico-gw/portico/crossorigin"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
)

// Guard keeps web pages away from the admin listener. A browser on the
// gateway's machine can reach a loopback listener, and a page of any site
// can make it send requests there: a form's POST to /v1/drain, or a
// page whose own host name it re-points to 127.0.0.1 (DNS rebinding), so
// that its requests to the listener are same-origin and it reads the
// answers. So, on every path of the listener, the token's or not:
//
//   - Host must name the listener (DNS rebinding): when it listens on a
//     loopback address, Host is its address, localhost:port, 127.0.0.1:port
//     or [::1]:port (a request without Host, HTTP/1.0, is not a browser's).
//     When it listens beyond loopback — a wildcard or another address — it
//     has a token (the gateway does not start otherwise), which no page
//     can supply, and its clients name it as their network does: any Host.
//   - A cross-site request is refused (crossorigin.CrossSite: Sec-Fetch-Site
//     cross-site or same-site, or an Origin not the listener's own): the
//     admin API serves no pages, so no browser request has a reason to come
//     from one.
//   - A request with a method other than GET, HEAD and OPTIONS must say
//     Content-Type: application/json (or application/grpc… for the gRPC
//     door): a page cannot send either without a CORS preflight, which the
//     listener does not grant.
type Guard struct {
	hosts map[string]bool // Host values accepted, lower-cased; nil: any
}

// NewGuard returns the guard of a listener bound to listen (host:port, as
// bound: an IP address); token tells whether the admin token is set.
func NewGuard(listen string, token Token) (*Guard, error) {
	ap, err := netip.ParseAddrPort(listen)
	if err != nil {
		return nil, fmt.Errorf("admin listener address %q: %v", listen, err)
	}
	addr := ap.Addr().Unmap()
	if !addr.IsLoopback() {
		if token.Required() {
			return &Guard{}, nil
		}
		// Refused at start-up already; should it not be, only the address
		// itself.
		return &Guard{hosts: map[string]bool{strings.ToLower(listen): true}}, nil
	}
	port := fmt.Sprint(ap.Port())
	g := &Guard{hosts: map[string]bool{}}
	for _, h := range []string{addr.String(), "localhost", "127.0.0.1", "::1"} {
		hp := net.JoinHostPort(h, port) // [::1]:port
		g.hosts[hp] = true
		if port == "80" {
			g.hosts[strings.TrimSuffix(hp, ":80")] = true // Host may leave the default port out
		}
	}
	return g, nil
}

// Check returns why r is refused (a status error, with its HTTP status),
// or nil.
func (g *Guard) Check(r *http.Request) error {
	if g.hosts != nil && r.Host != "" && !g.hosts[hostKey(r.Host)] {
		return status.Errorf(codes.PermissionDenied, "host %q is not this admin listener's address", r.Host)
	}
	if crossorigin.CrossSite(r) {
		return status.Error(codes.PermissionDenied, "the admin listener does not answer requests from web pages of other origins")
	}
	switch r.Method {
	case http.MethodGet, http.MethodHead, http.MethodOptions:
		return nil
	}
	ct := r.Header.Get("Content-Type")
	if strings.HasPrefix(strings.ToLower(ct), "application/grpc") {
		return nil
	}
	if mt, _, err := mime.ParseMediaType(ct); err == nil && mt == "application/json" {
		return nil
	}
	return call.WithHTTPStatus(http.StatusUnsupportedMediaType,
		status.Newf(codes.InvalidArgument, "%s needs Content-Type: application/json", r.Method))
}

// hostKey is a Host value as the guard compares it: lower-cased, without
// the trailing dot of a fully qualified name ("localhost.:9901").
func hostKey(h string) string {
	h = strings.ToLower(h)
	if host, port, err := net.SplitHostPort(h); err == nil {
		if strings.HasSuffix(host, ".") {
			return net.JoinHostPort(strings.TrimSuffix(host, "."), port)
		}
		return h
	}
	return strings.TrimSuffix(h, ".")
}
