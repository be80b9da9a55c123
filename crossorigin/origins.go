package crossorigin

import (
	"net/http"
	"net/url"
	"strings"

	"github.com/rs/cors"
)

// What "foreign" means, for the CSRF check, WebSocket handshakes and the
// admin listener alike:
//
//   - A request is cross-site when a browser says so — Sec-Fetch-Site
//     cross-site or same-site (a sibling subdomain is another origin) —
//     or, from a browser that sends no Sec-Fetch-Site, when its Origin is
//     not the request's own: a different host[:port] than Host, an opaque
//     origin ("null": a sandboxed frame, a data: URL), or http:// on a TLS
//     connection (a page served without TLS can be rewritten on the way).
//     On a connection without TLS an https:// Origin with the same host is
//     the gateway's own: a TLS-terminating proxy in front of it is usual.
//     Sec-Fetch-Site same-origin or none (typed in the address bar), and a
//     request with neither header (curl, a server, a probe), are not
//     cross-site.
//   - An origin is listed when cors.allowed_origins writes it out (with
//     its wildcards, matched as CORS matches them). "*" lists no origin:
//     it lets any page call without credentials, nothing more.

// CrossSite reports whether r comes from a page of another origin than
// the one it is sent to (see above). Unlike net/http's
// CrossOriginProtection, it decides for every method (a WebSocket
// handshake is a GET) and does not take an http:// page for the origin of
// a TLS listener.
func CrossSite(r *http.Request) bool {
	switch r.Header.Get("Sec-Fetch-Site") {
	case "same-origin", "none":
		return false
	case "":
	default:
		return true
	}
	origin := r.Header.Get("Origin")
	if origin == "" {
		return false
	}
	u, err := url.Parse(origin)
	if err != nil || u.Host == "" || !strings.EqualFold(u.Host, r.Host) {
		return true
	}
	switch strings.ToLower(u.Scheme) {
	case "https":
		return false
	case "http":
		return r.TLS != nil
	}
	return true
}

// Origins is cors.allowed_origins read as trust.
type Origins struct {
	listed *cors.Cors // the origins written out; nil: none
	any    bool       // "*" is among them
}

// NewOrigins reads allowed (cors.allowed_origins, checked by NewCORS).
func NewOrigins(allowed []string) *Origins {
	o := &Origins{}
	var listed []string
	for _, a := range allowed {
		if a == "*" {
			o.any = true
			continue
		}
		listed = append(listed, a)
	}
	if len(listed) > 0 {
		o.listed = cors.New(cors.Options{AllowedOrigins: listed})
	}
	return o
}

// Listed reports whether r's Origin is one the config writes out.
func (o *Origins) Listed(r *http.Request) bool {
	return o.listed != nil && o.listed.OriginAllowed(r)
}

// Any reports whether "*" is among the origins: any page may call,
// without credentials.
func (o *Origins) Any() bool { return o.any }

// Ambient reports whether r carries a credential a browser attaches by
// itself, which a page of any origin therefore gets sent on its behalf:
// a cookie, an Authorization header (HTTP authentication the browser
// remembers; a page cannot set it on a WebSocket handshake or a request
// it sends without a preflight) or a TLS client certificate.
func Ambient(r *http.Request) bool {
	return r.Header.Get("Cookie") != "" || r.Header.Get("Authorization") != "" ||
		r.TLS != nil && len(r.TLS.PeerCertificates) > 0
}
