package server_test

import (
	"context"
	"net/http"
	"strings"
	"testing"

	"github.com/portico-gw/portico/config"
	bookstorev1 "github.com/portico-gw/portico/gen/example/bookstore/v1"
	configv1 "github.com/portico-gw/portico/gen/portico/config/v1"
	"github.com/portico-gw/portico/pool"
	"github.com/portico-gw/portico/server/servertest"
	"github.com/portico-gw/portico/snapshot"
	"google.golang.org/genproto/googleapis/rpc/errdetails"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/metadata"
	"google.golang.org/grpc/status"
)

func perIP(rate string, burst uint32) *configv1.RateLimitPolicy {
	return &configv1.RateLimitPolicy{Name: "per-ip", Key: "client_ip", Rate: rate, Burst: burst}
}

func TestTrafficRateLimitREST(t *testing.T) {
	backend, addr := trafficBackend(t)
	gw := startTrafficGateway(t, addr, gatewayOptions{edit: withRateLimits(perIP("3/m", 3))})
	client := servertest.Client()
	for i := 0; i < 3; i++ {
		rc := doREST(t, client, "GET", gw.url+"/v1/shelves", "")
		if rc.status != http.StatusOK {
			t.Fatalf("call %d: got %d %s, want 200", i+1, rc.status, rc.raw)
		}
		if got, want := rc.header.Get("RateLimit-Policy"), `"per-ip";q=3;w=60`; got != want {
			t.Errorf("RateLimit-Policy: got %q, want %q", got, want)
		}
		if got := rc.header.Get("RateLimit"); !strings.HasPrefix(got, `"per-ip";r=`+string(rune('2'-i))+`;t=`) {
			t.Errorf("call %d: RateLimit: got %q, want r=%d", i+1, got, 2-i)
		}
	}
	before := backend.Calls()
	rc := doREST(t, client, "GET", gw.url+"/v1/shelves", "")
	if rc.status != http.StatusTooManyRequests {
		t.Fatalf("call 4: got %d %s, want 429", rc.status, rc.raw)
	}
	if got := rc.header.Get("Retry-After"); got != "20" {
		t.Errorf("Retry-After: got %q, want 20 (one call of 3/m)", got)
	}
	if rc.body["code"] != float64(codes.ResourceExhausted) || !strings.Contains(rc.raw, "google.rpc.RetryInfo") {
		t.Errorf("429 body: got %s, want code 8 with a google.rpc.RetryInfo detail", rc.raw)
	}
	if rc.header.Get("Content-Type") != "application/json" {
		t.Errorf("429 Content-Type: got %q", rc.header.Get("Content-Type"))
	}
	if got := backend.Calls(); got != before {
		t.Errorf("backend calls after a refused call: got %d, want %d (nothing forwarded)", got, before)
	}
	// The same limit counts gRPC calls from the same address.
	_, err := bookstorev1.NewBookstoreServiceClient(gw.conn).ListShelves(context.Background(), &bookstorev1.ListShelvesRequest{})
	if status.Code(err) != codes.ResourceExhausted {
		t.Errorf("gRPC call from the same address: got %v, want RESOURCE_EXHAUSTED", err)
	}
}

func TestTrafficRateLimitGRPC(t *testing.T) {
	backend, addr := trafficBackend(t)
	gw := startTrafficGateway(t, addr, gatewayOptions{edit: withRateLimits(perIP("2/h", 2))})
	client := bookstorev1.NewBookstoreServiceClient(gw.conn)
	for i := 0; i < 2; i++ {
		var hdr metadata.MD
		if _, err := client.ListShelves(context.Background(), &bookstorev1.ListShelvesRequest{}, grpc.Header(&hdr)); err != nil {
			t.Fatalf("call %d: %v", i+1, err)
		}
		if got := hdr.Get("ratelimit-policy"); len(got) != 1 || got[0] != `"per-ip";q=2;w=3600` {
			t.Errorf("ratelimit-policy metadata: got %q", got)
		}
	}
	before := backend.Calls()
	var hdr metadata.MD
	_, err := client.ListShelves(context.Background(), &bookstorev1.ListShelvesRequest{}, grpc.Header(&hdr))
	st := status.Convert(err)
	if st.Code() != codes.ResourceExhausted {
		t.Fatalf("call 3: got %v, want RESOURCE_EXHAUSTED", err)
	}
	var retry *errdetails.RetryInfo
	for _, d := range st.Details() {
		if r, ok := d.(*errdetails.RetryInfo); ok {
			retry = r
		}
	}
	if retry == nil || retry.GetRetryDelay().AsDuration().Minutes() < 29 {
		t.Errorf("RetryInfo: got %v, want a delay of about 30m", retry)
	}
	if got := hdr.Get("retry-after"); len(got) != 1 || got[0] != "1800" {
		t.Errorf("retry-after metadata: got %q, want 1800", got)
	}
	if got := backend.Calls(); got != before {
		t.Errorf("backend calls: got %d, want %d (nothing forwarded)", got, before)
	}
}

