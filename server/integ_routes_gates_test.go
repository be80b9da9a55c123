package server

import (
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/portico-gw/portico/call"
	"github.com/portico-gw/portico/catalog"
	"github.com/portico-gw/portico/config"
	configv1 "github.com/portico-gw/portico/gen/portico/config/v1"
	"github.com/portico-gw/portico/pipeline"
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
	cfg    *configv1.Config
	routes []int // routes it gated, by index
}

func (g *bearerGate) Stage(m *catalog.Method) (pipeline.Stage, error) {
	r, i, ok := routeOf(g.cfg, m)
	if !ok || len(r.GetAuth().GetProviders()) == 0 {
		return pipeline.Stage{}, nil
	}
	g.routes = append(g.routes, i)
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
// policies build for its synthetic method: a refusal is the REST door's
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
	snap, err := Build(&config.File{Config: &configv1.Config{Integrations: cfg.Integrations}, Dir: "."}, BuildOptions{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { snap.Close() })
	snap.Config = &config.File{Config: cfg, Dir: "."}
	gate := &bearerGate{cfg: cfg}
	b := &buildEnv{cfg: snap.Config, catalog: snap.Catalog, snap: snap, policies: []pipeline.Policy{gate},
		reserved: func(k string) bool { return k == "x-user-id" }}
	h, err := routesEdge(b, snap.REST)
	if err != nil {
		t.Fatalf("routesEdge: %v", err)
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
