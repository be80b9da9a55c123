package server

import (
	"context"
	"net/http"
	"sort"

	"github.com/portico-gw/portico/call"
	"github.com/portico-gw/portico/crossorigin"
	"github.com/portico-gw/portico/network"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
)

// errAddressRefused answers a client address the network rules refuse.
var errAddressRefused = status.Error(codes.PermissionDenied, "client address not allowed")

// errCrossSite answers a cross-site request the CSRF check refuses.
var errCrossSite = status.Error(codes.PermissionDenied, "cross-site request refused: this request must come from the API's own origin or an allowed one")

// clientEdge is what both doors do first: find the client's address
// (network.trusted_proxies) and apply the global allow/deny lists.
type clientEdge struct {
	proxies *network.Proxies
	rules   *network.Rules
}

// newClientEdge reads the config's network section; nil when it sets
// nothing.
func newClientEdge(b *buildEnv) (*clientEdge, error) {
	n := b.cfg.Config.GetNetwork()
	proxies, errs := network.NewProxies("network.trusted_proxies", n.GetTrustedProxies())
	rules, rerrs := network.NewRules("network", n.GetAllow(), n.GetDeny())
	errs = append(errs, rerrs...)
	if len(errs) > 0 {
		return nil, errs
	}
	if proxies == nil && rules == nil {
		return nil, nil
	}
	return &clientEdge{proxies: proxies, rules: rules}, nil
}

// admit sets info.ClientIP and reports whether the global rules let it
// call (a refusal is recorded on info).
func (e *clientEdge) admit(info *call.Info) bool {
	if e.proxies != nil {
		info.ClientIP = e.proxies.ClientIP(info.Peer.Addr(), info.Values)
	}
	if !e.rules.Allowed(info.ClientIP) {
		info.Refusal = "network"
		return false
	}
	return true
}

// trafficEdge applies, before routing: the client's address behind
// trusted proxies (network.trusted_proxies), the global allow/deny lists
// (403), CORS (a preflight is answered here, before authentication) and
// the CSRF check (403 for a cross-site request with an unsafe method, see
// crossorigin.CSRF; always on — it costs a header look-up, and only
// browsers' cross-site requests are refused).
func trafficEdge(b *buildEnv, next http.Handler) (http.Handler, error) {
	ce, err := newClientEdge(b)
	if err != nil {
		return nil, err
	}
	c := b.cfg.Config
	var expose []string
	if len(c.GetRateLimits().GetPolicies()) > 0 || len(c.GetUsagePlans()) > 0 {
		expose = []string{"RateLimit", "RateLimit-Policy", "Retry-After"}
	}
	corsH, err := crossorigin.NewCORS(c.GetCors(), crossorigin.CORSOptions{Methods: restMethods(b), Expose: expose})
	if err != nil {
		return nil, err
	}
	rest := b.snap.REST
	csrf := crossorigin.NewCSRF(c.GetCors().GetAllowedOrigins())
	var inner http.Handler = http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if csrf.Refuse(r) {
			if info := call.FromContext(r.Context()); info != nil {
				info.Refusal = "csrf"
			}
			rest.WriteError(w, r, errCrossSite)
			return
		}
		next.ServeHTTP(w, r)
	})
	if corsH != nil {
		inner = corsH.Handler(inner)
	}
	if ce == nil {
		return inner, nil
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		info := call.FromContext(r.Context())
		if info == nil {
			info = call.NewHTTP(r)
			r = r.WithContext(call.NewHTTPContext(r.Context(), info))
		}
		if !ce.admit(info) {
			rest.WriteError(w, r, errAddressRefused)
			return
		}
		inner.ServeHTTP(w, r)
	}), nil
}

// restMethods are the HTTP methods the REST door serves, for CORS
// preflights: those of the exposed methods' bindings, and the standard
// ones when plain HTTP routes (any method) are configured.
func restMethods(b *buildEnv) []string {
	set := map[string]bool{}
	if len(b.cfg.Config.GetRoutes()) > 0 {
		for _, m := range crossorigin.StandardMethods {
			set[m] = true
		}
	}
	for _, m := range b.catalog.MethodList() {
		for _, bd := range m.Bindings {
			set[bd.HTTPMethod] = true
		}
	}
	out := make([]string, 0, len(set))
	for m := range set {
		out = append(out, m)
	}
	sort.Strings(out)
	return out
}

// trafficGRPCEdge is trafficEdge's counterpart on the gRPC door (client
// address, allow/deny); nil when unused.
func trafficGRPCEdge(b *buildEnv) (func(ctx context.Context, info *call.Info) error, error) {
	ce, err := newClientEdge(b)
	if err != nil || ce == nil {
		return nil, err
	}
	return func(_ context.Context, info *call.Info) error {
		if !ce.admit(info) {
			return errAddressRefused
		}
		return nil
	}, nil
}
