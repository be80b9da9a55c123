package server_test

import (
	"crypto/sha256"
	"encoding/hex"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"testing"

	configv1 "github.com/portico-gw/portico/gen/portico/config/v1"
	"github.com/portico-gw/portico/server/servertest"
)

// TestRoutesGetTheSamePolicies: the real policy kinds — authentication
// (an API key provider), rate limits and per-route IP rules — gate plain
// HTTP routes as they gate proto methods: a refusal never reaches the
// backend.
func TestRoutesGetTheSamePolicies(t *testing.T) {
	var calls int
	backend := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		calls++
		io.WriteString(w, "ok "+r.Header.Get("X-Portico-Principal"))
	}))
	t.Cleanup(backend.Close)
	dir := t.TempDir()
	sum := sha256.Sum256([]byte("s3cret"))
	keys := filepath.Join(dir, "keys.yaml")
	if err := os.WriteFile(keys, []byte("- {id: k1, sha256: "+hex.EncodeToString(sum[:])+", principal: partner-1}\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	env := servertest.Start(t, servertest.Options{Config: func(c *configv1.Config) {
		withRoute(backend.URL, "/legacy/", true, nil)(c)
		withRoute(backend.URL, "/internal/", true, nil)(c)
		c.Integrations = c.Integrations[:2] // one http integration named legacy
		c.Auth = &configv1.Auth{Providers: []*configv1.AuthProvider{{Name: "partners",
			Kind: &configv1.AuthProvider_ApiKey{ApiKey: &configv1.ApiKeyProvider{Header: "x-api-key", KeysFile: keys}}}}}
		c.RateLimits = &configv1.RateLimits{Policies: []*configv1.RateLimitPolicy{{Name: "tiny", Key: "client_ip", Rate: "1/h", Burst: 3}}}
		c.Routes[0].Auth = &configv1.ApiAuth{Providers: []string{"partners"}}
		c.Routes[0].RateLimits = []string{"tiny"}
		c.Routes[1].Network = &configv1.IpRules{Deny: []string{"127.0.0.0/8"}}
		c.Apis[0].Auth = &configv1.ApiAuth{Public: true}
	}})
	call := func(path, key string) (int, string) {
		req, _ := http.NewRequest("GET", env.URL+path, nil)
		if key != "" {
			req.Header.Set("X-Api-Key", key)
		}
		resp, body := do(t, req)
		return resp.StatusCode, string(body)
	}
	if code, body := call("/legacy/x", ""); code != http.StatusUnauthorized {
		t.Errorf("no key: got %d %s, want 401", code, body)
	}
	if code, body := call("/legacy/x", "s3cret"); code != http.StatusOK || body != "ok partner-1" {
		t.Errorf("good key: got %d %q, want 200 with the principal forwarded", code, body)
	}
	call("/legacy/x", "s3cret") // the burst's third call: the refused one counted too
	if code, body := call("/legacy/x", "s3cret"); code != http.StatusTooManyRequests {
		t.Errorf("past the limit: got %d %s, want 429", code, body)
	}
	if code, body := call("/internal/x", ""); code != http.StatusForbidden {
		t.Errorf("denied address: got %d %s, want 403", code, body)
	}
	if calls != 2 {
		t.Errorf("backend calls: got %d, want 2 (refusals never reach it)", calls)
	}
}
