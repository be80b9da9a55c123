package server_test

import (
	"context"
	"fmt"
	"math"
	"net/http"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	bookstorev1 "github.com/portico-gw/portico/gen/example/bookstore/v1"
	configv1 "github.com/portico-gw/portico/gen/portico/config/v1"
	"github.com/portico-gw/portico/ratelimit/redistest"
	"github.com/redis/go-redis/v9"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/types/known/durationpb"
)

func redisLimits(addr, mode string, timeout time.Duration, policy *configv1.RateLimitPolicy) func(*configv1.Config) {
	return func(c *configv1.Config) {
		c.RateLimits = &configv1.RateLimits{
			Store:    "redis",
			Redis:    &configv1.Redis{Address: addr, FailureMode: mode, Timeout: durationpb.New(timeout)},
			Policies: []*configv1.RateLimitPolicy{policy},
		}
		c.Apis[0].RateLimits = []string{policy.GetName()}
	}
}

// TestTrafficThreeReplicasShareOneLimit runs three gateways (separate
// pools, as separate processes would have) on one Redis and loads them
// all, over REST and gRPC, for 10s: together they must admit what the
// limit allows over the window measured, within 5%.
func TestTrafficThreeReplicasShareOneLimit(t *testing.T) {
	if testing.Short() {
		t.Skip("10s load test")
	}
	rs := redistest.Start(t)
	_, addr := trafficBackend(t)
	const rate, burst = 100, 20
	policy := &configv1.RateLimitPolicy{Name: "shared", Key: "client_ip", Rate: fmt.Sprintf("%d/s", rate), Burst: burst}
	var gws []*trafficGateway
	for i := 0; i < 3; i++ {
		// A generous Redis timeout: this test is about accuracy, and a
		// loaded machine must not turn a slow answer into an outage.
		gws = append(gws, startTrafficGateway(t, addr, gatewayOptions{edit: redisLimits(rs.Addr, "deny", time.Second, policy)}))
	}
	const window = 10 * time.Second
	var admitted, refused atomic.Int64
	var firstStart, lastEnd atomic.Int64
	ctx, cancel := context.WithTimeout(context.Background(), window)
	defer cancel()
	start := time.Now()
	firstStart.Store(math.MaxInt64)
	note := func(began, ended time.Time) {
		for {
			v := firstStart.Load()
			if began.UnixNano() >= v || firstStart.CompareAndSwap(v, began.UnixNano()) {
				break
			}
		}
		for {
			v := lastEnd.Load()
			if ended.UnixNano() <= v || lastEnd.CompareAndSwap(v, ended.UnixNano()) {
				break
			}
		}
	}
	var wg sync.WaitGroup
	for _, gw := range gws {
		gw := gw
		// Two REST workers and one gRPC worker per replica.
		for w := 0; w < 2; w++ {
			wg.Add(1)
			go func() {
				defer wg.Done()
				client := &http.Client{Timeout: 10 * time.Second}
				for ctx.Err() == nil {
					began := time.Now()
					resp, err := client.Get(gw.url + "/v1/shelves/1")
					if err != nil {
						t.Errorf("REST: %v", err)
						return
					}
					resp.Body.Close()
					note(began, time.Now())
					switch resp.StatusCode {
					case http.StatusOK:
						admitted.Add(1)
					case http.StatusTooManyRequests:
						refused.Add(1)
					default:
						t.Errorf("REST: got %s, want 200 or 429", resp.Status)
						return
					}
				}
			}()
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			client := bookstorev1.NewBookstoreServiceClient(gw.conn)
			for ctx.Err() == nil {
				began := time.Now()
				_, err := client.GetShelf(context.Background(), &bookstorev1.GetShelfRequest{Shelf: 1})
				note(began, time.Now())
				switch status.Code(err) {
				case codes.OK:
					admitted.Add(1)
				case codes.ResourceExhausted:
					refused.Add(1)
				default:
					t.Errorf("gRPC: got %v, want OK or RESOURCE_EXHAUSTED", err)
					return
				}
			}
		}()
	}
	wg.Wait()
	measured := time.Duration(lastEnd.Load() - firstStart.Load())
	allowed := burst + rate*measured.Seconds()
	got := float64(admitted.Load())
	t.Logf("3 replicas, %v measured (%v wall): %d admitted, %d refused; the limit allows %.0f (%+.2f%%)",
		measured.Round(time.Millisecond), time.Since(start).Round(time.Millisecond), admitted.Load(), refused.Load(), allowed, 100*(got-allowed)/allowed)
	if refused.Load() < admitted.Load()/2 {
		t.Fatalf("the load did not press on the limit (%d refused for %d admitted): the result says nothing", refused.Load(), admitted.Load())
	}
	if math.Abs(got-allowed) > 0.05*allowed {
		t.Errorf("admitted %d over %v; want %.0f ± 5%%", admitted.Load(), measured, allowed)
	}
	if t.Failed() {
		for i, gw := range gws {
			t.Logf("replica %d logs:\n%s", i, gw.logs.String())
		}
	}
}

