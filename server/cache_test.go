package server_test

import (
	"context"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/portico-gw/portico/auth/apikey"
	bookstorev1 "github.com/portico-gw/portico/gen/example/bookstore/v1"
	configv1 "github.com/portico-gw/portico/gen/portico/config/v1"
	"github.com/portico-gw/portico/server/servertest"
	"google.golang.org/grpc"
	"google.golang.org/grpc/metadata"
	"google.golang.org/protobuf/types/known/durationpb"
)

const getShelfSelector = "example.bookstore.v1.BookstoreService.GetShelf"

// cacheGetShelf caches GetShelf's answers with mc.
func cacheGetShelf(mc *configv1.MethodCache) func(*configv1.Config) {
	return func(c *configv1.Config) {
		c.Apis[0].Methods = append(c.Apis[0].Methods, &configv1.MethodPolicy{Selector: getShelfSelector, Cache: mc})
	}
}

func minute() *durationpb.Duration { return durationpb.New(time.Minute) }

// TestCacheHitSkipsBackend: the first GET reaches the backend (miss), the
// next is served by the gateway (hit) with the same body, an ETag and
// Cache-Control; the gRPC door serves the same answer from the cache
// (the key is the method and the request, whichever door) and says so in
// its x-cache header.
func TestCacheHitSkipsBackend(t *testing.T) {
	e := servertest.Start(t, servertest.Options{Config: cacheGetShelf(&configv1.MethodCache{Ttl: minute()})})
	miss := restCall(t, e.URL, http.MethodGet, "/v1/shelves/1", nil, "")
	calls := e.Backend.Calls()
	hit := restCall(t, e.URL, http.MethodGet, "/v1/shelves/1", nil, "")
	if miss.code != http.StatusOK || hit.code != http.StatusOK || hit.body != miss.body {
		t.Fatalf("got %d %s then %d %s; want the same 200 twice", miss.code, miss.body, hit.code, hit.body)
	}
	if got := e.Backend.Calls() - calls; got != 0 {
		t.Errorf("the hit reached the backend %d times, want 0", got)
	}
	if miss.header.Get("X-Cache") != "miss" || hit.header.Get("X-Cache") != "hit" {
		t.Errorf("X-Cache: got %q then %q, want miss then hit", miss.header.Get("X-Cache"), hit.header.Get("X-Cache"))
	}
	if et := hit.header.Get("ETag"); et == "" || et != miss.header.Get("ETag") || !strings.HasPrefix(et, `"`) {
		t.Errorf("ETag: got %q then %q, want one strong ETag", miss.header.Get("ETag"), et)
	}
	if cc := hit.header.Get("Cache-Control"); !strings.HasPrefix(cc, "private, max-age=") {
		t.Errorf("Cache-Control: got %q, want private, max-age=<seconds>", cc)
	}
	var header metadata.MD
	shelf, err := bookstorev1.NewBookstoreServiceClient(e.Conn).GetShelf(context.Background(), &bookstorev1.GetShelfRequest{Shelf: 1}, grpc.Header(&header))
	if err != nil || shelf.GetTheme() != "Fiction" {
		t.Fatalf("gRPC: got %v, %v; want shelf 1", shelf, err)
	}
	if got := header.Get("x-cache"); len(got) != 1 || got[0] != "hit" {
		t.Errorf("gRPC: x-cache = %v, want [hit]", got)
	}
	if got := e.Backend.Calls() - calls; got != 0 {
		t.Errorf("the gRPC hit reached the backend %d times, want 0", got)
	}
}

