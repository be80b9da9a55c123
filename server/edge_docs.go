package server

import "net/http"

// docsEdge serves the OpenAPI document and the API explorer.
func docsEdge(b *buildEnv, next http.Handler) (http.Handler, error) {
	return next, nil
}
