package ratelimit_test

import (
	"context"
	"log/slog"
	"net/netip"
	"strings"
	"testing"

	"github.com/portico-gw/portico/call"
	"github.com/portico-gw/portico/catalog"
	"github.com/portico-gw/portico/config"
	configv1 "github.com/portico-gw/portico/gen/portico/config/v1"
	"github.com/portico-gw/portico/pipeline"
	"github.com/portico-gw/portico/pool"
	"github.com/portico-gw/portico/ratelimit"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/proto"

	_ "github.com/portico-gw/portico/gen/example/bookstore/v1" // the API the tests expose
)

// routeEnv is a build environment with the config's plain routes in its
// catalog; closers collects what the kind releases with the snapshot.
func routeEnv(t *testing.T, c *configv1.Config, closers *[]func() error) (pipeline.Env, *pool.Pool) {
	t.Helper()
	cat, err := catalog.New(catalog.Options{Routes: c.GetRoutes()})
	if err != nil {
		t.Fatal(err)
	}
	p := pool.New()
	return pipeline.Env{Config: &config.File{Config: c, Dir: t.TempDir()}, Catalog: cat, Pool: p,
		Logger: slog.New(slog.DiscardHandler), OnRelease: func(f func() error) { *closers = append(*closers, f) }}, p
}

// TestRouteGates: a plain route limited by a client_ip policy gets it as
// an early gate (before authentication): the first call passes with its
// RateLimit-Policy, the second is RESOURCE_EXHAUSTED (refusal
// "rate_limit"); a route without limits gets no gate; the store lives in
// the pool until the snapshot releases it.
func TestRouteGates(t *testing.T) {
	var closers []func() error
	env, p := routeEnv(t, &configv1.Config{
		RateLimits: &configv1.RateLimits{Policies: []*configv1.RateLimitPolicy{{Name: "per-ip", Key: "client_ip", Rate: "1/h"}}},
		Routes: []*configv1.Route{
			{Prefix: "/legacy/", Integration: "old", RateLimits: []string{"per-ip"}},
			{Prefix: "/open/", Integration: "old"},
		},
	}, &closers)
	pol, err := ratelimit.Build(env)
	if err != nil || pol == nil {
		t.Fatalf("Build: %v, %v", pol, err)
	}
	rp := pol.(pipeline.RoutePolicy)
	st, err := rp.RouteStage(env.Catalog.Routes()[0])
	if err != nil || st.Early == nil || st.Gate != nil {
		t.Fatalf("route with a client_ip limit: got %+v, %v; want one early gate", st, err)
	}
	if st, err := rp.RouteStage(env.Catalog.Routes()[1]); err != nil || st.Early != nil || st.Gate != nil {
		t.Errorf("route without limits: got %+v, %v; want no gate", st, err)
	}
	info := func(ip string) *call.Info {
		return &call.Info{Door: call.REST, ClientIP: netip.MustParseAddr(ip)}
	}
	ok := info("198.51.100.1")
	if _, err := st.Early(context.Background(), ok); err != nil {
		t.Fatalf("first call: %v", err)
	}
	if got := ok.ResponseHeader().Get("RateLimit-Policy"); got != `"per-ip";q=1;w=3600` {
		t.Errorf("RateLimit-Policy: got %q", got)
	}
	again := info("198.51.100.1")
	if _, err := st.Early(context.Background(), again); status.Code(err) != codes.ResourceExhausted || again.Refusal != "rate_limit" {
		t.Errorf("second call: got %v, refusal %q; want RESOURCE_EXHAUSTED, rate_limit", err, again.Refusal)
	}
	if p.Len() != 1 {
		t.Errorf("pooled stores: got %d, want 1 (shared by the gates)", p.Len())
	}
	for _, c := range closers {
		if err := c(); err != nil {
			t.Fatal(err)
		}
	}
	if p.Len() != 0 {
		t.Errorf("pooled stores after the snapshot closed: got %d, want 0 (leases released)", p.Len())
	}
}

