package server_test

import (
	"encoding/json"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/portico-gw/portico/config"
	configv1 "github.com/portico-gw/portico/gen/portico/config/v1"
	"github.com/portico-gw/portico/server/servertest"
	"github.com/portico-gw/portico/snapshot"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/durationpb"
)

// legacyBackend is a plain HTTP service that records what it receives and
// answers with a JSON echo of it.
type legacyBackend struct {
	*httptest.Server
	mu   sync.Mutex
	last *http.Request
	body []byte
}

func startLegacy(t *testing.T) *legacyBackend {
	t.Helper()
	lb := &legacyBackend{}
	lb.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		lb.mu.Lock()
		lb.last, lb.body = r.Clone(r.Context()), body
		lb.mu.Unlock()
		w.Header().Set("X-Legacy", "yes")
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(http.StatusCreated)
		_ = json.NewEncoder(w).Encode(map[string]string{"path": r.URL.RequestURI(), "body": string(body)})
	}))
	t.Cleanup(lb.Close)
	return lb
}

func (lb *legacyBackend) got() (*http.Request, []byte) {
	lb.mu.Lock()
	defer lb.mu.Unlock()
	return lb.last, lb.body
}

// withRoute adds an http integration to url and a route to it.
func withRoute(url, prefix string, strip bool, h *configv1.HttpIntegration) func(*configv1.Config) {
	return func(c *configv1.Config) {
		if h == nil {
			h = &configv1.HttpIntegration{}
		}
		h.Url = url
		c.Integrations = append(c.Integrations, &configv1.Integration{Name: "legacy", Kind: &configv1.Integration_Http{Http: h}})
		c.Routes = append(c.Routes, &configv1.Route{Prefix: prefix, Integration: "legacy", StripPrefix: strip})
	}
}

// TestRoutesProxied: a plain HTTP route is proxied to its integration —
// prefix stripped, query and body kept, hop-by-hop headers and Portico's
// reserved headers dropped, X-Forwarded-For extended — and the backend's
// answer passed on as it is; other paths still reach proto methods.
func TestRoutesProxied(t *testing.T) {
	lb := startLegacy(t)
	env := servertest.Start(t, servertest.Options{Config: withRoute(lb.URL+"/api", "/legacy/", true, nil)})

	req, _ := http.NewRequest("POST", env.URL+"/legacy/orders/7?expand=lines", strings.NewReader(`{"qty":2}`))
	req.Header.Set("X-Request-Id", "r-1")
	req.Header.Set("X-Portico-Principal", "forged")
	req.Header.Set("X-Forwarded-For", "203.0.113.9")
	req.Header.Set("Connection", "X-Drop-Me")
	req.Header.Set("X-Drop-Me", "hop")
	resp, err := servertest.Client().Do(req)
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusCreated || resp.Header.Get("X-Legacy") != "yes" {
		t.Fatalf("got %d %v %s, want the backend's 201 and headers", resp.StatusCode, resp.Header, body)
	}
	var echo map[string]string
	if err := json.Unmarshal(body, &echo); err != nil {
		t.Fatal(err)
	}
	if echo["path"] != "/api/orders/7?expand=lines" || echo["body"] != `{"qty":2}` {
		t.Errorf("backend got %q with body %q, want /api/orders/7?expand=lines and the body", echo["path"], echo["body"])
	}
	got, _ := lb.got()
	// The client's r-1 is not trusted (issue 16): the backend gets the
	// gateway's ID, the one the client gets back.
	if id := resp.Header.Get("X-Request-Id"); id == "r-1" || got.Header.Get("X-Request-Id") != id {
		t.Errorf("X-Request-Id: the backend got %q, the client %q; want the gateway's, the same", got.Header.Get("X-Request-Id"), id)
	}
	if v := got.Header.Get("X-Portico-Principal"); v != "" {
		t.Errorf("X-Portico-Principal: got %q, want it dropped (clients cannot set it)", v)
	}
	if v := got.Header.Get("X-Drop-Me"); v != "" {
		t.Errorf("a header named by Connection reached the backend: %q", v)
	}
	if xff := got.Header.Get("X-Forwarded-For"); !strings.HasPrefix(xff, "203.0.113.9, 127.0.0.1") {
		t.Errorf("X-Forwarded-For: got %q, want the client's list with the peer appended", xff)
	}

	// Proto methods are still served.
	if code, b := restGet(t, env.URL+"/v1/shelves/1"); code != http.StatusOK || !strings.Contains(string(b), "Fiction") {
		t.Errorf("GET /v1/shelves/1: got %d %s", code, b)
	}
	// A path that only starts like the prefix is not the route.
	if code, _ := restGet(t, env.URL+"/legacyx"); code != http.StatusNotFound {
		t.Errorf("GET /legacyx: got %d, want 404", code)
	}
}

