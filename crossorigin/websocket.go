package crossorigin

import (
	"fmt"
	"net/http"
)

// WebSocket decides whether a page of r's origin may open a WebSocket
// (r is the handshake). A handshake is a GET that no CORS preflight
// guards and whose answer the browser does not hide from the page: a
// page that opens one reads and writes the stream with whatever
// credentials the browser attached. So:
//
//   - a handshake that is not cross-site (CrossSite), or from no browser,
//     is accepted;
//   - from an origin cors.allowed_origins lists, accepted;
//   - from any other origin, accepted only when allowed_origins holds "*"
//     and the handshake carries no ambient credential (Ambient: a cookie,
//     an Authorization header — a page cannot set one on a handshake — or
//     a TLS client certificate): "*" lets any page stream as an anonymous
//     client, never as the browser's user (cross-site WebSocket
//     hijacking);
//   - otherwise refused.
//
// It returns nil to accept, else the reason (for a 403).
func (o *Origins) WebSocket(r *http.Request) error {
	if !CrossSite(r) || o.Listed(r) {
		return nil
	}
	origin := r.Header.Get("Origin")
	if o.any {
		if !Ambient(r) {
			return nil
		}
		return fmt.Errorf("origin %q may not open a WebSocket carrying cookies or credentials: only the listed origins may", origin)
	}
	return fmt.Errorf("origin %q may not open a WebSocket here", origin)
}
