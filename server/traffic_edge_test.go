package server_test

import (
	"context"
	"net/http"
	"strings"
	"testing"
	"time"

	bookstorev1 "github.com/portico-gw/portico/gen/example/bookstore/v1"
	configv1 "github.com/portico-gw/portico/gen/portico/config/v1"
	"github.com/portico-gw/portico/server/servertest"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/metadata"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/types/known/durationpb"
)

func grpcListShelves(gw *trafficGateway, kv ...string) error {
	ctx := context.Background()
	if len(kv) > 0 {
		ctx = metadata.AppendToOutgoingContext(ctx, kv...)
	}
	_, err := bookstorev1.NewBookstoreServiceClient(gw.conn).ListShelves(ctx, &bookstorev1.ListShelvesRequest{})
	return err
}

func TestTrafficClientIPBehindTrustedProxy(t *testing.T) {
	backend, addr := trafficBackend(t)
	gw := startTrafficGateway(t, addr, gatewayOptions{edit: chain(
		func(c *configv1.Config) {
			// The test client, on loopback, plays the proxy.
			c.Network = &configv1.Network{TrustedProxies: []string{"127.0.0.1"}, Deny: []string{"203.0.113.0/24"}}
		},
		withRateLimits(perIP("1/h", 1)),
	)})
	client := servertest.Client()
	before := backend.Calls()
	rc := doREST(t, client, "GET", gw.url+"/v1/shelves", "", "X-Forwarded-For", "198.51.100.1, 203.0.113.5")
	if rc.status != http.StatusForbidden || rc.body["code"] != float64(codes.PermissionDenied) {
		t.Errorf("denied client behind the proxy: got %d %s, want 403 with code 7", rc.status, rc.raw)
	}
	if err := grpcListShelves(gw, "x-forwarded-for", "203.0.113.5"); status.Code(err) != codes.PermissionDenied {
		t.Errorf("gRPC, denied client behind the proxy: got %v, want PERMISSION_DENIED", err)
	}
	if backend.Calls() != before {
		t.Error("a denied call reached the backend")
	}
	// The limit counts per client behind the proxy, not per proxy.
	for _, ip := range []string{"198.51.100.1", "198.51.100.2"} {
		if rc := doREST(t, client, "GET", gw.url+"/v1/shelves", "", "X-Forwarded-For", ip); rc.status != http.StatusOK {
			t.Errorf("first call of %s: got %d, want 200", ip, rc.status)
		}
	}
	if rc := doREST(t, client, "GET", gw.url+"/v1/shelves", "", "X-Forwarded-For", "198.51.100.1"); rc.status != http.StatusTooManyRequests {
		t.Errorf("second call of 198.51.100.1: got %d, want 429", rc.status)
	}
	if err := grpcListShelves(gw, "x-forwarded-for", "198.51.100.2"); status.Code(err) != codes.ResourceExhausted {
		t.Errorf("gRPC, second call of 198.51.100.2: got %v, want RESOURCE_EXHAUSTED", err)
	}
	if err := grpcListShelves(gw, "x-forwarded-for", "198.51.100.3"); err != nil {
		t.Errorf("gRPC, first call of 198.51.100.3: %v", err)
	}
}

func TestTrafficSpoofedForwardingIgnored(t *testing.T) {
	_, addr := trafficBackend(t)
	gw := startTrafficGateway(t, addr, gatewayOptions{edit: chain(
		func(c *configv1.Config) {
			c.Network = &configv1.Network{TrustedProxies: []string{"10.0.0.0/8"}, Deny: []string{"203.0.113.0/24"}}
		},
		withRateLimits(perIP("1/h", 1)),
	)})
	client := servertest.Client()
	// The peer (loopback) is not a trusted proxy: its headers change
	// nothing — not the deny list, not the limit's key.
	if rc := doREST(t, client, "GET", gw.url+"/v1/shelves", "", "X-Forwarded-For", "203.0.113.5"); rc.status != http.StatusOK {
		t.Errorf("spoofed denied address: got %d, want 200", rc.status)
	}
	if rc := doREST(t, client, "GET", gw.url+"/v1/shelves", "", "Forwarded", "for=198.51.100.77"); rc.status != http.StatusTooManyRequests {
		t.Errorf("spoofed fresh address: got %d, want 429 (counted as the peer)", rc.status)
	}
}

