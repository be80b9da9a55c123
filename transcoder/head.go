package transcoder

import (
	"net/http"
	"slices"

	"github.com/portico-gw/portico/transcoder/router"
)

// HEAD is answered for a unary GET route that has no HEAD route of its
// own, as RFC 9110 asks of a server: the same call, the same status and
// headers, and no body (net/http discards what is written for a HEAD).
// A streaming GET is not: a HEAD would hold a backend stream open only to
// throw its messages away, so it stays a 405.

// lookupHead finds the unary GET route for path.
func lookupHead(routes hostView, path string) (m router.Match[*route], found bool) {
	m, _, found = routes.Lookup(http.MethodGet, path)
	if !found || m.Value.m.Streaming() {
		return m, false
	}
	return m, true
}

// withHead adds HEAD to the methods a 405 names as allowed when the path
// has a unary GET route.
func withHead(routes hostView, path string, allowed []string) []string {
	if !slices.Contains(allowed, http.MethodGet) || slices.Contains(allowed, http.MethodHead) {
		return allowed
	}
	if _, ok := lookupHead(routes, path); !ok {
		return allowed
	}
	i, _ := slices.BinarySearch(allowed, http.MethodHead)
	return slices.Insert(slices.Clone(allowed), i, http.MethodHead)
}