// TestCacheIfNoneMatch: a GET whose If-None-Match holds the cached
// answer's ETag gets 304 with no body and without a backend call; a
// stale ETag gets the answer.
func TestCacheIfNoneMatch(t *testing.T) {
	e := servertest.Start(t, servertest.Options{Config: cacheGetShelf(&configv1.MethodCache{Ttl: minute()})})
	first := restCall(t, e.URL, http.MethodGet, "/v1/shelves/1", nil, "")
	etag := first.header.Get("ETag")
	calls := e.Backend.Calls()
	got := restCall(t, e.URL, http.MethodGet, "/v1/shelves/1", map[string]string{"If-None-Match": etag}, "")
	if got.code != http.StatusNotModified || got.body != "" {
		t.Errorf("If-None-Match %s: got %d %q, want 304 and no body", etag, got.code, got.body)
	}
	if got.header.Get("ETag") != etag || got.header.Get("X-Cache") != "hit" {
		t.Errorf("304 headers: %v, want the ETag and X-Cache: hit", got.header)
	}
	other := restCall(t, e.URL, http.MethodGet, "/v1/shelves/1", map[string]string{"If-None-Match": `"stale"`}, "")
	if other.code != http.StatusOK || other.body != first.body {
		t.Errorf("another ETag: got %d %s, want 200 %s", other.code, other.body, first.body)
	}
	if n := e.Backend.Calls() - calls; n != 0 {
		t.Errorf("backend calls = %d, want 0", n)
	}
}

// keyedCache is a gateway whose GetShelf needs an API key (alice's or
// bob's) and is cached with mc; edit adjusts the config further.
func keyedCache(t *testing.T, mc *configv1.MethodCache, edit func(*configv1.Config)) *servertest.Env {
	t.Helper()
	keys := filepath.Join(t.TempDir(), "keys.yaml")
	if err := os.WriteFile(keys, []byte(fmt.Sprintf("- {id: k-alice, sha256: %s, principal: alice}\n- {id: k-bob, sha256: %s, principal: bob}\n",
		apikey.Hash("alice-key"), apikey.Hash("bob-key"))), 0o600); err != nil {
		t.Fatal(err)
	}
	return servertest.Start(t, servertest.Options{Config: func(c *configv1.Config) {
		c.Auth = &configv1.Auth{Providers: []*configv1.AuthProvider{{Name: "keys", Kind: &configv1.AuthProvider_ApiKey{ApiKey: &configv1.ApiKeyProvider{KeysFile: keys}}}}}
		c.Apis[0].Auth = &configv1.ApiAuth{Providers: []string{"keys"}}
		cacheGetShelf(mc)(c)
		if edit != nil {
			edit(c)
		}
	}})
}

// TestCachePrincipalsApart: an answer made for alice is not served to
// bob; each gets a hit of their own; a caller without a key is refused
// (401) although an answer is cached, without reaching the backend.
func TestCachePrincipalsApart(t *testing.T) {
	e := keyedCache(t, &configv1.MethodCache{Ttl: minute()}, nil)
	calls := e.Backend.Calls()
	for i, tc := range []struct{ key, want string }{
		{"alice-key", "miss"}, {"bob-key", "miss"}, {"alice-key", "hit"}, {"bob-key", "hit"},
	} {
		got := restCall(t, e.URL, http.MethodGet, "/v1/shelves/1", map[string]string{"X-Api-Key": tc.key}, "")
		if got.code != http.StatusOK || got.header.Get("X-Cache") != tc.want {
			t.Errorf("call %d with %s: got %d X-Cache %q, want 200 %s", i, tc.key, got.code, got.header.Get("X-Cache"), tc.want)
		}
	}
	if n := e.Backend.Calls() - calls; n != 2 {
		t.Errorf("backend calls = %d, want 2 (one per principal)", n)
	}
	for _, h := range []map[string]string{nil, {"X-Api-Key": "wrong"}} {
		if got := restCall(t, e.URL, http.MethodGet, "/v1/shelves/1", h, ""); got.code != http.StatusUnauthorized || got.header.Get("X-Cache") != "" {
			t.Errorf("headers %v: got %d X-Cache %q, want 401 and no cache header", h, got.code, got.header.Get("X-Cache"))
		}
	}
	md := metadata.New(nil)
	if _, err := bookstorev1.NewBookstoreServiceClient(e.Conn).GetShelf(metadata.NewOutgoingContext(context.Background(), md), &bookstorev1.GetShelfRequest{Shelf: 1}); err == nil {
		t.Error("gRPC without a key: got an answer, want UNAUTHENTICATED")
	}
	if n := e.Backend.Calls() - calls; n != 2 {
		t.Errorf("backend calls = %d, want still 2", n)
	}
}

