package network_test

import (
	"context"
	"net/netip"
	"strings"
	"testing"

	"github.com/portico-gw/portico/call"
	"github.com/portico-gw/portico/catalog"
	"github.com/portico-gw/portico/config"
	configv1 "github.com/portico-gw/portico/gen/portico/config/v1"
	"github.com/portico-gw/portico/network"
	"github.com/portico-gw/portico/pipeline"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
)

// routeEnv is a build environment with the config's plain routes in its
// catalog.
func routeEnv(t *testing.T, c *configv1.Config) pipeline.Env {
	t.Helper()
	cat, err := catalog.New(catalog.Options{Routes: c.GetRoutes()})
	if err != nil {
		t.Fatal(err)
	}
	return pipeline.Env{Config: &config.File{Config: c, Dir: t.TempDir()}, Catalog: cat}
}

// TestRouteGates: a plain route with network rules gets an early gate
// that refuses an address its rules deny (PERMISSION_DENIED, refusal
// "network") and lets others in; a route without rules gets none.
func TestRouteGates(t *testing.T) {
	env := routeEnv(t, &configv1.Config{Routes: []*configv1.Route{
		{Prefix: "/legacy/", Integration: "old", Network: &configv1.IpRules{Deny: []string{"192.0.2.0/24"}}},
		{Prefix: "/open/", Integration: "old"},
	}})
	pol, err := network.Build(env)
	if err != nil || pol == nil {
		t.Fatalf("Build: %v, %v", pol, err)
	}
	rp := pol.(pipeline.RoutePolicy)
	st, err := rp.RouteStage(env.Catalog.Routes()[0])
	if err != nil || st.Early == nil {
		t.Fatalf("route with rules: got %+v, %v; want an early gate", st, err)
	}
	if st, err := rp.RouteStage(env.Catalog.Routes()[1]); err != nil || st.Early != nil || st.Gate != nil {
		t.Errorf("route without rules: got %+v, %v; want no gate", st, err)
	}
	info := func(ip string) *call.Info {
		return &call.Info{Door: call.REST, ClientIP: netip.MustParseAddr(ip)}
	}
	denied := info("192.0.2.5")
	if _, err := st.Early(context.Background(), denied); status.Code(err) != codes.PermissionDenied || denied.Refusal != "network" {
		t.Errorf("denied address: got %v, refusal %q; want PERMISSION_DENIED, network", err, denied.Refusal)
	}
	if _, err := st.Early(context.Background(), info("198.51.100.1")); err != nil {
		t.Errorf("allowed address: %v", err)
	}
}

// TestRouteGateErrors: a bad CIDR of a route is a config error at its
// key.
func TestRouteGateErrors(t *testing.T) {
	env := routeEnv(t, &configv1.Config{Routes: []*configv1.Route{
		{Prefix: "/legacy/", Integration: "old", Network: &configv1.IpRules{Allow: []string{"10.0.0.0/99"}}},
	}})
	if _, err := network.Build(env); err == nil || !strings.Contains(err.Error(), "routes[0].network.allow[0]") {
		t.Errorf("bad CIDR: got %v, want an error at routes[0].network.allow[0]", err)
	}
}
