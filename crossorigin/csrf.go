package crossorigin

import (
	"net/http"
	"strings"

	"github.com/rs/cors"
)

// CSRF refuses cross-site requests that carry a body an HTML form (or a
// no-CORS fetch) can send without a preflight: text/plain,
// application/x-www-form-urlencoded, multipart/form-data, or no
// Content-Type. Such a request reaches the server with the user's
// cookies whatever CORS says, so it must be refused before its body is
// decoded. Whether a request is cross-site is net/http's
// CrossOriginProtection's decision (Sec-Fetch-Site; else Origin against
// Host); the origins listed in cors.allowed_origins (not "*") are
// trusted. A request without Origin or Sec-Fetch-Site — curl, a server —
// is not a browser's and passes. Other bodies (application/json) need a
// preflight, which CORS answers.
type CSRF struct {
	cop     *http.CrossOriginProtection
	trusted *cors.Cors // nil: no origin is trusted
}

// NewCSRF returns the check, trusting allowedOrigins (as CORS matches
// them, wildcards included; "*" trusts nobody).
func NewCSRF(allowedOrigins []string) *CSRF {
	c := &CSRF{cop: http.NewCrossOriginProtection()}
	var listed []string
	for _, o := range allowedOrigins {
		if o != "*" {
			listed = append(listed, o)
		}
	}
	if len(listed) > 0 {
		c.trusted = cors.New(cors.Options{AllowedOrigins: listed})
	}
	return c
}

// Refuse reports whether r is a cross-site request with a form-like body.
func (c *CSRF) Refuse(r *http.Request) bool {
	if r.ContentLength == 0 || !formLike(r.Header.Get("Content-Type")) {
		return false
	}
	if c.cop.Check(r) == nil {
		return false
	}
	return c.trusted == nil || !c.trusted.OriginAllowed(r)
}

// formLike reports whether a Content-Type is one a cross-site page can
// send without a preflight (its essence, as the Fetch standard reads it).
func formLike(ct string) bool {
	essence, _, _ := strings.Cut(ct, ";")
	switch strings.ToLower(strings.TrimSpace(essence)) {
	case "", "text/plain", "application/x-www-form-urlencoded", "multipart/form-data":
		return true
	}
	return false
}