func TestTrafficRateLimitPerMethod(t *testing.T) {
	_, addr := trafficBackend(t)
	gw := startTrafficGateway(t, addr, gatewayOptions{edit: func(c *configv1.Config) {
		c.RateLimits = &configv1.RateLimits{Policies: []*configv1.RateLimitPolicy{{Name: "slow", Key: "method", Rate: "1/h"}}}
		c.Apis[0].Methods = []*configv1.MethodPolicy{{Selector: "example.bookstore.v1.BookstoreService.GetShelf", RateLimits: []string{"slow"}}}
	}})
	client := servertest.Client()
	for i := 0; i < 2; i++ {
		if rc := doREST(t, client, "GET", gw.url+"/v1/shelves/1", ""); rc.status != []int{200, 429}[i] {
			t.Errorf("GetShelf call %d: got %d, want %d", i+1, rc.status, []int{200, 429}[i])
		}
	}
	for i := 0; i < 3; i++ {
		if rc := doREST(t, client, "GET", gw.url+"/v1/shelves", ""); rc.status != 200 || rc.header.Get("RateLimit") != "" {
			t.Errorf("ListShelves call %d (no limit): got %d, RateLimit %q; want 200 and no header", i+1, rc.status, rc.header.Get("RateLimit"))
		}
	}
}

func TestTrafficReloadKeepsCounters(t *testing.T) {
	_, addr := trafficBackend(t)
	p := pool.New()
	gw := startTrafficGateway(t, addr, gatewayOptions{pool: p, edit: withRateLimits(perIP("1/h", 1))})
	client := servertest.Client()
	if rc := doREST(t, client, "GET", gw.url+"/v1/shelves", ""); rc.status != 200 {
		t.Fatalf("first call: got %d", rc.status)
	}
	if err := gw.srv.Reload(context.Background()); err != nil {
		t.Fatal(err)
	}
	if rc := doREST(t, client, "GET", gw.url+"/v1/shelves", ""); rc.status != http.StatusTooManyRequests {
		t.Errorf("after a reload: got %d, want 429 (the counters are kept)", rc.status)
	}
}

func TestTrafficPlansOnGRPC(t *testing.T) {
	backend, addr := trafficBackend(t)
	dir := t.TempDir()
	plans := func(c *configv1.Config) {
		c.RateLimits = &configv1.RateLimits{StateDir: dir}
		c.UsagePlans = []*configv1.UsagePlan{
			{Name: "gold", Rate: "50/s", Burst: 100, Quota: &configv1.Quota{Limit: 3, Period: "month"}},
		}
	}
	call := func(gw *trafficGateway, key, plan string) (metadata.MD, error) {
		ctx := metadata.AppendToOutgoingContext(context.Background(), "test-api-key", key, "test-plan", plan)
		var hdr metadata.MD
		_, err := bookstorev1.NewBookstoreServiceClient(gw.conn).ListShelves(ctx, &bookstorev1.ListShelvesRequest{}, grpc.Header(&hdr))
		return hdr, err
	}
	gw := startTrafficGateway(t, addr, gatewayOptions{edit: plans, identities: true})
	for i := 0; i < 2; i++ {
		hdr, err := call(gw, "k1", "gold")
		if err != nil {
			t.Fatalf("call %d: %v", i+1, err)
		}
		if got := strings.Join(hdr.Get("ratelimit"), ""); !strings.Contains(got, `"gold-month";r=`+string(rune('2'-i))) {
			t.Errorf("call %d: ratelimit metadata %q, want the quota's remaining %d", i+1, got, 2-i)
		}
	}
	// A key without a plan is not limited by it.
	for i := 0; i < 5; i++ {
		if _, err := call(gw, "k2", ""); err != nil {
			t.Fatalf("key without a plan, call %d: %v", i+1, err)
		}
	}
	// A restart keeps the month's usage (state_dir).
	gw.stop()
	gw = startTrafficGateway(t, addr, gatewayOptions{edit: plans, identities: true})
	if _, err := call(gw, "k1", "gold"); err != nil {
		t.Fatalf("call 3 of 3 after a restart: %v", err)
	}
	before := backend.Calls()
	_, err := call(gw, "k1", "gold")
	if st := status.Convert(err); st.Code() != codes.ResourceExhausted || !strings.Contains(st.Message(), "quota") {
		t.Fatalf("call 4 of 3 after a restart: got %v, want RESOURCE_EXHAUSTED quota exceeded", err)
	}
	if backend.Calls() != before {
		t.Error("a call over quota reached the backend")
	}
	// A key naming a plan the config lacks.
	if _, err := call(gw, "k3", "platinum"); status.Code(err) != codes.PermissionDenied {
		t.Errorf("unknown plan: got %v, want PERMISSION_DENIED", err)
	}
}