func TestTrafficGlobalAllowList(t *testing.T) {
	backend, addr := trafficBackend(t)
	gw := startTrafficGateway(t, addr, gatewayOptions{edit: func(c *configv1.Config) {
		c.Network = &configv1.Network{Allow: []string{"10.0.0.0/8"}}
	}})
	if rc := doREST(t, servertest.Client(), "GET", gw.url+"/v1/shelves", ""); rc.status != http.StatusForbidden {
		t.Errorf("REST from outside the allow list: got %d, want 403", rc.status)
	}
	if err := grpcListShelves(gw); status.Code(err) != codes.PermissionDenied {
		t.Errorf("gRPC from outside the allow list: got %v, want PERMISSION_DENIED", err)
	}
	// Before routing: an unknown path is refused too, not 404.
	if rc := doREST(t, servertest.Client(), "GET", gw.url+"/nowhere", ""); rc.status != http.StatusForbidden {
		t.Errorf("unknown path from outside the allow list: got %d, want 403", rc.status)
	}
	if backend.Calls() != 0 {
		t.Errorf("backend calls: got %d, want 0", backend.Calls())
	}
}

func TestTrafficAPINetworkRules(t *testing.T) {
	for _, rules := range []*configv1.IpRules{
		{Deny: []string{"127.0.0.0/8"}},
		{Allow: []string{"10.0.0.0/8", "::1"}},
	} {
		backend, addr := trafficBackend(t)
		gw := startTrafficGateway(t, addr, gatewayOptions{edit: func(c *configv1.Config) { c.Apis[0].Network = rules }})
		rc := doREST(t, servertest.Client(), "GET", gw.url+"/v1/shelves", "")
		if rc.status != http.StatusForbidden || !strings.Contains(rc.raw, "client address not allowed") {
			t.Errorf("%v: REST: got %d %s, want 403", rules, rc.status, rc.raw)
		}
		if err := grpcListShelves(gw); status.Code(err) != codes.PermissionDenied {
			t.Errorf("%v: gRPC: got %v, want PERMISSION_DENIED", rules, err)
		}
		// The API's rules apply to its methods: an unknown path is a 404.
		if rc := doREST(t, servertest.Client(), "GET", gw.url+"/nowhere", ""); rc.status != http.StatusNotFound {
			t.Errorf("%v: unknown path: got %d, want 404", rules, rc.status)
		}
		if backend.Calls() != 0 {
			t.Errorf("%v: backend calls: got %d, want 0", rules, backend.Calls())
		}
	}
}

func TestTrafficCORS(t *testing.T) {
	backend, addr := trafficBackend(t)
	gw := startTrafficGateway(t, addr, gatewayOptions{edit: chain(
		func(c *configv1.Config) {
			c.Cors = &configv1.Cors{
				AllowedOrigins: []string{"https://app.example.com"},
				AllowedHeaders: []string{"authorization", "content-type", "x-api-key"},
				MaxAge:         durationpb.New(10 * time.Minute),
			}
		},
		withRateLimits(perIP("1/h", 1)),
	)})
	client := servertest.Client()
	// Spend the limit: a preflight is answered before any gate, so it
	// still gets through.
	if rc := doREST(t, client, "GET", gw.url+"/v1/shelves", ""); rc.status != 200 {
		t.Fatalf("first call: got %d", rc.status)
	}
	calls := backend.Calls()
	rc := doREST(t, client, "OPTIONS", gw.url+"/v1/shelves", "",
		"Origin", "https://app.example.com", "Access-Control-Request-Method", "POST", "Access-Control-Request-Headers", "content-type,x-api-key")
	if rc.status != http.StatusNoContent {
		t.Fatalf("preflight: got %d %s, want 204", rc.status, rc.raw)
	}
	for k, want := range map[string]string{
		"Access-Control-Allow-Origin":  "https://app.example.com",
		"Access-Control-Allow-Methods": "POST",
		"Access-Control-Allow-Headers": "content-type,x-api-key",
		"Access-Control-Max-Age":       "600",
	} {
		if got := rc.header.Get(k); got != want {
			t.Errorf("preflight %s: got %q, want %q", k, got, want)
		}
	}
	if !strings.Contains(strings.Join(rc.header.Values("Vary"), ","), "Origin") {
		t.Errorf("preflight Vary: got %q", rc.header.Values("Vary"))
	}
	if backend.Calls() != calls {
		t.Error("a preflight reached the backend")
	}
	rc = doREST(t, client, "OPTIONS", gw.url+"/v1/shelves", "", "Origin", "https://evil.example", "Access-Control-Request-Method", "POST")
	if rc.header.Get("Access-Control-Allow-Origin") != "" || rc.header.Get("Access-Control-Allow-Methods") != "" {
		t.Errorf("preflight from a disallowed origin: got CORS headers %v", rc.header)
	}
	// An actual request: CORS headers on the answer, even a refusal,
	// with the rate-limit headers exposed to scripts.
	rc = doREST(t, client, "GET", gw.url+"/v1/shelves", "", "Origin", "https://app.example.com")
	if rc.status != http.StatusTooManyRequests || rc.header.Get("Access-Control-Allow-Origin") != "https://app.example.com" {
		t.Errorf("actual request: got %d, Allow-Origin %q; want 429 with CORS headers", rc.status, rc.header.Get("Access-Control-Allow-Origin"))
	}
	if got := rc.header.Get("Access-Control-Expose-Headers"); !strings.Contains(got, "Retry-After") {
		t.Errorf("Expose-Headers: got %q, want the rate-limit headers", got)
	}
	rc = doREST(t, client, "GET", gw.url+"/v1/shelves", "", "Origin", "https://evil.example")
	if rc.header.Get("Access-Control-Allow-Origin") != "" || rc.header.Get("Vary") != "Origin" {
		t.Errorf("disallowed origin: got Allow-Origin %q, Vary %q; want none, Origin", rc.header.Get("Access-Control-Allow-Origin"), rc.header.Get("Vary"))
	}
}

