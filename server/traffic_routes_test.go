package server

import (
	"context"
	"log/slog"
	"net/netip"
	"strings"
	"testing"

	"github.com/portico-gw/portico/call"
	"github.com/portico-gw/portico/config"
	configv1 "github.com/portico-gw/portico/gen/portico/config/v1"
	"github.com/portico-gw/portico/pool"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
)

// routeEnv is a build environment for the gates of plain HTTP routes
// (the routes edge runs them; they are built from routes[]).
func routeEnv(t *testing.T, c *configv1.Config) (*buildEnv, *pool.Pool) {
	t.Helper()
	p := pool.New()
	b := &buildEnv{
		cfg:  &config.File{Config: c, Dir: t.TempDir()},
		opts: BuildOptions{Pool: p, Logger: slog.New(slog.DiscardHandler)},
		snap: &Snapshot{},
	}
	return b, p
}

func TestTrafficRouteGates(t *testing.T) {
	b, p := routeEnv(t, &configv1.Config{
		RateLimits: &configv1.RateLimits{Policies: []*configv1.RateLimitPolicy{{Name: "per-ip", Key: "client_ip", Rate: "1/h"}}},
		Routes: []*configv1.Route{{
			Prefix: "/legacy/", Integration: "old",
			Network:    &configv1.IpRules{Deny: []string{"192.0.2.0/24"}},
			RateLimits: []string{"per-ip"},
		}, {Prefix: "/open/", Integration: "old"}},
	})
	network, err := routeNetworkGate(b, 0)
	if err != nil || network == nil {
		t.Fatalf("routeNetworkGate: %v, %v", network, err)
	}
	limit, err := routeRateLimitGate(b, 0)
	if err != nil || limit == nil {
		t.Fatalf("routeRateLimitGate: %v, %v", limit, err)
	}
	if g, err := routeNetworkGate(b, 1); g != nil || err != nil {
		t.Errorf("route without rules: got %v, %v; want no gate", g, err)
	}
	if g, err := routeRateLimitGate(b, 1); g != nil || err != nil {
		t.Errorf("route without limits: got %v, %v; want no gate", g, err)
	}
	info := func(ip string) *call.Info {
		return &call.Info{Door: call.REST, ClientIP: netip.MustParseAddr(ip)}
	}
	denied := info("192.0.2.5")
	if _, err := network(context.Background(), denied); status.Code(err) != codes.PermissionDenied || denied.Refusal != "network" {
		t.Errorf("denied address: got %v, refusal %q; want PERMISSION_DENIED, network", err, denied.Refusal)
	}
	ok := info("198.51.100.1")
	if _, err := network(context.Background(), ok); err != nil {
		t.Errorf("allowed address: %v", err)
	}
	if _, err := limit(context.Background(), ok); err != nil {
		t.Fatalf("first call: %v", err)
	}
	if got := ok.ResponseHeader().Get("RateLimit-Policy"); got != `"per-ip";q=1;w=3600` {
		t.Errorf("RateLimit-Policy: got %q", got)
	}
	again := info("198.51.100.1")
	if _, err := limit(context.Background(), again); status.Code(err) != codes.ResourceExhausted || again.Refusal != "rate_limit" {
		t.Errorf("second call: got %v, refusal %q; want RESOURCE_EXHAUSTED, rate_limit", err, again.Refusal)
	}
	if p.Len() != 1 {
		t.Errorf("pooled stores: got %d, want 1 (shared by the gates)", p.Len())
	}
	if err := b.snap.Close(); err != nil {
		t.Fatal(err)
	}
	if p.Len() != 0 {
		t.Errorf("pooled stores after the snapshot closed: got %d, want 0 (leases released)", p.Len())
	}
}

func TestTrafficRouteGateErrors(t *testing.T) {
	b, _ := routeEnv(t, &configv1.Config{
		RateLimits: &configv1.RateLimits{Policies: []*configv1.RateLimitPolicy{{Name: "per-ip", Key: "client_ip", Rate: "1/h"}}},
		Routes: []*configv1.Route{{
			Prefix: "/legacy/", Integration: "old",
			Network:    &configv1.IpRules{Allow: []string{"10.0.0.0/99"}},
			RateLimits: []string{"per-ipp"},
		}},
	})
	t.Cleanup(func() { b.snap.Close() })
	if _, err := routeNetworkGate(b, 0); err == nil || !strings.Contains(err.Error(), "routes[0].network.allow[0]") {
		t.Errorf("bad CIDR: got %v, want an error at routes[0].network.allow[0]", err)
	}
	if _, err := routeRateLimitGate(b, 0); err == nil || !strings.Contains(err.Error(), `routes[0].rate_limits[0]: unknown rate limit policy "per-ipp"`) {
		t.Errorf("unknown policy: got %v", err)
	}
}
