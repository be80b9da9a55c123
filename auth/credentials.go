package auth

import (
	"slices"

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
// methods; stripMetadata), the REST door's query binding and a plain
// route's proxied request (call.Withheld).

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
			if vs = call.StripCookies(vs, c.cookies); len(vs) > 0 {
				md[k] = vs
			} else {
				delete(md, k)
			}
		}
	}
}

// withheld is c as the call records it.
func (c *credentials) withheld() call.Withheld {
	return call.Withheld{Headers: c.headers, Queries: c.queries, Cookies: c.cookies}
}
