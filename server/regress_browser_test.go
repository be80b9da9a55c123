package server_test

// The findings about what a web page can make a browser do to the
// gateway (one test per finding, named for it).

import (
	"context"
	"encoding/json"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/coder/websocket"
	adminv1 "github.com/portico-gw/portico/gen/portico/admin/v1"
	configv1 "github.com/portico-gw/portico/gen/portico/config/v1"
	"github.com/portico-gw/portico/server/servertest"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/credentials/insecure"
	healthpb "google.golang.org/grpc/health/grpc_health_v1"
	"google.golang.org/grpc/status"
)

// TestRegressCSRFEveryUnsafeMethod: a cross-site request without a body
// (Content-Length: 0: an empty form, a bodiless no-cors fetch) passed the
// CSRF check, on proto methods and plain routes alike, and so did every
// method that needs a preflight even when no CORS answer could have
// allowed it. Now every unsafe method is refused cross-site from an
// origin not listed, with or without a body; curl keeps working.
func TestRegressCSRFEveryUnsafeMethod(t *testing.T) {
	lb := startLegacy(t)
	env := servertest.Start(t, servertest.Options{Config: withRoute(lb.URL+"/api", "/legacy/", true, nil)})
	// What Chrome sends for an empty <form method=post> on evil.example,
	// and for fetch(url, {method, mode: "no-cors", credentials: "include"}).
	form := []string{"Origin", "https://evil.example", "Sec-Fetch-Site", "cross-site", "Sec-Fetch-Mode", "navigate",
		"Sec-Fetch-Dest", "document", "Content-Type", "application/x-www-form-urlencoded", "Cookie", "session=victim"}
	fetch := []string{"Origin", "https://evil.example", "Sec-Fetch-Site", "cross-site", "Sec-Fetch-Mode", "no-cors",
		"Sec-Fetch-Dest", "empty", "Cookie", "session=victim"}
	send := func(method, path string, kv []string) (*http.Response, []byte) {
		t.Helper()
		req, err := http.NewRequest(method, env.URL+path, nil) // Content-Length: 0
		if err != nil {
			t.Fatal(err)
		}
		for i := 0; i < len(kv); i += 2 {
			req.Header.Set(kv[i], kv[i+1])
		}
		resp, err := servertest.Client().Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		body, _ := io.ReadAll(resp.Body)
		return resp, body
	}
	for _, tc := range []struct {
		method, path string
		kv           []string
	}{
		{"POST", "/v1/shelves", form},
		{"POST", "/v1/shelves", fetch},
		{"DELETE", "/v1/shelves/1", fetch},
		{"POST", "/legacy/orders/7:cancel", form},
		{"POST", "/legacy/orders/7:cancel", fetch},
		{"DELETE", "/legacy/orders/7", fetch},
		{"PURGE", "/legacy/cache", fetch},
	} {
		calls := env.Backend.Calls()
		lb.mu.Lock()
		lb.last = nil
		lb.mu.Unlock()
		resp, body := send(tc.method, tc.path, tc.kv)
		if resp.StatusCode != http.StatusForbidden || !strings.Contains(string(body), `"code":7`) {
			t.Errorf("cross-site %s %s %v: got %d %s, want 403 with a JSON error", tc.method, tc.path, tc.kv[5], resp.StatusCode, body)
		}
		if got := env.Backend.Calls(); got != calls {
			t.Errorf("cross-site %s %s: the backend got %d calls", tc.method, tc.path, got-calls)
		}
		if last, _ := lb.got(); last != nil {
			t.Errorf("cross-site %s %s: the route's backend got %s %s", tc.method, tc.path, last.Method, last.URL)
		}
	}
	// Without a browser's headers (curl), the same requests are served.
	if resp, body := send("DELETE", "/legacy/orders/7", nil); resp.StatusCode != http.StatusCreated {
		t.Errorf("curl -X DELETE on a route: got %d %s, want the backend's 201", resp.StatusCode, body)
	}
	if resp, body := send("POST", "/legacy/orders/7:cancel", []string{"Origin", env.URL, "Sec-Fetch-Site", "same-origin", "Cookie", "s=1"}); resp.StatusCode != http.StatusCreated {
		t.Errorf("same-origin POST on a route: got %d %s, want the backend's 201", resp.StatusCode, body)
	}
}