// latencies collects call durations.
type latencies struct {
	mu sync.Mutex
	d  []time.Duration
}

func (l *latencies) add(d time.Duration) {
	l.mu.Lock()
	l.d = append(l.d, d)
	l.mu.Unlock()
}

func (l *latencies) take() []time.Duration {
	l.mu.Lock()
	defer l.mu.Unlock()
	out := l.d
	l.d = nil
	sort.Slice(out, func(i, j int) bool { return out[i] < out[j] })
	return out
}

func pct(d []time.Duration, p float64) time.Duration {
	if len(d) == 0 {
		return 0
	}
	return d[int(float64(len(d)-1)*p)]
}

// TestTrafficRedisKilledDuringLoad kills Redis under load and starts it
// again: with failure_mode local, every call is still answered, promptly
// (the dead Redis adds no seconds), the outage and the recovery are
// logged once each, and the gateway goes back to Redis without a restart.
func TestTrafficRedisKilledDuringLoad(t *testing.T) {
	rs := redistest.Start(t)
	_, addr := trafficBackend(t)
	policy := &configv1.RateLimitPolicy{Name: "big", Key: "client_ip", Rate: "100000/s", Burst: 100000}
	gw := startTrafficGateway(t, addr, gatewayOptions{edit: redisLimits(rs.Addr, "local", 50*time.Millisecond, policy)})

	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	lat := &latencies{}
	var failures atomic.Int64
	var wg sync.WaitGroup
	for w := 0; w < 4; w++ {
		wg.Add(1)
		go func(w int) {
			defer wg.Done()
			client := &http.Client{Timeout: 10 * time.Second}
			gc := bookstorev1.NewBookstoreServiceClient(gw.conn)
			for ctx.Err() == nil {
				began := time.Now()
				if w%2 == 0 {
					resp, err := client.Get(gw.url + "/v1/shelves")
					if err != nil || resp.StatusCode != http.StatusOK {
						failures.Add(1)
						t.Errorf("REST during the outage: %v %v", err, resp)
					}
					if resp != nil {
						resp.Body.Close()
					}
				} else if _, err := gc.ListShelves(context.Background(), &bookstorev1.ListShelvesRequest{}); err != nil {
					failures.Add(1)
					t.Errorf("gRPC during the outage: %v", err)
				}
				lat.add(time.Since(began))
			}
		}(w)
	}
	phase := func(d time.Duration) []time.Duration {
		lat.take()
		time.Sleep(d) // let the load run for a while in this phase
		return lat.take()
	}
	up := phase(300 * time.Millisecond)
	rs.Kill()
	down := phase(time.Second)
	rs.Restart()
	deadline := time.Now().Add(10 * time.Second)
	for gw.logs.Count("redis available again") == 0 {
		if time.Now().After(deadline) {
			t.Fatalf("the gateway did not go back to Redis within 10s; logs:\n%s", gw.logs.String())
		}
		time.Sleep(20 * time.Millisecond)
	}
	back := phase(300 * time.Millisecond)
	cancel()
	wg.Wait()

	t.Logf("Redis up: %d calls, p50 %v p99 %v; killed: %d calls, p50 %v p99 %v max %v; back: %d calls, p50 %v p99 %v",
		len(up), pct(up, .5), pct(up, .99), len(down), pct(down, .5), pct(down, .99), pct(down, 1), len(back), pct(back, .5), pct(back, .99))
	if len(down) == 0 || len(back) == 0 {
		t.Fatal("no calls ran during the outage or after it")
	}
	if failures.Load() > 0 {
		t.Fatalf("%d calls failed (failure_mode local must answer them all)", failures.Load())
	}
	// A dead Redis costs at most its timeout (50ms), once; then calls
	// skip it. Generous bounds for a loaded machine.
	if m := pct(down, 1); m > time.Second {
		t.Errorf("slowest call while Redis was down: %v; want well under a second", m)
	}
	if p := pct(down, .99); p > 250*time.Millisecond {
		t.Errorf("p99 while Redis was down: %v; want no Redis time-outs on every call", p)
	}
	if n := gw.logs.Count("redis unavailable"); n != 1 {
		t.Errorf("outage log lines: got %d, want 1\n%s", n, gw.logs.String())
	}
	if n := gw.logs.Count("redis available again"); n != 1 {
		t.Errorf("recovery log lines: got %d, want 1", n)
	}
	// Back on Redis: the restarted (empty) Redis ran the checks.
	rc := redis.NewClient(&redis.Options{Addr: rs.Addr})
	defer rc.Close()
	stats, err := rc.Info(context.Background(), "commandstats").Result()
	if err != nil || !strings.Contains(stats, "cmdstat_evalsha:calls=") {
		t.Errorf("the restarted Redis ran no check (INFO commandstats: %v %q)", err, stats)
	}
}