func TestTrafficRateLimitConfigErrors(t *testing.T) {
	for _, tc := range []struct {
		name  string
		edit  func(*configv1.Config)
		field string
		msg   string
	}{
		{"unknown policy", func(c *configv1.Config) {
			c.RateLimits = &configv1.RateLimits{Policies: []*configv1.RateLimitPolicy{perIP("1/s", 0)}}
			c.Apis[0].RateLimits = []string{"per-ip", "per-ipp"}
		}, "apis[0].rate_limits[1]", `unknown rate limit policy "per-ipp" (known: per-ip)`},
		{"unknown policy on a method", func(c *configv1.Config) {
			c.UsagePlans = []*configv1.UsagePlan{{Name: "gold", Rate: "1/s"}}
			c.Apis[0].Methods = []*configv1.MethodPolicy{{Selector: "example.bookstore.v1.BookstoreService.GetShelf", RateLimits: []string{"x"}}}
		}, "apis[0].methods[0].rate_limits[0]", "rate_limits.policies defines none"},
		{"duplicate policy", func(c *configv1.Config) {
			c.RateLimits = &configv1.RateLimits{Policies: []*configv1.RateLimitPolicy{perIP("1/s", 0), perIP("2/s", 0)}}
		}, "rate_limits.policies[1].name", "defined twice"},
		{"quota without state_dir", func(c *configv1.Config) {
			c.UsagePlans = []*configv1.UsagePlan{{Name: "free", Rate: "1/s"}, {Name: "gold", Quota: &configv1.Quota{Limit: 10, Period: "day"}}}
		}, "usage_plans[1].quota", "state_dir"},
		{"redis without address", func(c *configv1.Config) {
			c.RateLimits = &configv1.RateLimits{Store: "redis", Policies: []*configv1.RateLimitPolicy{perIP("1/s", 0)}}
		}, "rate_limits.redis.address", "required"},
		{"bad CIDR", func(c *configv1.Config) {
			c.Network = &configv1.Network{Deny: []string{"203.0.113.0/24", "203.0.113.0/40"}}
		}, "network.deny[1]", "not a CIDR"},
		{"bad API CIDR", func(c *configv1.Config) {
			c.Apis[0].Network = &configv1.IpRules{Allow: []string{"nope"}}
		}, "apis[0].network.allow[0]", "not an address"},
		{"credentials for any origin", func(c *configv1.Config) {
			c.Cors = &configv1.Cors{AllowedOrigins: []string{"*"}, AllowCredentials: true}
		}, "cors.allow_credentials", "any origin"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			cfg := servertest.BookstoreConfig("127.0.0.1:1")
			tc.edit(cfg)
			snap, err := snapshot.Build(&config.File{Config: cfg, Dir: t.TempDir()}, snapshot.Options{})
			if err == nil {
				snap.Close()
				t.Fatal("got no error")
			}
			ce, ok := err.(config.Errors)
			if !ok || len(ce) == 0 {
				t.Fatalf("got %T %v, want config.Errors", err, err)
			}
			if ce[0].Field != tc.field || !strings.Contains(ce[0].Message, tc.msg) {
				t.Errorf("got %v, want %s: …%s…", err, tc.field, tc.msg)
			}
		})
	}
}
