package auth

import (
	"context"
	"net/http"
	"slices"
	"strings"

	"github.com/portico-gw/portico/call"
	"google.golang.org/grpc/metadata"
)

// Credentials stay at the edge: what an authenticating provider consumed
// (the Authorization header, an API key's header or query parameter, a
// JWT's token header, query parameter or cookie) is not forwarded to the
// backend, unless the API or route says forward_credentials. Every policy
// still sees the whole request (call.Info is left as it came); what is
// dropped is dropped from what goes to the backend only: the integration
// request's metadata (both doors, every integration kind of proto
// methods), and a plain route's proxied request (WithoutCredentials).

// credentials are where a method's authenticating providers read
// credentials from.
type credentials struct {
	headers []string // lower-case
	queries []string
	cookies []string
}

func (c *credentials) empty() bool {
	return c == nil || len(c.headers) == 0 && len(c.queries) == 0 && len(c.cookies) == 0
}

// add adds o's places, each once.
func (c *credentials) add(o credentials) {
	add := func(list []string, names ...string) []string {
		for _, n := range names {
			if n != "" && !slices.Contains(list, n) {
				list = append(list, n)
			}
		}
		return list
	}
	c.headers = add(c.headers, o.headers...)
	c.queries = add(c.queries, o.queries...)
	c.cookies = add(c.cookies, o.cookies...)
}

// restHeaderPrefix is how the REST door forwards the permanent HTTP
// headers (grpc-gateway's rule): Authorization and Cookie also reach the
// backend as grpcgateway-authorization and grpcgateway-cookie.
const restHeaderPrefix = "grpcgateway-"

// stripMetadata removes the credentials from md, the metadata the backend
// gets: the headers under their own names and as the REST door forwards
// them, and the credential cookies from the cookie headers (the others
// stay).
func (c *credentials) stripMetadata(md metadata.MD) {
	for _, h := range c.headers {
		delete(md, h)
		delete(md, restHeaderPrefix+h)
	}
	if len(c.cookies) == 0 {
		return
	}
	for _, k := range []string{"cookie", restHeaderPrefix + "cookie"} {
		if vs, ok := md[k]; ok {
			if vs = c.stripCookies(vs); len(vs) > 0 {
				md[k] = vs
			} else {
				delete(md, k)
			}
		}
	}
}

// stripCookies returns Cookie header values without the credential
// cookies, read as net/http reads a request's cookies (pairs split at
// ";", the name before "="); the other pairs are kept as they were sent.
func (c *credentials) stripCookies(values []string) []string {
	var out []string
	for _, v := range values {
		var kept []string
		for _, part := range strings.Split(v, ";") {
			part = strings.TrimSpace(part)
			if part == "" {
				continue
			}
			name, _, _ := strings.Cut(part, "=")
			if !slices.Contains(c.cookies, strings.TrimSpace(name)) {
				kept = append(kept, part)
			}
		}
		if len(kept) > 0 {
			out = append(out, strings.Join(kept, "; "))
		}
	}
	return out
}

// stripRequest returns r as it goes to a plain route's backend: without
// the credential headers, cookies and query parameters. r is not changed
// (its header map and URL are copied when something is dropped).
func (c *credentials) stripRequest(r *http.Request) *http.Request {
	out := *r
	out.Header = r.Header.Clone()
	for _, h := range c.headers {
		out.Header.Del(h)
	}
	if len(c.cookies) > 0 {
		if vs := c.stripCookies(out.Header.Values("Cookie")); len(vs) > 0 {
			out.Header["Cookie"] = vs
		} else {
			out.Header.Del("Cookie")
		}
	}
	if len(c.queries) > 0 && r.URL != nil && r.URL.RawQuery != "" {
		u := *r.URL
		u.RawQuery = call.StripQuery(u.RawQuery, c.queries)
		out.URL = &u
	}
	return &out
}

type consumedKey struct{}

// withConsumed records in ctx the credentials the gate consumed, for the
// forwarding sites that do not go through the metadata (plain routes).
func withConsumed(ctx context.Context, c *credentials) context.Context {
	return context.WithValue(ctx, consumedKey{}, c)
}

// WithoutCredentials returns a plain route's request to its backend
// without the credentials the auth gate consumed on its way (r's context
// says which); r itself when it consumed none or the route forwards them.
func WithoutCredentials(r *http.Request) *http.Request {
	c, _ := r.Context().Value(consumedKey{}).(*credentials)
	if c.empty() {
		return r
	}
	return c.stripRequest(r)
}
