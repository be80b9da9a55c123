package network

import (
	"net/http"
	"net/netip"

	"github.com/portico-gw/portico/call"
	"github.com/portico-gw/portico/config"
	configv1 "github.com/portico-gw/portico/gen/portico/config/v1"
)

// Edge is what both doors do first, before routing: find the client's
// address behind trusted proxies (network.trusted_proxies) and apply the
// global allow/deny lists (network.allow, network.deny).
type Edge struct {
	proxies *Proxies
	rules   *Rules
}

// NewEdge reads the config's network section; nil when it sets nothing.
func NewEdge(n *configv1.Network) (*Edge, error) {
	proxies, errs := NewProxies("network.trusted_proxies", n.GetTrustedProxies())
	rules, rerrs := NewRules("network", n.GetAllow(), n.GetDeny())
	errs = append(errs, rerrs...)
	if len(errs) > 0 {
		return nil, config.Errors(errs)
	}
	if proxies == nil && rules == nil {
		return nil, nil
	}
	return &Edge{proxies: proxies, rules: rules}, nil
}

// TrustedPeer reports whether a peer is one of network.trusted_proxies.
// Safe on a nil Edge (no proxy is trusted).
func (e *Edge) TrustedPeer(a netip.Addr) bool {
	return e != nil && e.proxies.Trusted(a)
}

// Admit sets info.ClientIP and refuses (ErrAddressRefused, the refusal
// recorded on info) a client the global rules do not let in. A nil Edge
// admits everyone.
func (e *Edge) Admit(info *call.Info) error {
	if e == nil {
		return nil
	}
	if e.proxies != nil {
		info.ClientIP = e.proxies.ClientIP(info.Peer.Addr(), info.Values)
	}
	if !e.rules.Allowed(info.ClientIP) {
		info.Refusal = "network"
		return ErrAddressRefused
	}
	return nil
}

// Handler applies the edge to the REST door's requests before next;
// onError answers a refusal. A nil Edge returns next.
func (e *Edge) Handler(next http.Handler, onError func(http.ResponseWriter, *http.Request, error)) http.Handler {
	if e == nil {
		return next
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		info := call.FromContext(r.Context())
		if info == nil {
			info = call.NewHTTP(r)
			r = r.WithContext(call.NewHTTPContext(r.Context(), info))
		}
		if err := e.Admit(info); err != nil {
			onError(w, r, err)
			return
		}
		next.ServeHTTP(w, r)
	})
}