func TestTrafficCSRF(t *testing.T) {
	backend, addr := trafficBackend(t)
	gw := startTrafficGateway(t, addr, gatewayOptions{edit: func(c *configv1.Config) {
		c.Cors = &configv1.Cors{AllowedOrigins: []string{"https://app.example.com"}}
	}})
	client := servertest.Client()
	body := `{"theme":"Poetry"}`
	for _, kv := range [][]string{
		{"Sec-Fetch-Site", "cross-site", "Origin", "https://evil.example", "Content-Type", "text/plain;charset=UTF-8", "Cookie", "session=s3cr3t"},
		{"Origin", "https://evil.example", "Content-Type", "application/x-www-form-urlencoded"},
		{"Sec-Fetch-Site", "cross-site", "Content-Type", "multipart/form-data; boundary=x"},
		// JSON needs a preflight, which CORS refuses for this origin: a
		// request that comes anyway did not come through it.
		{"Sec-Fetch-Site", "cross-site", "Origin", "https://evil.example", "Content-Type", "application/json"},
	} {
		calls := backend.Calls()
		rc := doREST(t, client, "POST", gw.url+"/v1/shelves", body, kv...)
		if rc.status != http.StatusForbidden || rc.body["code"] != float64(codes.PermissionDenied) {
			t.Errorf("%v: got %d %s, want 403 with a JSON error", kv, rc.status, rc.raw)
		}
		if backend.Calls() != calls {
			t.Errorf("%v: a cross-site form post reached the backend", kv)
		}
	}
	for _, kv := range [][]string{
		// curl -d from a terminal: no Origin.
		{"Content-Type", "application/x-www-form-urlencoded"},
		// The allowed origin's page.
		{"Sec-Fetch-Site", "cross-site", "Origin", "https://app.example.com", "Content-Type", "text/plain"},
	} {
		if rc := doREST(t, client, "POST", gw.url+"/v1/shelves", body, kv...); rc.status != http.StatusOK {
			t.Errorf("%v: got %d %s, want 200", kv, rc.status, rc.raw)
		}
	}
}

func TestTrafficCSRFWithoutCORSConfig(t *testing.T) {
	_, addr := trafficBackend(t)
	gw := startTrafficGateway(t, addr, gatewayOptions{})
	rc := doREST(t, servertest.Client(), "POST", gw.url+"/v1/shelves", `{"theme":"x"}`,
		"Sec-Fetch-Site", "cross-site", "Origin", "https://evil.example", "Content-Type", "text/plain")
	if rc.status != http.StatusForbidden {
		t.Errorf("no cors section: got %d, want 403 (CSRF protection is on by default)", rc.status)
	}
}
