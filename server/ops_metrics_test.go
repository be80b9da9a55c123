package server_test

// Prometheus metrics on the admin listener.

import (
	"bytes"
	"context"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	bookstorev1 "github.com/portico-gw/portico/gen/example/bookstore/v1"
	configv1 "github.com/portico-gw/portico/gen/portico/config/v1"
	"github.com/portico-gw/portico/server"
	"github.com/portico-gw/portico/server/servertest"
	"github.com/portico-gw/portico/snapshot"
	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"
	"google.golang.org/grpc/codes"
	healthpb "google.golang.org/grpc/health/grpc_health_v1"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/types/known/emptypb"
)

// scrape reads /metrics from the admin listener and parses it with
// Prometheus' own text parser.
func scrape(t *testing.T, s *server.Server) (map[string]*dto.MetricFamily, string) {
	t.Helper()
	code, body := opsGet(t, "http://"+s.AdminAddr+"/metrics", nil)
	if code != 200 {
		t.Fatalf("GET /metrics: got %d %s", code, body)
	}
	p := expfmt.NewTextParser(model.UTF8Validation)
	families, err := p.TextToMetricFamilies(bytes.NewReader(body))
	if err != nil {
		t.Fatalf("parsing /metrics: %v", err)
	}
	return families, string(body)
}

// series finds the metric of family with exactly these labels (the
// unlisted ones empty or absent).
func series(t *testing.T, families map[string]*dto.MetricFamily, family string, labels map[string]string) *dto.Metric {
	t.Helper()
	f, ok := families[family]
	if !ok {
		t.Fatalf("no metric family %s", family)
	}
next:
	for _, m := range f.GetMetric() {
		have := map[string]string{}
		for _, lp := range m.GetLabel() {
			have[lp.GetName()] = lp.GetValue()
		}
		for k, v := range labels {
			if have[k] != v {
				continue next
			}
		}
		return m
	}
	return nil
}