// TestRegressWebSocketHijackOnRoutes: a plain route passes WebSocket
// upgrades to its backend (httputil.ReverseProxy), and the gateway let
// any page open one with the browser's cookies — authenticated by the
// gateway on the victim's behalf, whatever cors.allowed_origins said. A
// foreign origin's handshake that carries ambient credentials is now
// refused at the edge, as the CSRF check refuses unsafe methods; one
// without credentials, or from a listed origin, is passed on as before.
func TestRegressWebSocketHijackOnRoutes(t *testing.T) {
	reached := make(chan string, 10)
	be := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		reached <- r.Header.Get("Origin")
		c, err := websocket.Accept(w, r, &websocket.AcceptOptions{InsecureSkipVerify: true})
		if err != nil {
			return
		}
		c.Close(websocket.StatusNormalClosure, "")
	}))
	t.Cleanup(be.Close)
	for _, origins := range [][]string{nil, {"*"}, {"*", "https://app.example.com"}} {
		env := servertest.Start(t, servertest.Options{Config: func(c *configv1.Config) {
			withRoute(be.URL, "/legacy/", true, nil)(c)
			if origins != nil {
				c.Cors = &configv1.Cors{AllowedOrigins: origins}
			}
		}})
		dial := func(kv ...string) int {
			t.Helper()
			ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
			defer cancel()
			h := http.Header{}
			for i := 0; i < len(kv); i += 2 {
				h.Set(kv[i], kv[i+1])
			}
			c, resp, err := websocket.Dial(ctx, "ws"+strings.TrimPrefix(env.URL, "http")+"/legacy/socket", &websocket.DialOptions{HTTPHeader: h})
			if err == nil {
				c.CloseNow()
			}
			if resp == nil {
				t.Fatalf("allowed_origins %q, dial %v: %v", origins, kv, err)
			}
			return resp.StatusCode
		}
		browser := []string{"Origin", "https://evil.example", "Sec-Fetch-Site", "cross-site", "Sec-Fetch-Mode", "websocket"}
		for _, cred := range [][]string{{"Cookie", "session=victim"}, {"Authorization", "Basic dXNlcjpwYXNz"}} {
			if code := dial(append(append([]string(nil), browser...), cred...)...); code != http.StatusForbidden {
				t.Errorf("allowed_origins %q: foreign origin with %s: got %d, want 403", origins, cred[0], code)
			}
			if code := dial("Origin", "https://evil.example", cred[0], cred[1]); code != http.StatusForbidden {
				t.Errorf("allowed_origins %q: foreign Origin (old browser) with %s: got %d, want 403", origins, cred[0], code)
			}
		}
		select {
		case o := <-reached:
			t.Errorf("allowed_origins %q: a refused handshake from %q reached the backend", origins, o)
		default:
		}
		for _, kv := range [][]string{
			browser, // anonymous: the backend decides, as before
			{"Origin", env.URL, "Sec-Fetch-Site", "same-origin", "Cookie", "s=1"},
			{"Cookie", "s=1"}, // not a browser
		} {
			if code := dial(kv...); code != http.StatusSwitchingProtocols {
				t.Errorf("allowed_origins %q, %v: got %d, want 101", origins, kv, code)
			}
			<-reached
		}
		if len(origins) == 2 {
			if code := dial("Origin", "https://app.example.com", "Sec-Fetch-Site", "cross-site", "Cookie", "s=1"); code != http.StatusSwitchingProtocols {
				t.Errorf("listed origin with a cookie: got %d, want 101", code)
			}
			<-reached
		}
	}
}

