package plainroutes_test

import (
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/portico-gw/portico/call"
	"github.com/portico-gw/portico/catalog"
	configv1 "github.com/portico-gw/portico/gen/portico/config/v1"
	"github.com/portico-gw/portico/integrations"
	"github.com/portico-gw/portico/integrations/httpbackend"
	"github.com/portico-gw/portico/pipeline"
	"github.com/portico-gw/portico/plainroutes"
	"github.com/portico-gw/portico/transcoder"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/metadata"
	"google.golang.org/grpc/status"
)

// bearerGate is a stand-in for an authentication policy: for routes whose
// config names providers, it lets through calls with "Bearer good",
// refuses others with 401 and a header of its own, and tells the
// backend who called (x-portico-principal). It counts the methods it was
// asked about.
type bearerGate struct {
	routes []int // routes it gated, by index
}

func (g *bearerGate) Stage(*catalog.Method) (pipeline.Stage, error) { return pipeline.Stage{}, nil }

func (g *bearerGate) RouteStage(r *catalog.PlainRoute) (pipeline.Stage, error) {
	if len(r.Settings.GetAuth().GetProviders()) == 0 {
		return pipeline.Stage{}, nil
	}
	g.routes = append(g.routes, r.Index)
	return pipeline.Stage{Gate: func(ctx context.Context, info *call.Info) (context.Context, error) {
		if info.Header("Authorization") != "Bearer good" {
			info.Refusal = "auth"
			info.SetResponseHeader("X-Auth-Hint", "bearer")
			return nil, status.Error(codes.Unauthenticated, "who are you?")
		}
		info.SetResponseHeader("RateLimit-Remaining", "9")
		md, _ := metadata.FromIncomingContext(ctx)
		md = md.Copy()
		md.Set("x-portico-principal", "alice")
		md.Set("x-user-id", "42")
		return metadata.NewIncomingContext(ctx, md), nil
	}}, nil
}

// TestRoutesRunPolicyGates: a route runs the gates the snapshot's
// policies build for it: a refusal is the REST door's
// JSON error with the policy's headers; an accepted call reaches the
// backend with the identity the gate set (and not the client's forgery),
// and the policy's response headers come back with the backend's answer.
func TestRoutesRunPolicyGates(t *testing.T) {
	var got *http.Request
	backend := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		got = r.Clone(context.Background())
		io.WriteString(w, "ok")
	}))
	t.Cleanup(backend.Close)

	cfg := &configv1.Config{
		Integrations: []*configv1.Integration{{Name: "legacy", Kind: &configv1.Integration_Http{Http: &configv1.HttpIntegration{Url: backend.URL}}}},
		Routes: []*configv1.Route{
			{Prefix: "/open/", Integration: "legacy"},
			{Prefix: "/private/", Integration: "legacy", Auth: &configv1.ApiAuth{Providers: []string{"jwt"}}},
		},
	}
	cat, err := catalog.New(catalog.Options{Routes: cfg.Routes})
	if err != nil {
		t.Fatal(err)
	}
	gate := &bearerGate{}
	pl, err := pipeline.New(nil, pipeline.Options{Routes: cat.Routes()}, gate)
	if err != nil {
		t.Fatal(err)
	}
	legacy, err := httpbackend.Factory(integrations.Env{}, cfg.Integrations[0])
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { legacy.Close() })
	rest, err := transcoder.New(cat, pl, transcoder.Options{})
	if err != nil {
		t.Fatal(err)
	}
	h, err := plainroutes.New(rest, plainroutes.Options{
		Catalog: cat, Pipeline: pl, OnError: rest.WriteError,
		Backend:  func(name string) integrations.Backend { return legacy },
		Reserved: func(k string) bool { return k == "x-user-id" },
	})
	if err != nil {
		t.Fatalf("plainroutes.New: %v", err)
	}
	if len(gate.routes) != 1 || gate.routes[0] != 1 {
		t.Errorf("the policy gated routes %v, want [1]", gate.routes)
	}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		info := call.NewHTTP(r)
		h.ServeHTTP(w, r.WithContext(call.NewHTTPContext(r.Context(), info)))
	}))
	t.Cleanup(srv.Close)

	do := func(path, auth string) (*http.Response, string) {
		t.Helper()
		req, _ := http.NewRequest("GET", srv.URL+path, nil)
		if auth != "" {
			req.Header.Set("Authorization", auth)
		}
		req.Header.Set("X-User-Id", "forged")
		resp, err := srv.Client().Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		body, _ := io.ReadAll(resp.Body)
		return resp, string(body)
	}

	got = nil
	resp, body := do("/private/x", "Bearer bad")
	if resp.StatusCode != http.StatusUnauthorized || resp.Header.Get("X-Auth-Hint") != "bearer" || !strings.Contains(body, `"message":"who are you?"`) {
		t.Errorf("refused: got %d %v %s, want 401, the policy's header and the JSON error", resp.StatusCode, resp.Header, body)
	}
	if got != nil {
		t.Error("a refused call reached the backend")
	}

	resp, body = do("/private/x", "Bearer good")
	if resp.StatusCode != http.StatusOK || body != "ok" || resp.Header.Get("RateLimit-Remaining") != "9" {
		t.Errorf("accepted: got %d %v %q, want 200 ok with RateLimit-Remaining", resp.StatusCode, resp.Header, body)
	}
	if got == nil || got.Header.Get("X-Portico-Principal") != "alice" || len(got.Header.Values("X-User-Id")) != 1 || got.Header.Get("X-User-Id") != "42" {
		t.Errorf("backend got %v, want x-portico-principal alice and x-user-id 42 only", got.Header)
	}

	got = nil
	if resp, _ = do("/open/x", ""); resp.StatusCode != http.StatusOK || got == nil {
		t.Errorf("open route: got %d, want it served", resp.StatusCode)
	}
	if v := got.Header.Get("X-User-Id"); v != "" {
		t.Errorf("open route: the client's X-User-Id %q reached the backend (a reserved name)", v)
	}
}
