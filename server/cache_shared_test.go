package server_test

import (
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/portico-gw/portico/examples/bookstore"
	adminv1 "github.com/portico-gw/portico/gen/portico/admin/v1"
	configv1 "github.com/portico-gw/portico/gen/portico/config/v1"
	"github.com/portico-gw/portico/ratelimit/redistest"
	"github.com/portico-gw/portico/server/servertest"
	"google.golang.org/protobuf/encoding/protojson"
)

// TestCacheRedisSharedByReplicas: two gateways (separate pools, as two
// processes) with the redis store: an answer one fetched is a hit on the
// other, and a purge through either's admin API drops it for both.
func TestCacheRedisSharedByReplicas(t *testing.T) {
	rs := redistest.Start(t)
	lis, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	backend := bookstore.NewServer()
	gs := backend.Serve(lis)
	t.Cleanup(gs.Stop)
	opts := servertest.Options{Config: func(c *configv1.Config) {
		c.Cache = &configv1.Cache{Store: "redis", Redis: &configv1.Redis{Address: rs.Addr, KeyPrefix: "test-shared:"}}
		cacheGetShelf(&configv1.MethodCache{Ttl: minute(), Shared: true})(c)
	}}
	a := servertest.StartGateway(t, lis.Addr().String(), opts)
	b := servertest.StartGateway(t, lis.Addr().String(), opts)
	first := restCall(t, a.URL, http.MethodGet, "/v1/shelves/1", nil, "")
	other := restCall(t, b.URL, http.MethodGet, "/v1/shelves/1", nil, "")
	if first.header.Get("X-Cache") != "miss" || other.header.Get("X-Cache") != "hit" || other.body != first.body {
		t.Fatalf("replica a: %s %s; replica b: %s %s; want a miss then a hit with the same body",
			first.header.Get("X-Cache"), first.body, other.header.Get("X-Cache"), other.body)
	}
	if n := backend.Calls(); n != 1 {
		t.Errorf("backend calls = %d, want 1", n)
	}
	var out adminv1.PurgeCacheResponse
	if code, body := adminPost(t, b, "/v1/cache:purge", `{"method": "`+getShelfSelector+`"}`, &out); code != http.StatusOK || out.GetPurged() != 1 {
		t.Fatalf("purge: got %d %s, want 200 with purged 1", code, body)
	}
	if again := restCall(t, a.URL, http.MethodGet, "/v1/shelves/1", nil, ""); again.header.Get("X-Cache") != "miss" {
		t.Errorf("after the purge on b, a says %q, want miss", again.header.Get("X-Cache"))
	}
}

// TestCachePurgeAdmin: the admin API's PurgeCache drops a method's
// answers or those under a key prefix, is written to the audit log, and
// refuses a method that is not cached.
func TestCachePurgeAdmin(t *testing.T) {
	audit := filepath.Join(t.TempDir(), "audit.log")
	e := keyedCache(t, &configv1.MethodCache{Ttl: minute()}, func(c *configv1.Config) {
		c.Admin = &configv1.Admin{AuditLog: audit}
	})
	for _, key := range []string{"alice-key", "bob-key"} {
		restCall(t, e.URL, http.MethodGet, "/v1/shelves/1", map[string]string{"X-Api-Key": key}, "")
		restCall(t, e.URL, http.MethodGet, "/v1/shelves/2", map[string]string{"X-Api-Key": key}, "")
	}
	var out adminv1.PurgeCacheResponse
	prefix := "/example.bookstore.v1.BookstoreService/GetShelf|principal=alice|"
	if code, body := adminPost(t, e, "/v1/cache:purge", `{"key_prefix": "`+prefix+`"}`, &out); code != http.StatusOK || out.GetPurged() != 2 {
		t.Fatalf("purge alice's: got %d %s, want 200 with purged 2", code, body)
	}
	for key, want := range map[string]string{"alice-key": "miss", "bob-key": "hit"} {
		if got := restCall(t, e.URL, http.MethodGet, "/v1/shelves/1", map[string]string{"X-Api-Key": key}, ""); got.header.Get("X-Cache") != want {
			t.Errorf("after purging alice's, %s: X-Cache %q, want %s", key, got.header.Get("X-Cache"), want)
		}
	}
	if code, body := adminPost(t, e, "/v1/cache:purge", `{}`, &out); code != http.StatusOK || out.GetPurged() != 3 {
		t.Errorf("purge all: got %d %s, want 200 with purged 3", code, body)
	}
	if code, body := adminPost(t, e, "/v1/cache:purge", `{"method": "example.bookstore.v1.BookstoreService.ListShelves"}`, nil); code != http.StatusNotFound {
		t.Errorf("purge an uncached method: got %d %s, want 404", code, body)
	}
	log, err := os.ReadFile(audit)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(log), `"target":"cache `+prefix+`"`) || strings.Count(string(log), `"action":"PurgeCache"`) != 3 {
		t.Errorf("audit log: %s; want three PurgeCache lines, one targeting %q", log, prefix)
	}
}

// adminPost posts a JSON body to a gateway's admin API (loopback, no
// token) and decodes a 200 answer into out.
func adminPost(t *testing.T, e *servertest.Env, path, body string, out *adminv1.PurgeCacheResponse) (int, string) {
	t.Helper()
	req, _ := http.NewRequest(http.MethodPost, "http://"+e.Server.AdminAddr+path, strings.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	resp, b := do(t, req)
	if out != nil && resp.StatusCode == http.StatusOK {
		if err := protojson.Unmarshal(b, out); err != nil {
			t.Fatalf("POST %s: %s: %v", path, b, err)
		}
	}
	return resp.StatusCode, string(b)
}