func TestTrafficRedisFailureModes(t *testing.T) {
	rs := redistest.Start(t)
	_, addr := trafficBackend(t)
	policy := &configv1.RateLimitPolicy{Name: "p", Key: "client_ip", Rate: "1000/s"}
	deny := startTrafficGateway(t, addr, gatewayOptions{edit: redisLimits(rs.Addr, "deny", 50*time.Millisecond, policy)})
	allow := startTrafficGateway(t, addr, gatewayOptions{edit: redisLimits(rs.Addr, "allow", 50*time.Millisecond, policy)})
	client := &http.Client{Timeout: 10 * time.Second}
	for _, gw := range []*trafficGateway{deny, allow} {
		if rc := doREST(t, client, "GET", gw.url+"/v1/shelves", ""); rc.status != 200 || rc.header.Get("RateLimit") == "" {
			t.Fatalf("Redis up: got %d, RateLimit %q", rc.status, rc.header.Get("RateLimit"))
		}
	}
	rs.Kill()
	rc := doREST(t, client, "GET", deny.url+"/v1/shelves", "")
	if rc.status != http.StatusServiceUnavailable || rc.header.Get("Retry-After") == "" {
		t.Errorf("deny, Redis down: got %d %s (Retry-After %q), want 503 with Retry-After", rc.status, rc.raw, rc.header.Get("Retry-After"))
	}
	if err := grpcListShelves(deny); status.Code(err) != codes.Unavailable {
		t.Errorf("deny, Redis down, gRPC: got %v, want UNAVAILABLE", err)
	}
	rc = doREST(t, client, "GET", allow.url+"/v1/shelves", "")
	if rc.status != http.StatusOK || rc.header.Get("RateLimit") != "" {
		t.Errorf("allow, Redis down: got %d, RateLimit %q; want 200 and no rate-limit headers (unknown)", rc.status, rc.header.Get("RateLimit"))
	}
	rs.Restart()
	deadline := time.Now().Add(10 * time.Second)
	for {
		rc = doREST(t, client, "GET", deny.url+"/v1/shelves", "")
		if rc.status == http.StatusOK {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("deny, Redis back: still %d after 10s", rc.status)
		}
		time.Sleep(20 * time.Millisecond)
	}
}
