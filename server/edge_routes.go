package server

import "net/http"

// routesEdge serves the config's plain HTTP routes (routes[]: prefixes
// proxied to http integrations) and hands every other request to next.
func routesEdge(b *buildEnv, next http.Handler) (http.Handler, error) {
	return next, nil
}
