package hotpath

import (
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"sort"
	"testing"
	"time"

	"github.com/portico-gw/portico/call"
	configv1 "github.com/portico-gw/portico/gen/portico/config/v1"
	"github.com/portico-gw/portico/ratelimit"
	"github.com/portico-gw/portico/ratelimit/redistest"
	"github.com/portico-gw/portico/server/servertest"
	"google.golang.org/protobuf/types/known/durationpb"
)

// limitedGateways are the gateways the rate-limit benchmarks compare: the
// same GET route without a limit, through a local-store limit that never
// trips, and through the same limit kept in Redis.
func limitedGateways(b *testing.B) []struct {
	name string
	env  *servertest.Env
} {
	b.Helper()
	limited := func(store, redisAddr string) func(*configv1.Config) {
		return func(c *configv1.Config) {
			c.Integrations[0].GetGrpc().Timeout = nil
			if store == "" {
				return
			}
			c.RateLimits = &configv1.RateLimits{
				Store: store,
				// One million a second: never trips here.
				Policies: []*configv1.RateLimitPolicy{{Name: "per-ip", Key: "client_ip", Rate: "1000000/s"}},
			}
			if store == "redis" {
				// A timeout long enough that a loaded machine's slow answer
				// is measured, not replaced by the failure mode's.
				c.RateLimits.Redis = &configv1.Redis{Address: redisAddr, Timeout: durationpb.New(time.Second)}
			}
			c.Apis[0].RateLimits = []string{"per-ip"}
		}
	}
	out := []struct {
		name string
		env  *servertest.Env
	}{
		{"none", servertest.Start(b, servertest.Options{Config: limited("", "")})},
		{"local", servertest.Start(b, servertest.Options{Config: limited("local", "")})},
	}
	rs := redistest.Start(b)
	out = append(out, struct {
		name string
		env  *servertest.Env
	}{"redis", servertest.Start(b, servertest.Options{Config: limited("redis", rs.Addr)})})
	return out
}

// BenchmarkRateLimitHandler measures GET /v1/shelves/1/books/1 through the
// REST door's handler (no HTTP client or server) without a limit, with a
// local-store limit and with a Redis-store one: cpu-ns/op is the whole
// process's CPU per request (redis-server, another process, not counted).
func BenchmarkRateLimitHandler(b *testing.B) {
	for _, g := range limitedGateways(b) {
		h := g.env.Server.Snapshot().REST
		b.Run(g.name, func(b *testing.B) {
			serve := func() *httptest.ResponseRecorder {
				req := httptest.NewRequest(http.MethodGet, getPath, nil)
				rec := httptest.NewRecorder()
				h().ServeHTTP(rec, req)
				return rec
			}
			rec := serve()
			if rec.Code != http.StatusOK {
				b.Fatalf("GET %s: got %d, want 200", getPath, rec.Code)
			}
			if limited := rec.Header().Get("RateLimit") != ""; limited != (g.name != "none") {
				b.Fatalf("GET %s: RateLimit header %q for %s", getPath, rec.Header().Get("RateLimit"), g.name)
			}
			b.ReportAllocs()
			b.SetParallelism(parallelism)
			stop := measureCPU(b)
			defer stop()
			b.RunParallel(func(pb *testing.PB) {
				for pb.Next() {
					if rec := serve(); rec.Code != http.StatusOK {
						b.Errorf("GET %s: got %d, want 200", getPath, rec.Code)
						return
					}
				}
			})
		})
	}
}

// BenchmarkRateLimitLatency measures one client's GETs over loopback
// HTTP, one at a time, and reports their p50 and p99: what a limit adds to
// a call's latency (for Redis, one round trip to it).
func BenchmarkRateLimitLatency(b *testing.B) {
	for _, g := range limitedGateways(b) {
		b.Run(g.name, func(b *testing.B) {
			url := g.env.URL + getPath
			client := &http.Client{Timeout: 10 * time.Second}
			mustGet(b, client, url)
			lat := make([]time.Duration, 0, b.N)
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				start := time.Now()
				resp, err := client.Get(url)
				if err != nil {
					b.Fatal(err)
				}
				_, _ = io.Copy(io.Discard, resp.Body)
				resp.Body.Close()
				lat = append(lat, time.Since(start))
				if resp.StatusCode != http.StatusOK {
					b.Fatalf("GET %s: %s", url, resp.Status)
				}
			}
			b.StopTimer()
			sort.Slice(lat, func(i, j int) bool { return lat[i] < lat[j] })
			b.ReportMetric(float64(lat[len(lat)/2].Nanoseconds()), "p50-ns")
			b.ReportMetric(float64(lat[len(lat)*99/100].Nanoseconds()), "p99-ns")
		})
	}
}

// BenchmarkRateLimitGate measures the rate-limit gate alone, as the
// pipeline runs it before a call's body is read: the key from the client
// address, the local store's check, the RateLimit headers.
func BenchmarkRateLimitGate(b *testing.B) {
	st, err := ratelimit.NewLocal(ratelimit.LocalOptions{})
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { st.Close() })
	pol, err := ratelimit.NewPolicy(&configv1.RateLimitPolicy{Name: "per-ip", Key: "client_ip", Rate: "1000000/s"})
	if err != nil {
		b.Fatal(err)
	}
	gate := ratelimit.NewLimiter(st, ratelimit.LimiterOptions{}).Gate("/example.bookstore.v1.BookstoreService/GetBook", []*ratelimit.Policy{pol})
	b.ReportAllocs()
	b.SetParallelism(parallelism)
	b.RunParallel(func(pb *testing.PB) {
		ctx := context.Background()
		ip := netip.MustParseAddr("192.0.2.1")
		for pb.Next() {
			info := &call.Info{Door: call.REST, ClientIP: ip}
			if _, err := gate(ctx, info); err != nil {
				b.Error(err)
				return
			}
		}
	})
}
