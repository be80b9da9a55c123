package server_test

import (
	"bufio"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	configv1 "github.com/portico-gw/portico/gen/portico/config/v1"
	"github.com/portico-gw/portico/server/servertest"
)

// pathsBackend is a plain HTTP service that resolves dot segments as most
// servers and frameworks do (path.Clean), records the request target of
// every request it gets and answers 200 with the target in X-Target, the
// resolved path in X-Served and an empty JSON object (an empty message,
// for proto methods sent to it).
type pathsBackend struct {
	*httptest.Server
	mu      sync.Mutex
	targets []string
	last    *http.Request
}

func startPathsBackend(t testing.TB) *pathsBackend {
	t.Helper()
	b := &pathsBackend{}
	b.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b.mu.Lock()
		b.targets = append(b.targets, r.RequestURI)
		b.last = r.Clone(r.Context())
		b.mu.Unlock()
		w.Header().Set("X-Target", r.RequestURI)
		w.Header().Set("X-Served", path.Clean(r.URL.Path))
		w.Header().Set("Content-Type", "application/json")
		io.WriteString(w, "{}")
	}))
	t.Cleanup(b.Close)
	return b
}

// got returns the request targets received so far and forgets them.
func (b *pathsBackend) got() []string {
	b.mu.Lock()
	defer b.mu.Unlock()
	out := b.targets
	b.targets = nil
	return out
}

// lastRequest is the last request received.
func (b *pathsBackend) lastRequest() *http.Request {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.last
}

// pathsKey is the API key of the protected route.
const pathsKey = "s3cret"

// withPathRoutes adds two plain routes to b, both stripping their
// prefix: /legacy/public/ (public, to b's /pub) and /legacy/ (the API key
// pathsKey in X-Api-Key, to b's /priv).
func withPathRoutes(t testing.TB, b *pathsBackend) func(*configv1.Config) {
	t.Helper()
	sum := sha256.Sum256([]byte(pathsKey))
	keys := filepath.Join(t.TempDir(), "keys.yaml")
	if err := os.WriteFile(keys, []byte("- {id: k1, sha256: "+hex.EncodeToString(sum[:])+", principal: partner-1}\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	return func(c *configv1.Config) {
		c.Integrations = append(c.Integrations,
			&configv1.Integration{Name: "pub", Kind: &configv1.Integration_Http{Http: &configv1.HttpIntegration{Url: b.URL + "/pub"}}},
			&configv1.Integration{Name: "priv", Kind: &configv1.Integration_Http{Http: &configv1.HttpIntegration{Url: b.URL + "/priv"}}})
		c.Auth = &configv1.Auth{Providers: []*configv1.AuthProvider{{Name: "partners",
			Kind: &configv1.AuthProvider_ApiKey{ApiKey: &configv1.ApiKeyProvider{Header: "x-api-key", KeysFile: keys}}}}}
		c.Apis[0].Auth = &configv1.ApiAuth{Public: true}
		c.Routes = append(c.Routes,
			&configv1.Route{Prefix: "/legacy/public/", Integration: "pub", StripPrefix: true, Auth: &configv1.ApiAuth{Public: true}},
			&configv1.Route{Prefix: "/legacy/", Integration: "priv", StripPrefix: true, Auth: &configv1.ApiAuth{Providers: []string{"partners"}}})
	}
}

// rawRequest sends target on the request line exactly as given (no
// client cleans or escapes it) with the header lines, over a connection
// of its own, and returns the answer.
func rawRequest(t testing.TB, base, method, target string, header ...string) (*http.Response, []byte) {
	t.Helper()
	conn, err := net.Dial("tcp", strings.TrimPrefix(base, "http://"))
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	_ = conn.SetDeadline(time.Now().Add(10 * time.Second))
	var req strings.Builder
	fmt.Fprintf(&req, "%s %s HTTP/1.1\r\nHost: %s\r\nConnection: close\r\n", method, target, strings.TrimPrefix(base, "http://"))
	for _, h := range header {
		req.WriteString(h + "\r\n")
	}
	req.WriteString("\r\n")
	if _, err := io.WriteString(conn, req.String()); err != nil {
		t.Fatal(err)
	}
	resp, err := http.ReadResponse(bufio.NewReader(conn), nil)
	if err != nil {
		t.Fatalf("%s %q: %v", method, target, err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	return resp, body
}

// startPathsGateway is a gateway with withPathRoutes in front of a new
// pathsBackend.
func startPathsGateway(t testing.TB) (*servertest.Env, *pathsBackend) {
	t.Helper()
	b := startPathsBackend(t)
	env := servertest.Start(t, servertest.Options{Config: withPathRoutes(t, b)})
	return env, b
}
