package call

import (
	"net/http"
	"net/url"
	"slices"
	"strings"
)

// Withheld are credentials a policy consumed — the Authorization header,
// an API key's header or query parameter, a JWT's cookie — that the
// backend must not get. Every policy still reads them from the call (Info
// is left as the client sent it); the places that build what goes to the
// backend leave them out: the REST door's query binding (QueryForBackend),
// a plain route's proxied request (RequestForBackend), and the incoming
// metadata, which the policy that consumed them edits itself.
type Withheld struct {
	// Headers are lower-case header names.
	Headers []string
	// Queries are query parameter names.
	Queries []string
	// Cookies are cookie names: only these pairs of the Cookie headers.
	Cookies []string
}

// Withhold records credentials a policy consumed.
func (c *Info) Withhold(w Withheld) {
	c.withheld.Headers = append(c.withheld.Headers, w.Headers...)
	c.withheld.Queries = append(c.withheld.Queries, w.Queries...)
	c.withheld.Cookies = append(c.withheld.Cookies, w.Cookies...)
}

// QueryForBackend returns a raw query without the parameters policies
// withheld, the others kept as written.
func (c *Info) QueryForBackend(raw string) string {
	if c == nil || len(c.withheld.Queries) == 0 || raw == "" {
		return raw
	}
	return StripQuery(raw, c.withheld.Queries)
}

// RequestForBackend returns r as it goes to a plain route's backend:
// without the headers, cookies and query parameters policies withheld; r
// itself when they withheld nothing. r is not changed (its header map and
// URL are copied when something is dropped).
func (c *Info) RequestForBackend(r *http.Request) *http.Request {
	w := c.withheld
	if c == nil || len(w.Headers)+len(w.Queries)+len(w.Cookies) == 0 {
		return r
	}
	out := *r
	out.Header = r.Header.Clone()
	for _, h := range w.Headers {
		out.Header.Del(h)
	}
	if len(w.Cookies) > 0 {
		if vs := StripCookies(out.Header.Values("Cookie"), w.Cookies); len(vs) > 0 {
			out.Header["Cookie"] = vs
		} else {
			out.Header.Del("Cookie")
		}
	}
	if len(w.Queries) > 0 && r.URL != nil && r.URL.RawQuery != "" {
		u := *r.URL
		u.RawQuery = StripQuery(u.RawQuery, w.Queries)
		out.URL = &u
	}
	return &out
}

// StripQuery drops the named parameters from a raw query, keeping the
// others as they were written (their order and escaping). Names are
// compared unescaped, as url.Values reads them.
func StripQuery(raw string, names []string) string {
	var kept []string
	for _, part := range strings.Split(raw, "&") {
		if part == "" {
			continue
		}
		k, _, _ := strings.Cut(part, "=")
		if name, err := url.QueryUnescape(k); err == nil && slices.Contains(names, name) {
			continue
		}
		kept = append(kept, part)
	}
	return strings.Join(kept, "&")
}

// StripCookies returns Cookie header values without the named cookies,
// read as net/http reads a request's cookies (pairs split at ";", the
// name before "="); the other pairs are kept as they were sent.
func StripCookies(values, names []string) []string {
	var out []string
	for _, v := range values {
		var kept []string
		for _, part := range strings.Split(v, ";") {
			part = strings.TrimSpace(part)
			if part == "" {
				continue
			}
			name, _, _ := strings.Cut(part, "=")
			if !slices.Contains(names, strings.TrimSpace(name)) {
				kept = append(kept, part)
			}
		}
		if len(kept) > 0 {
			out = append(out, strings.Join(kept, "; "))
		}
	}
	return out
}
