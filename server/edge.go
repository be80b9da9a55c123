package server

import (
	"context"
	"net/http"

	"github.com/portico-gw/portico/call"
)

// restEdge wraps the snapshot's REST door in what runs before routing, for
// every request, and follows reloads with the snapshot: the client's
// address and the global network rules, CORS (preflight answered before
// authentication), CSRF checks, plain HTTP routes. Each is built in a file
// of its own (edge_*.go) and returns next unchanged when unused.
func restEdge(b *buildEnv, next http.Handler) (http.Handler, error) {
	next, err := docsEdge(b, next)
	if err != nil {
		return nil, err
	}
	h, err := routesEdge(b, next)
	if err != nil {
		return nil, err
	}
	return trafficEdge(b, h)
}

// grpcEdge is what the gRPC door runs before looking the method up: the
// client's address and the global network rules. Nil when unused.
func grpcEdge(b *buildEnv) (func(ctx context.Context, info *call.Info) error, error) {
	return trafficGRPCEdge(b)
}