// TestCacheRateLimitCountsHits: hits are counted by the rate limits like
// any call: past the limit a cached answer is refused (429).
func TestCacheRateLimitCountsHits(t *testing.T) {
	e := keyedCache(t, &configv1.MethodCache{Ttl: minute()}, func(c *configv1.Config) {
		c.RateLimits = &configv1.RateLimits{Policies: []*configv1.RateLimitPolicy{{Name: "per-caller", Key: "principal", Rate: "2/h", Burst: 2}}}
		c.Apis[0].RateLimits = []string{"per-caller"}
	})
	var codes []int
	for range 3 {
		codes = append(codes, restCall(t, e.URL, http.MethodGet, "/v1/shelves/1", map[string]string{"X-Api-Key": "alice-key"}, "").code)
	}
	if fmt.Sprint(codes) != "[200 200 429]" {
		t.Errorf("three calls (miss, hit, hit) under a limit of 2: got %v, want [200 200 429]", codes)
	}
}

// TestCacheSingleFlight: concurrent misses of one key make one backend
// call (the backend is slowed down so that they overlap), and every
// caller gets the answer.
func TestCacheSingleFlight(t *testing.T) {
	e := servertest.Start(t, servertest.Options{Config: func(c *configv1.Config) {
		c.Rest = &configv1.Rest{ForwardHeaders: []string{"X-Delay"}}
		cacheGetShelf(&configv1.MethodCache{Ttl: minute()})(c)
	}})
	calls := e.Backend.Calls()
	const n = 16
	var wg sync.WaitGroup
	answers := make([]answer, n)
	for i := range n {
		wg.Go(func() {
			answers[i] = restCall(t, e.URL, http.MethodGet, "/v1/shelves/2", map[string]string{"X-Delay": "300ms"}, "")
		})
	}
	wg.Wait()
	for i, a := range answers {
		if a.code != http.StatusOK || !strings.Contains(a.body, "Science") {
			t.Errorf("caller %d: got %d %s, want shelf 2", i, a.code, a.body)
		}
	}
	if got := e.Backend.Calls() - calls; got != 1 {
		t.Errorf("backend calls = %d for %d concurrent misses, want 1", got, n)
	}
}

// TestCacheStaleWhileRevalidate: once ttl has passed, the stale answer
// is served at once (X-Cache: stale) while one refresh runs; then the
// refreshed answer is a hit.
func TestCacheStaleWhileRevalidate(t *testing.T) {
	e := servertest.Start(t, servertest.Options{Config: cacheGetShelf(&configv1.MethodCache{
		Ttl: durationpb.New(100 * time.Millisecond), StaleWhileRevalidate: minute()})})
	calls := e.Backend.Calls()
	restCall(t, e.URL, http.MethodGet, "/v1/shelves/1", nil, "")
	var stale answer
	eventually(t, "a stale answer", func() bool {
		stale = restCall(t, e.URL, http.MethodGet, "/v1/shelves/1", nil, "")
		return stale.header.Get("X-Cache") == "stale"
	})
	if stale.code != http.StatusOK || stale.header.Get("Cache-Control") != "private, max-age=0" {
		t.Errorf("stale: got %d Cache-Control %q, want 200 private, max-age=0", stale.code, stale.header.Get("Cache-Control"))
	}
	eventually(t, "the refresh", func() bool { return e.Backend.Calls()-calls == 2 })
	if n := e.Backend.Calls() - calls; n != 2 {
		t.Errorf("backend calls = %d, want 2 (the miss and one refresh)", n)
	}
}
