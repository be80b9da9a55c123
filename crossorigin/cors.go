// Package crossorigin handles browsers calling the REST door from other
// origins: CORS (the Fetch standard, through github.com/rs/cors) and
// cross-site request forgery (net/http's CrossOriginProtection, applied
// to the bodies an HTML form can send).
package crossorigin

import (
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strings"

	"github.com/portico-gw/portico/config"
	configv1 "github.com/portico-gw/portico/gen/portico/config/v1"
	"github.com/rs/cors"
)

// CORSOptions are what the config does not say.
type CORSOptions struct {
	// Methods are the HTTP methods the gateway serves (a preflight for
	// another is not granted).
	Methods []string
	// Expose are response headers scripts may read beyond the config's
	// exposed_headers (the rate-limit headers).
	Expose []string
	// Allow are request headers pages may send beyond the config's
	// allowed_headers (gRPC-Web's and Connect's).
	Allow []string
}

// NewCORS returns the CORS handler for the config's cors section, nil
// when it allows no origin. A preflight (OPTIONS with
// Access-Control-Request-Method) is answered by the handler itself, with
// the method asked for, the headers asked for when all are allowed, and
// the max-age; before authentication, so it needs no credentials. A
// disallowed origin gets no CORS header. Every response varies on Origin.
func NewCORS(c *configv1.Cors, opts CORSOptions) (*cors.Cors, error) {
	if len(c.GetAllowedOrigins()) == 0 {
		return nil, nil
	}
	var errs config.Errors
	star := false
	for i, o := range c.GetAllowedOrigins() {
		if o == "*" {
			star = true
			continue
		}
		if err := checkOrigin(o); err != nil {
			errs = append(errs, &config.Error{Field: fmt.Sprintf("cors.allowed_origins[%d]", i), Message: err.Error()})
		}
	}
	if star && c.GetAllowCredentials() {
		errs = append(errs, &config.Error{Field: "cors.allow_credentials", Message: `credentials cannot be allowed to any origin ("*"): list the origins`})
	}
	for i, h := range c.GetAllowedHeaders() {
		if h != "*" && !isToken(h) {
			errs = append(errs, &config.Error{Field: fmt.Sprintf("cors.allowed_headers[%d]", i), Message: fmt.Sprintf("%q is not a header name", h)})
		}
	}
	for i, h := range c.GetExposedHeaders() {
		if !isToken(h) {
			errs = append(errs, &config.Error{Field: fmt.Sprintf("cors.exposed_headers[%d]", i), Message: fmt.Sprintf("%q is not a header name", h)})
		}
	}
	if len(errs) > 0 {
		return nil, errs
	}
	o := cors.Options{
		AllowedOrigins:   c.GetAllowedOrigins(),
		AllowedMethods:   opts.Methods,
		AllowedHeaders:   c.GetAllowedHeaders(),
		ExposedHeaders:   append(append([]string(nil), c.GetExposedHeaders()...), opts.Expose...),
		AllowCredentials: c.GetAllowCredentials(),
	}
	if len(o.AllowedHeaders) == 0 {
		// rs/cors's default would allow some headers; the config's empty
		// list allows only the CORS-safelisted ones.
		o.AllowedHeaders = []string{"content-type"}
	}
	if !slices.Contains(o.AllowedHeaders, "*") {
		o.AllowedHeaders = append(slices.Clip(o.AllowedHeaders), opts.Allow...)
	}
	if ma := c.GetMaxAge(); ma != nil {
		secs := int(ma.AsDuration().Seconds())
		if secs == 0 {
			secs = -1 // "Access-Control-Max-Age: 0": do not cache
		}
		o.MaxAge = secs
	}
	return cors.New(o), nil
}

// checkOrigin accepts an origin as browsers send it — scheme://host[:port],
// no path — with at most one "*" (rs/cors's wildcard, e.g.
// https://*.example.com).
func checkOrigin(o string) error {
	if strings.Count(o, "*") > 1 {
		return fmt.Errorf("%q: at most one * per origin", o)
	}
	u, err := url.Parse(strings.Replace(o, "*", "wildcard", 1))
	if err != nil || u.Scheme == "" || u.Host == "" || (u.Path != "" && u.Path != "/") || u.RawQuery != "" || u.Fragment != "" || u.User != nil {
		return fmt.Errorf("%q is not an origin (scheme://host[:port], e.g. https://app.example.com)", o)
	}
	if strings.HasSuffix(o, "/") {
		return fmt.Errorf("%q: an origin has no trailing /", o)
	}
	return nil
}

// isToken reports whether s is an HTTP token (a header name).
func isToken(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || strings.IndexByte("!#$%&'*+-.^_`|~", c) >= 0) {
			return false
		}
	}
	return true
}

// StandardMethods are the methods google.api.http rules bind.
func StandardMethods() []string {
	return []string{http.MethodGet, http.MethodHead, http.MethodPost, http.MethodPut, http.MethodPatch, http.MethodDelete}
}
