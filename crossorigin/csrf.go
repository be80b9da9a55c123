package crossorigin

import (
	"net/http"
	"strings"
)

// CSRF refuses the requests a page of another site can make a browser
// send with the user's credentials (cookies, remembered HTTP
// authentication, a TLS client certificate) to change something. The
// rule, for every request whose method is not GET, HEAD or OPTIONS —
// POST, PUT, PATCH, DELETE and any other method, with a body or without:
//
//   - it passes when it is not cross-site (CrossSite: Sec-Fetch-Site, or
//     the Origin against the request's own origin) — a request without
//     either header is not a browser's (curl, a server);
//   - it passes when its Origin is listed in cors.allowed_origins (those
//     pages are trusted, as CORS trusts them);
//   - otherwise it is refused, with one exception: when allowed_origins
//     holds "*", a request a browser sends only after a CORS preflight
//     (a method other than POST, or a Content-Type other than the three an
//     HTML form can send), that carries no cookie and no body an HTML form
//     could send, passes. The preflight was answered for "*", so the
//     browser sent it without credentials (credentials are never allowed
//     with "*"): an anonymous call, which "*" is there to allow.
//
// One GET is checked too: a WebSocket handshake (Upgrade: websocket),
// which no preflight guards and whose stream the page reads. One that is
// cross-site, from an origin not listed, and carries an ambient
// credential (Ambient) is refused ("*" or not: cross-site WebSocket
// hijacking); the WebSocket routes of proto methods apply the rest of
// Origins.WebSocket themselves, and a plain route's backend sees the
// Origin of the others.
//
// What a browser sends cross-site without asking first — a form's POST, a
// no-cors fetch: POST with text/plain, application/x-www-form-urlencoded,
// multipart/form-data or no Content-Type, any body or none — is therefore
// refused from every origin not listed, "*" or not, and so is a form-like
// body with any other method. Methods and bodies that need a preflight
// are refused too when no CORS answer could have allowed them (no "*"),
// or when they carry a cookie anyway: whatever answered a preflight for
// them, it was not this gateway's CORS.
type CSRF struct {
	origins *Origins
}

// NewCSRF returns the check, trusting allowedOrigins (cors.allowed_origins,
// matched as CORS matches them, wildcards included; "*" trusts nobody).
func NewCSRF(allowedOrigins []string) *CSRF {
	return &CSRF{origins: NewOrigins(allowedOrigins)}
}

// Refuse reports whether r is a cross-site request the rule above refuses.
func (c *CSRF) Refuse(r *http.Request) bool {
	switch r.Method {
	case http.MethodGet:
		return isWebSocket(r) && CrossSite(r) && !c.origins.Listed(r) && Ambient(r)
	case http.MethodHead, http.MethodOptions:
		return false
	}
	if !CrossSite(r) || c.origins.Listed(r) {
		return false
	}
	if !c.origins.any || r.Header.Get("Cookie") != "" || !preflighted(r) {
		return true
	}
	return r.ContentLength != 0 && formLike(r.Header.Get("Content-Type"))
}

// preflighted reports whether a browser sends r cross-site only after a
// CORS preflight: its method is not POST (the only unsafe method the Fetch
// standard lets through without one; fetch normalizes "post" to POST), or
// its Content-Type is not one a form can send.
func preflighted(r *http.Request) bool {
	return r.Method != http.MethodPost || !formLike(r.Header.Get("Content-Type"))
}

// formLike reports whether a Content-Type is one a cross-site page can
// send without a preflight (its essence, as the Fetch standard reads it;
// none at all counts).
func formLike(ct string) bool {
	essence, _, _ := strings.Cut(ct, ";")
	switch strings.ToLower(strings.TrimSpace(essence)) {
	case "", "text/plain", "application/x-www-form-urlencoded", "multipart/form-data":
		return true
	}
	return false
}

// isWebSocket reports whether r asks to upgrade to a WebSocket.
func isWebSocket(r *http.Request) bool {
	for _, v := range r.Header.Values("Upgrade") {
		for _, tok := range strings.Split(v, ",") {
			if strings.EqualFold(strings.TrimSpace(tok), "websocket") {
				return true
			}
		}
	}
	return false
}