// TestRouteGateErrors: a route naming an unknown policy is a config error
// at its key.
func TestRouteGateErrors(t *testing.T) {
	var closers []func() error
	env, _ := routeEnv(t, &configv1.Config{
		RateLimits: &configv1.RateLimits{Policies: []*configv1.RateLimitPolicy{{Name: "per-ip", Key: "client_ip", Rate: "1/h"}}},
		Routes:     []*configv1.Route{{Prefix: "/legacy/", Integration: "old", RateLimits: []string{"per-ipp"}}},
	}, &closers)
	t.Cleanup(func() {
		for _, c := range closers {
			c()
		}
	})
	if _, err := ratelimit.Build(env); err == nil || !strings.Contains(err.Error(), `routes[0].rate_limits[0]: unknown rate limit policy "per-ipp"`) {
		t.Errorf("unknown policy: got %v", err)
	}
}

// nop is a backend that is never called.
type nop struct{}

func (nop) Unary(context.Context, *catalog.Method, proto.Message) (proto.Message, error) {
	return nil, nil
}
func (nop) Stream(context.Context, *catalog.Method, grpc.ServerStream) error { return nil }

// TestMethodGates: a method is limited by its API's policies and by its
// overrides' (written either way a selector may be), the client_ip ones
// early and the others after authentication; an API's other methods get
// only the API's; an unknown policy name is an error at its key.
func TestMethodGates(t *testing.T) {
	const svc = "example.bookstore.v1.BookstoreService"
	cfg := &configv1.Config{
		RateLimits: &configv1.RateLimits{Policies: []*configv1.RateLimitPolicy{
			{Name: "per-ip", Key: "client_ip", Rate: "100/s"},
			{Name: "per-caller", Key: "principal", Rate: "10/s"},
		}},
		Apis: []*configv1.Api{{
			Services:   []string{svc},
			RateLimits: []string{"per-ip"},
			Methods: []*configv1.MethodPolicy{
				{Selector: "/" + svc + "/CreateShelf", RateLimits: []string{"per-caller"}},
				{Selector: svc + ".DeleteShelf", RateLimits: []string{"per-caller"}},
			},
		}},
	}
	cat, err := catalog.New(catalog.Options{APIs: []catalog.API{{Where: "apis[0]", Services: []string{svc}, Backend: nop{}, Settings: cfg.Apis[0]}}})
	if err != nil {
		t.Fatal(err)
	}
	var closers []func() error
	t.Cleanup(func() {
		for _, c := range closers {
			c()
		}
	})
	env := pipeline.Env{Config: &config.File{Config: cfg}, Catalog: cat, Pool: pool.New(), Logger: slog.New(slog.DiscardHandler),
		OnRelease: func(f func() error) { closers = append(closers, f) }}
	pol, err := ratelimit.Build(env)
	if err != nil {
		t.Fatal(err)
	}
	for name, wantGate := range map[string]bool{"CreateShelf": true, "DeleteShelf": true, "GetShelf": false} {
		st, err := pol.Stage(cat.Method("/" + svc + "/" + name))
		if err != nil || st.Early == nil || (st.Gate != nil) != wantGate {
			t.Errorf("%s: got early %v, gate %v, %v; want the API's client_ip limit early and a gate: %v", name, st.Early != nil, st.Gate != nil, err, wantGate)
		}
	}

	cfg.Apis[0].Methods[0].RateLimits = []string{"per-callr"}
	cat, err = catalog.New(catalog.Options{APIs: []catalog.API{{Where: "apis[0]", Services: []string{svc}, Backend: nop{}, Settings: cfg.Apis[0]}}})
	if err != nil {
		t.Fatal(err)
	}
	env.Catalog = cat
	if _, err := ratelimit.Build(env); err == nil || !strings.Contains(err.Error(), `apis[0].methods[0].rate_limits[0]: unknown rate limit policy "per-callr"`) {
		t.Errorf("unknown policy: got %v, want it at apis[0].methods[0].rate_limits[0]", err)
	}
}