func TestMetricsPrometheus(t *testing.T) {
	env := servertest.Start(t, servertest.Options{Config: func(c *configv1.Config) {
		c.Telemetry = &configv1.Telemetry{Metrics: &configv1.Metrics{Prometheus: true}}
		withDocs(c)
	}})
	for i := 0; i < 2; i++ {
		opsGet(t, env.URL+"/v1/shelves/1", nil)
	}
	opsGet(t, env.URL+"/no/such/route", nil)
	opsGet(t, env.URL+"/openapi.json", nil)
	req, _ := http.NewRequest(http.MethodDelete, env.URL+"/v1/shelves", nil)
	if resp, err := servertest.Client().Do(req); err == nil {
		resp.Body.Close()
	}
	if resp, err := servertest.Client().Post(env.URL+"/v1/shelves", "application/json", strings.NewReader(`{"theme":""}`)); err == nil {
		resp.Body.Close()
	}
	client := bookstorev1.NewBookstoreServiceClient(env.Conn)
	if _, err := client.GetShelf(context.Background(), &bookstorev1.GetShelfRequest{Shelf: 1}); err != nil {
		t.Fatal(err)
	}
	const random = "/no.such.Service/Random8c1f2"
	if err := env.Conn.Invoke(context.Background(), random, &emptypb.Empty{}, &emptypb.Empty{}); status.Code(err) != codes.Unimplemented {
		t.Fatalf("unknown method: got %v, want UNIMPLEMENTED", err)
	}
	if _, err := healthpb.NewHealthClient(env.Conn).Check(context.Background(), &healthpb.HealthCheckRequest{}); err != nil {
		t.Fatal(err)
	}

	const api, getShelf = "example.bookstore.v1.BookstoreService", "/example.bookstore.v1.BookstoreService/GetShelf"
	want := []struct {
		labels map[string]string
		count  uint64
	}{
		{map[string]string{"door": "rest", "api": api, "method": getShelf, "route": "/v1/shelves/{shelf}", "status": "200"}, 2},
		{map[string]string{"door": "rest", "api": "", "method": "", "route": "", "status": "404"}, 1},
		{map[string]string{"door": "rest", "route": "", "status": "405"}, 1}, // the door matched no route
		{map[string]string{"door": "rest", "route": "/openapi.json", "status": "200"}, 1},
		{map[string]string{"door": "rest", "method": "/example.bookstore.v1.BookstoreService/CreateShelf", "status": "400"}, 1},
		{map[string]string{"door": "grpc", "api": api, "method": getShelf, "route": getShelf, "status": "OK"}, 1},
		{map[string]string{"door": "grpc", "api": "", "method": "", "route": "", "status": "UNIMPLEMENTED"}, 1},
		{map[string]string{"door": "grpc", "method": "/grpc.health.v1.Health/Check", "status": "OK"}, 1},
	}
	mismatches := func(families map[string]*dto.MetricFamily) []string {
		var out []string
		for _, tc := range want {
			m := series(t, families, "portico_request_duration_seconds", tc.labels)
			if m == nil || m.GetHistogram().GetSampleCount() != tc.count {
				out = append(out, fmt.Sprintf("portico_request_duration_seconds%v: got %v, want a count of %d", tc.labels, m.GetHistogram(), tc.count))
			}
		}
		return out
	}
	// A gRPC call is recorded when the server's stats handler sees its end,
	// which may come just after the client has its answer: scrape until
	// every call is in (or time is up, and the test fails below).
	var families map[string]*dto.MetricFamily
	var text string
	deadline := time.Now().Add(10 * time.Second)
	tick := time.NewTicker(5 * time.Millisecond)
	defer tick.Stop()
	for {
		families, text = scrape(t, env.Server)
		if len(mismatches(families)) == 0 || time.Now().After(deadline) {
			break
		}
		<-tick.C
	}
	for _, m := range mismatches(families) {
		t.Error(m)
	}
	if strings.Contains(text, "Random8c1f2") {
		t.Errorf("a method name a client made up reached the metrics' labels")
	}
	if m := series(t, families, "portico_refusals_total", map[string]string{"door": "rest", "reason": "validation", "method": "/example.bookstore.v1.BookstoreService/CreateShelf"}); m.GetCounter().GetValue() != 1 {
		t.Errorf("validation refusals: got %v, want 1", m)
	}
	if m := series(t, families, "portico_backend_duration_seconds", map[string]string{"integration": "bookstore", "method": getShelf, "status": "OK"}); m.GetHistogram().GetSampleCount() != 3 {
		t.Errorf("backend GetShelf calls: got %v, want 3 (two REST, one gRPC)", m.GetHistogram())
	}
	for _, tc := range []struct {
		family string
		labels map[string]string
	}{
		{"portico_calls_in_flight", map[string]string{"door": "rest"}},
		{"portico_calls_in_flight", map[string]string{"door": "grpc"}},
		{"portico_reloads_total", map[string]string{"outcome": "success"}},
		{"portico_reloads_total", map[string]string{"outcome": "failure"}},
		{"go_goroutine_count", nil},
		{"go_memory_used_bytes", nil},
	} {
		if series(t, families, tc.family, tc.labels) == nil {
			t.Errorf("no %s%v", tc.family, tc.labels)
		}
	}
}

// TestMetricsCountReloads: reloads and their outcome.
func TestMetricsCountReloads(t *testing.T) {
	env := servertest.Start(t, servertest.Options{Config: func(c *configv1.Config) {
		c.Telemetry = &configv1.Telemetry{Metrics: &configv1.Metrics{Prometheus: true}}
	}})
	fail := true
	env.Server.SetRebuild(func(_ context.Context, cur *snapshot.Snapshot) (*snapshot.Snapshot, error) {
		if fail {
			return nil, fmt.Errorf("a broken config")
		}
		return snapshot.Build(cur.Config(), snapshot.Options{})
	})
	_ = env.Server.Reload(context.Background())
	fail = false
	if err := env.Server.Reload(context.Background()); err != nil {
		t.Fatal(err)
	}
	families, _ := scrape(t, env.Server)
	for outcome, want := range map[string]float64{"success": 1, "failure": 1} {
		if m := series(t, families, "portico_reloads_total", map[string]string{"outcome": outcome}); m.GetCounter().GetValue() != want {
			t.Errorf("portico_reloads_total{outcome=%q}: got %v, want %v", outcome, m, want)
		}
	}
}

func TestMetricsNeedTheAdminListener(t *testing.T) {
	cfg := servertest.BookstoreConfig("127.0.0.1:1")
	cfg.Listen.Admin = ""
	cfg.Telemetry = &configv1.Telemetry{Metrics: &configv1.Metrics{Prometheus: true}}
	snap := opsBuild(t, cfg)
	_, err := server.New(snap, server.Listen{HTTP: "127.0.0.1:0"}, nil)
	if err == nil || !strings.Contains(err.Error(), "listen.admin") {
		t.Errorf("metrics without an admin listener: got %v, want an error naming listen.admin", err)
	}
}