// TestRegressAdminFromBrowsers: a web page could drive the admin listener
// of a gateway on the same machine: a form's POST to /v1/drain stopped
// it, and a page whose host name it re-pointed to 127.0.0.1 (DNS
// rebinding) could call and read everything, with no token set (loopback)
// — on REST and on the gRPC door. The listener now refuses cross-site
// requests, a POST without a JSON (or gRPC) Content-Type, and a Host
// that does not name it, on every path.
func TestRegressAdminFromBrowsers(t *testing.T) {
	env := servertest.Start(t, servertest.Options{})
	_, port, _ := net.SplitHostPort(env.Server.AdminAddr)
	send := func(method, path string, kv ...string) (int, []byte) {
		t.Helper()
		var body io.Reader
		if method == http.MethodPost {
			body = strings.NewReader("{}")
		}
		req, err := http.NewRequest(method, "http://"+env.Server.AdminAddr+path, body)
		if err != nil {
			t.Fatal(err)
		}
		for i := 0; i < len(kv); i += 2 {
			if kv[i] == "Host" {
				req.Host = kv[i+1]
				continue
			}
			req.Header.Set(kv[i], kv[i+1])
		}
		resp, err := servertest.Client().Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, b
	}
	rebound := "evil.example:" + port
	for _, tc := range []struct {
		name         string
		method, path string
		kv           []string
		want         int
	}{
		// <form method=post action=http://127.0.0.1:9901/v1/drain> on evil.example.
		{"cross-site form", "POST", "/v1/drain", []string{"Origin", "https://evil.example", "Sec-Fetch-Site", "cross-site",
			"Sec-Fetch-Mode", "navigate", "Content-Type", "application/x-www-form-urlencoded"}, 403},
		{"cross-site fetch, old browser", "POST", "/v1/drain", []string{"Origin", "https://evil.example", "Content-Type", "text/plain"}, 403},
		{"same-site page (localhost:3000)", "GET", "/v1/config", []string{"Origin", "http://localhost:3000", "Sec-Fetch-Site", "same-site"}, 403},
		{"cross-site read of /readyz", "GET", "/readyz", []string{"Origin", "https://evil.example", "Sec-Fetch-Site", "cross-site"}, 403},
		// DNS rebinding: evil.example now resolves to 127.0.0.1; the page's
		// requests are same-origin, with its host name in Host.
		{"rebound POST", "POST", "/v1/drain", []string{"Host", rebound, "Origin", "http://" + rebound, "Sec-Fetch-Site", "same-origin", "Content-Type", "application/json"}, 403},
		{"rebound GET", "GET", "/v1/config", []string{"Host", rebound, "Sec-Fetch-Site", "same-origin"}, 403},
		{"rebound /reload", "POST", "/reload", []string{"Host", rebound, "Content-Type", "application/json"}, 403},
		{"rebound /metrics", "GET", "/readyz", []string{"Host", rebound}, 403},
		// A POST a page could send without a preflight.
		{"POST text/plain", "POST", "/v1/drain", []string{"Content-Type", "text/plain"}, 415},
		{"POST form", "POST", "/reload", []string{"Content-Type", "application/x-www-form-urlencoded"}, 415},
		{"POST without Content-Type", "POST", "/v1/drain", nil, 415},
	} {
		code, body := send(tc.method, tc.path, tc.kv...)
		if code != tc.want {
			t.Errorf("%s: %s %s: got %d %s, want %d", tc.name, tc.method, tc.path, code, body, tc.want)
			continue
		}
		var e struct {
			Code    int    `json:"code"`
			Message string `json:"message"`
		}
		if err := json.Unmarshal(body, &e); err != nil || e.Code == 0 || e.Message == "" {
			t.Errorf("%s: body %s, want a JSON error", tc.name, body)
		}
	}
	if env.Server.Draining() {
		t.Fatal("a refused request drained the gateway")
	}
	// What the listener's own clients send is served.
	for _, host := range []string{env.Server.AdminAddr, "localhost:" + port, "LocalHost:" + port, "[::1]:" + port} {
		if code, body := send("GET", "/v1/routes", "Host", host); code != 200 {
			t.Errorf("Host %s: got %d %s, want 200", host, code, body)
		}
	}
	if code, body := send("POST", "/v1/reload", "Content-Type", "application/json; charset=utf-8"); code != 400 || !strings.Contains(string(body), "not available") {
		t.Errorf("POST /v1/reload with JSON: got %d %s, want the API's own answer (400 FAILED_PRECONDITION)", code, body)
	}
	if code, _ := send("GET", "/healthz"); code != 200 {
		t.Errorf("/healthz from a probe: got %d, want 200", code)
	}

	// The gRPC door: a client naming another authority is refused.
	conn, err := grpc.NewClient(env.Server.AdminAddr, grpc.WithTransportCredentials(insecure.NewCredentials()), grpc.WithAuthority(rebound))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close() })
	if _, err := adminv1.NewAdminClient(conn).Drain(context.Background(), &adminv1.DrainRequest{}); status.Code(err) != codes.PermissionDenied {
		t.Errorf("gRPC Drain with authority %s: got %v, want PERMISSION_DENIED", rebound, err)
	}
	if _, err := healthpb.NewHealthClient(conn).Check(context.Background(), &healthpb.HealthCheckRequest{}); status.Code(err) != codes.PermissionDenied {
		t.Errorf("gRPC health with authority %s: got %v, want PERMISSION_DENIED", rebound, err)
	}
	if env.Server.Draining() {
		t.Fatal("a refused gRPC call drained the gateway")
	}
	ok, err := grpc.NewClient(env.Server.AdminAddr, grpc.WithTransportCredentials(insecure.NewCredentials()))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ok.Close() })
	if _, err := adminv1.NewAdminClient(ok).ListRoutes(context.Background(), &adminv1.ListRoutesRequest{}); err != nil {
		t.Errorf("gRPC ListRoutes: %v", err)
	}
}