// TestRoutesBackendErrors: a backend that is down is a 502, one too slow
// to answer a 504, a body over the limit a 413 — each a JSON error body.
func TestRoutesBackendErrors(t *testing.T) {
	lis, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	down := "http://" + lis.Addr().String()
	lis.Close()
	env := servertest.Start(t, servertest.Options{Config: withRoute(down, "/legacy", false, nil)})
	code, body := restGet(t, env.URL+"/legacy/x")
	if code != http.StatusBadGateway || !strings.Contains(string(body), `"message":"backend unavailable"`) || strings.Contains(string(body), lis.Addr().String()) {
		t.Errorf("down: got %d %s, want 502 backend unavailable, no address", code, body)
	}

	release := make(chan struct{})
	slow := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		select {
		case <-release:
		case <-r.Context().Done():
		}
	}))
	t.Cleanup(slow.Close)
	t.Cleanup(func() { close(release) })
	env = servertest.Start(t, servertest.Options{Config: func(c *configv1.Config) {
		withRoute(slow.URL, "/slow/", false, &configv1.HttpIntegration{Timeout: durationpb.New(100 * time.Millisecond)})(c)
		c.Limits = &configv1.Limits{MaxBodyBytes: proto.Uint32(16)}
	}})
	code, body = restGet(t, env.URL+"/slow/x")
	if code != http.StatusGatewayTimeout || !strings.Contains(string(body), `"code":4`) {
		t.Errorf("slow: got %d %s, want 504 with DEADLINE_EXCEEDED", code, body)
	}

	resp, err := servertest.Client().Post(env.URL+"/slow/upload", "application/octet-stream", strings.NewReader(strings.Repeat("x", 1000)))
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusRequestEntityTooLarge || !strings.Contains(string(b), "larger than 16 bytes") {
		t.Errorf("large body: got %d %s, want 413", resp.StatusCode, b)
	}
}

// TestRoutesBuildErrors: what is wrong with a route is a config error
// naming it.
func TestRoutesBuildErrors(t *testing.T) {
	tests := []struct {
		name string
		edit func(*configv1.Config)
		want string
	}{
		{"unknown integration", func(c *configv1.Config) {
			c.Routes = []*configv1.Route{{Prefix: "/x/", Integration: "nope"}}
		}, `routes[0].integration: unknown integration "nope"`},
		{"not an http integration", func(c *configv1.Config) {
			c.Routes = []*configv1.Route{{Prefix: "/x/", Integration: "bookstore"}}
		}, `routes[0].integration: "bookstore" is not an http integration`},
		{"same prefix twice", func(c *configv1.Config) {
			withRoute("http://127.0.0.1:1", "/x/", false, nil)(c)
			c.Routes = append(c.Routes, &configv1.Route{Prefix: "/x", Integration: "legacy"})
		}, `routes[1].prefix: "/x" is also the prefix of routes[0]`},
		{"covers a method", func(c *configv1.Config) {
			withRoute("http://127.0.0.1:1", "/v1/shelves/", false, nil)(c)
		}, `routes[0].prefix: "/v1/shelves/" covers GET /v1/shelves/{shelf}`},
		{"auth with an unknown provider", func(c *configv1.Config) {
			withRoute("http://127.0.0.1:1", "/x/", false, nil)(c)
			c.Routes[0].Auth = &configv1.ApiAuth{Providers: []string{"jwt"}}
		}, `routes[0].auth.providers[0]: no auth.providers entry is named "jwt"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg := servertest.BookstoreConfig("127.0.0.1:1")
			tt.edit(cfg)
			_, err := snapshot.Build(&config.File{Config: cfg, Dir: "."}, snapshot.Options{})
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("got %v, want an error containing %q", err, tt.want)
			}
		})
	}
}
