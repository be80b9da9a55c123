package pipeline_test

import (
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/portico-gw/portico/call"
	"github.com/portico-gw/portico/catalog"
	"github.com/portico-gw/portico/config"
	configv1 "github.com/portico-gw/portico/gen/portico/config/v1"
	"github.com/portico-gw/portico/pipeline"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
)

// TestBuildKinds: every kind of the list is built, in order, even after
// one fails; their problems are returned together as config.Errors (a
// plain error is named after its kind); a kind the config does not use
// (nil) adds no policy.
func TestBuildKinds(t *testing.T) {
	var built []string
	kind := func(name string, p pipeline.Policy, err error) pipeline.Kind {
		return pipeline.Kind{Name: name, Build: func(pipeline.Env) (pipeline.Policy, error) {
			built = append(built, name)
			return p, err
		}}
	}
	used := pipeline.PolicyFunc(func(*catalog.Method) (pipeline.Stage, error) { return pipeline.Stage{}, nil })
	policies, err := pipeline.BuildKinds(pipeline.Env{}, []pipeline.Kind{
		kind("a", used, nil),
		kind("b", nil, config.Errors{{Field: "apis[0].b", Message: "bad"}}),
		kind("c", nil, nil),
		kind("d", nil, errors.New("broken")),
		kind("e", used, nil),
	})
	if got := strings.Join(built, ","); got != "a,b,c,d,e" {
		t.Errorf("built %s, want every kind in order", got)
	}
	var ce config.Errors
	if !errors.As(err, &ce) || len(ce) != 2 || ce[0].Field != "apis[0].b" || ce[1].Message != "d: broken" {
		t.Errorf("got %v, want the problems of b and d", err)
	}
	if len(policies) != 2 {
		t.Errorf("got %d policies, want the 2 built", len(policies))
	}
}

// TestEarlyGatesFirst: whatever the order of the policies, their early
// gates run before every other gate, each group in policy order.
func TestEarlyGatesFirst(t *testing.T) {
	m := methodNamed("GetShelf", &fakeBackend{tr: &trace{}})
	var order []string
	gate := func(name string) pipeline.Gate {
		return func(ctx context.Context, _ *call.Info) (context.Context, error) {
			order = append(order, name)
			return ctx, nil
		}
	}
	stage := func(st pipeline.Stage) pipeline.Policy {
		return pipeline.PolicyFunc(func(*catalog.Method) (pipeline.Stage, error) { return st, nil })
	}
	p, err := pipeline.New([]*catalog.Method{m}, pipeline.Options{},
		stage(pipeline.Stage{Gate: gate("auth")}),
		stage(pipeline.Stage{Early: gate("network")}),
		stage(pipeline.Stage{Early: gate("client_ip"), Gate: gate("limits")}))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := p.Method(m.FullMethod()).Gate(context.Background(), &call.Info{Method: m}); err != nil {
		t.Fatal(err)
	}
	if got := strings.Join(order, ","); got != "network,client_ip,auth,limits" {
		t.Errorf("gates ran %s, want network,client_ip,auth,limits", got)
	}
}

// routePolicy gates plain routes whose config names providers.
type routePolicy struct{ interceptor bool }

func (routePolicy) Stage(*catalog.Method) (pipeline.Stage, error) { return pipeline.Stage{}, nil }

func (p routePolicy) RouteStage(r *catalog.PlainRoute) (pipeline.Stage, error) {
	if p.interceptor {
		return pipeline.Stage{Unary: func(ctx context.Context, req any, _ *grpc.UnaryServerInfo, h grpc.UnaryHandler) (any, error) {
			return h(ctx, req)
		}}, nil
	}
	if len(r.Settings.GetAuth().GetProviders()) == 0 {
		return pipeline.Stage{}, nil
	}
	return pipeline.Stage{Gate: func(context.Context, *call.Info) (context.Context, error) {
		return nil, status.Error(codes.Unauthenticated, "no")
	}}, nil
}

// TestRouteGates: a plain route gets the gates of the policies that gate
// routes (RoutePolicy), none from the others; an interceptor for a route
// (which has no message) is a config error at the route's key.
func TestRouteGates(t *testing.T) {
	cat, err := catalog.New(catalog.Options{Routes: []*configv1.Route{
		{Prefix: "/open/", Integration: "x"},
		{Prefix: "/private/", Integration: "x", Auth: &configv1.ApiAuth{Providers: []string{"p"}}},
	}})
	if err != nil {
		t.Fatal(err)
	}
	methodsOnly := pipeline.PolicyFunc(func(*catalog.Method) (pipeline.Stage, error) { return pipeline.Stage{}, nil })
	p, err := pipeline.New(nil, pipeline.Options{Routes: cat.Routes()}, methodsOnly, routePolicy{})
	if err != nil {
		t.Fatal(err)
	}
	if r := p.Route(cat.Routes()[0]); r == nil || r.HasGate() {
		t.Errorf("open route: got %v, want compiled without gates", r)
	}
	private := p.Route(cat.Routes()[1])
	if private == nil || !private.HasGate() {
		t.Fatalf("private route: got %v, want a gate", private)
	}
	if _, err := private.Gate(context.Background(), &call.Info{PlainRoute: cat.Routes()[1]}); status.Code(err) != codes.Unauthenticated {
		t.Errorf("private route: got %v, want the gate's refusal", err)
	}
	_, err = pipeline.New(nil, pipeline.Options{Routes: cat.Routes()}, routePolicy{interceptor: true})
	var ce config.Errors
	if !errors.As(err, &ce) || len(ce) != 2 || ce[0].Field != "routes[0]" {
		t.Errorf("an interceptor for routes: got %v, want an error at each route", err)
	}
}
