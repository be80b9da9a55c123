package server_test

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	bookstorev1 "github.com/portico-gw/portico/gen/example/bookstore/v1"
	configv1 "github.com/portico-gw/portico/gen/portico/config/v1"
	"github.com/portico-gw/portico/server/servertest"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/metadata"
	"google.golang.org/grpc/status"
)

// TestUsagePlansFromAPIKeys: an API key names its plan in the keys file;
// the real api_key provider authenticates the call and the rate-limit gate
// applies the plan's rate and quota, on both doors; a key without a plan
// gets none of these limits.
func TestUsagePlansFromAPIKeys(t *testing.T) {
	dir, stateDir := t.TempDir(), t.TempDir()
	hash := func(k string) string { s := sha256.Sum256([]byte(k)); return hex.EncodeToString(s[:]) }
	keys := filepath.Join(dir, "keys.yaml")
	if err := os.WriteFile(keys, []byte(
		"- {id: gold-1, sha256: "+hash("gold-key")+", principal: acme, plan: gold}\n"+
			"- {id: free-1, sha256: "+hash("free-key")+", principal: hobbyist}\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	env := servertest.Start(t, servertest.Options{Config: func(c *configv1.Config) {
		c.Auth = &configv1.Auth{Providers: []*configv1.AuthProvider{{Name: "partners",
			Kind: &configv1.AuthProvider_ApiKey{ApiKey: &configv1.ApiKeyProvider{Header: "x-api-key", KeysFile: keys}}}}}
		c.Apis[0].Auth = &configv1.ApiAuth{Providers: []string{"partners"}}
		c.RateLimits = &configv1.RateLimits{StateDir: stateDir}
		c.UsagePlans = []*configv1.UsagePlan{{Name: "gold", Rate: "100/s", Burst: 100,
			Quota: &configv1.Quota{Limit: 3, Period: "month"}}}
	}})
	rest := func(key string) *http.Response {
		req, _ := http.NewRequest("GET", env.URL+"/v1/shelves/1", nil)
		req.Header.Set("X-Api-Key", key)
		resp, _ := do(t, req)
		return resp
	}
	// Three calls of the monthly quota: two over REST, one over gRPC.
	for i := 0; i < 2; i++ {
		if resp := rest("gold-key"); resp.StatusCode != http.StatusOK {
			t.Fatalf("REST call %d on the gold plan: got %d", i+1, resp.StatusCode)
		}
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	client := bookstorev1.NewBookstoreServiceClient(env.Conn)
	goldCtx := metadata.AppendToOutgoingContext(ctx, "x-api-key", "gold-key")
	if _, err := client.GetShelf(goldCtx, &bookstorev1.GetShelfRequest{Shelf: 1}); err != nil {
		t.Fatalf("gRPC call on the gold plan: %v", err)
	}
	// The quota is spent on both doors.
	resp := rest("gold-key")
	if resp.StatusCode != http.StatusTooManyRequests || resp.Header.Get("Retry-After") == "" {
		t.Errorf("REST past the plan's quota: got %d (Retry-After %q), want 429 with Retry-After", resp.StatusCode, resp.Header.Get("Retry-After"))
	}
	if !strings.Contains(resp.Header.Get("RateLimit-Policy")+resp.Header.Get("RateLimit"), "3") {
		t.Errorf("REST past the quota: RateLimit %q, RateLimit-Policy %q, want the quota named", resp.Header.Get("RateLimit"), resp.Header.Get("RateLimit-Policy"))
	}
	if _, err := client.GetShelf(goldCtx, &bookstorev1.GetShelfRequest{Shelf: 1}); status.Code(err) != codes.ResourceExhausted {
		t.Errorf("gRPC past the plan's quota: got %v, want ResourceExhausted", err)
	}
	// A key without a plan gets none of the plan's limits.
	for i := 0; i < 5; i++ {
		if resp := rest("free-key"); resp.StatusCode != http.StatusOK {
			t.Fatalf("a key without a plan, call %d: got %d", i+1, resp.StatusCode)
		}
	}
	if resp := rest("wrong-key"); resp.StatusCode != http.StatusUnauthorized {
		t.Errorf("an unknown key: got %d, want 401", resp.StatusCode)
	}
}
