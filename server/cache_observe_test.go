package server_test

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"net/http"
	"strings"
	"sync"
	"testing"

	configv1 "github.com/portico-gw/portico/gen/portico/config/v1"
	"github.com/portico-gw/portico/server"
	"github.com/portico-gw/portico/server/servertest"
)

// TestCacheObserved: hits, misses and stale answers are counted in
// portico_cache_lookups_total{method,result}, the local store's bytes in
// portico_cache_bytes, and each call's access log line says how the cache
// answered.
func TestCacheObserved(t *testing.T) {
	var mu sync.Mutex
	var buf bytes.Buffer
	env := servertest.Start(t, servertest.Options{
		Config: func(c *configv1.Config) {
			c.Telemetry = &configv1.Telemetry{AccessLog: "json", Metrics: &configv1.Metrics{Prometheus: true}}
			cacheGetShelf(&configv1.MethodCache{Ttl: minute()})(c)
		},
		Server: server.Options{AccessLog: lockedWriter{&mu, &buf}},
	})
	for range 3 {
		opsGet(t, env.URL+"/v1/shelves/1", nil)
	}
	opsGet(t, env.URL+"/v1/shelves", nil) // not cached
	families, text := scrape(t, env.Server)
	const getShelf = "/example.bookstore.v1.BookstoreService/GetShelf"
	for result, want := range map[string]float64{"miss": 1, "hit": 2} {
		m := series(t, families, "portico_cache_lookups_total", map[string]string{"method": getShelf, "result": result})
		if m == nil || m.GetCounter().GetValue() != want {
			t.Errorf("portico_cache_lookups_total{result=%q}: got %v, want %v\n%s", result, m, want, text)
		}
	}
	if m := series(t, families, "portico_cache_bytes", map[string]string{"store": "local"}); m == nil || m.GetGauge().GetValue() <= 0 {
		t.Errorf("portico_cache_bytes{store=local}: got %v, want > 0", m)
	}
	opsShutdown(t, env.Server)
	var got []string
	eventually(t, "four access log lines", func() bool {
		mu.Lock()
		defer mu.Unlock()
		return strings.Count(buf.String(), "\n") >= 4
	})
	mu.Lock()
	sc := bufio.NewScanner(strings.NewReader(buf.String()))
	mu.Unlock()
	for sc.Scan() {
		var l map[string]any
		if err := json.Unmarshal(sc.Bytes(), &l); err != nil {
			t.Fatalf("not a JSON line: %q: %v", sc.Text(), err)
		}
		c, _ := l["cache"].(string)
		got = append(got, c)
	}
	if strings.Join(got, ",") != "miss,hit,hit," {
		t.Errorf("access log cache fields: got %q, want miss, hit, hit and none for the uncached call", got)
	}
}

// TestCacheSurvivesReload: a reload with the same cache settings keeps
// the answers (the store lives in the pool); one that changes the store's
// settings starts a new store.
func TestCacheSurvivesReload(t *testing.T) {
	_, addr := trafficBackend(t)
	var cfg *configv1.Config
	gw := startTrafficGateway(t, addr, gatewayOptions{edit: func(c *configv1.Config) {
		cfg = c
		cacheGetShelf(&configv1.MethodCache{Ttl: minute()})(c)
	}})
	xcache := func() string {
		return restCall(t, gw.url, http.MethodGet, "/v1/shelves/1", nil, "").header.Get("X-Cache")
	}
	if got := xcache(); got != "miss" {
		t.Fatalf("first call: X-Cache %q, want miss", got)
	}
	if err := gw.srv.Reload(context.Background()); err != nil {
		t.Fatal(err)
	}
	if got := xcache(); got != "hit" {
		t.Errorf("after a reload with the same settings: X-Cache %q, want hit", got)
	}
	cfg.Cache = &configv1.Cache{MaxBytes: "1MiB"}
	if err := gw.srv.Reload(context.Background()); err != nil {
		t.Fatal(err)
	}
	if got := xcache(); got != "miss" {
		t.Errorf("after a reload with another max_bytes: X-Cache %q, want miss (a new store)", got)
	}
}
