package server_test

// http integrations with several URLs, seen from the doors: two real
// HTTP backends behind one integration; one killed, failing or failing
// its health check changes nothing for idempotent calls (retries on the
// other URL, outlier ejection, the health check), a POST is never sent
// twice; the admin API and the metrics show each URL's state.

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	messagingv1 "github.com/portico-gw/portico/gen/example/messaging/v1"
	adminv1 "github.com/portico-gw/portico/gen/portico/admin/v1"
	configv1 "github.com/portico-gw/portico/gen/portico/config/v1"
	"github.com/portico-gw/portico/server/servertest"
	"google.golang.org/protobuf/types/known/durationpb"
)

// restShelves is a real HTTP backend under /api: a GET answers
// {"messageId": the path's last segment} (the messaging service's
// GetMessageById), a POST echoes its body; /healthz answers 200 while
// healthy. It answers code when not 200, and logs what it got.
type restShelves struct {
	name    string
	url     string
	srv     *httptest.Server
	code    atomic.Int32
	healthy atomic.Bool
	hang    chan struct{} // non-nil: requests wait for it (or their end)
	hits    atomic.Int64
	mu      sync.Mutex
	reqs    []seenRequest
}

type seenRequest struct {
	method, path, body string
	header             http.Header
}

func startShelves(t *testing.T, name string) *restShelves {
	t.Helper()
	s := &restShelves{name: name}
	s.code.Store(200)
	s.healthy.Store(true)
	s.srv = httptest.NewServer(http.HandlerFunc(s.serve))
	t.Cleanup(s.srv.Close)
	s.url = s.srv.URL + "/api"
	return s
}

func (s *restShelves) serve(w http.ResponseWriter, r *http.Request) {
	if r.URL.Path == "/healthz" {
		if !s.healthy.Load() {
			w.WriteHeader(http.StatusServiceUnavailable)
		}
		return
	}
	body, _ := io.ReadAll(r.Body)
	s.hits.Add(1)
	s.mu.Lock()
	s.reqs = append(s.reqs, seenRequest{method: r.Method, path: r.URL.Path, body: string(body), header: r.Header.Clone()})
	s.mu.Unlock()
	if s.hang != nil {
		select {
		case <-s.hang:
		case <-r.Context().Done():
			return
		}
	}
	if c := int(s.code.Load()); c != 200 {
		http.Error(w, `{"error":{"message":"failing"}}`, c)
		return
	}
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("X-Replica", s.name)
	if r.Method == http.MethodPost {
		_, _ = w.Write(body)
		return
	}
	_ = json.NewEncoder(w).Encode(map[string]string{"messageId": r.URL.Path[strings.LastIndexByte(r.URL.Path, '/')+1:]})
}

func (s *restShelves) requests() []seenRequest {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]seenRequest(nil), s.reqs...)
}

// legacyGateway exposes the messaging service through an http integration
// "legacy" over the replicas' URLs (edit sets its resilience), with a
// plain route /legacy/ to it, metrics on.
func legacyGateway(t *testing.T, edit func(*configv1.HttpIntegration), replicas ...*restShelves) *servertest.Env {
	h := &configv1.HttpIntegration{Timeout: durationpb.New(5 * time.Second)}
	for _, r := range replicas {
		h.Urls = append(h.Urls, r.url)
	}
	edit(h)
	return servertest.StartGateway(t, "127.0.0.1:1", servertest.Options{Config: func(c *configv1.Config) {
		c.Telemetry = &configv1.Telemetry{Metrics: &configv1.Metrics{Prometheus: true}}
		c.Integrations = []*configv1.Integration{{Name: "legacy", Kind: &configv1.Integration_Http{Http: h}}}
		c.Apis = []*configv1.Api{{Services: []string{messaging}, Integration: "legacy"}}
		c.Routes = []*configv1.Route{{Prefix: "/legacy/", Integration: "legacy", StripPrefix: true, Auth: &configv1.ApiAuth{Public: true}}}
	}})
}

// getEverywhere sends GetMessageById once on each door and once through
// the plain route; it reports the failures.
func getEverywhere(t *testing.T, env *servertest.Env) []string {
	t.Helper()
	var failed []string
	if resp, body := get(t, env.URL+"/v1/messages/7"); resp.StatusCode != http.StatusOK || !strings.Contains(string(body), `"messageId":"7"`) {
		failed = append(failed, "REST: "+resp.Status+" "+truncate(body))
	}
	got, err := messagingv1.NewMessagingServiceClient(env.Conn).GetMessageById(ctxT(t), &messagingv1.GetMessageByIdRequest{MessageId: "7"})
	if err != nil || got.GetMessageId() != "7" {
		failed = append(failed, fmt.Sprintf("gRPC: %v %v", got, err))
	}
	if resp, body := get(t, env.URL+"/legacy/v1/messages/7"); resp.StatusCode != http.StatusOK {
		failed = append(failed, "route: "+resp.Status+" "+truncate(body))
	}
	return failed
}

func legacyEndpoints(t *testing.T, env *servertest.Env) []*adminv1.Endpoint {
	t.Helper()
	var ints adminv1.ListIntegrationsResponse
	adminREST(t, env.Server, http.MethodGet, "/v1/integrations", "", &ints)
	for _, in := range ints.GetIntegrations() {
		if in.GetName() == "legacy" {
			return in.GetEndpoints()
		}
	}
	t.Fatal("no integration legacy in the admin API")
	return nil
}

// TestHTTPResilienceKilledBackend: one of two backends killed, no GET
// fails on either door nor through the plain route: the attempts that
// met the dead URL are retried on the other, and after two failures in a
// row it is ejected (admin API: ejected; metrics: retries, the ejection,
// the URL's state).
func TestHTTPResilienceKilledBackend(t *testing.T) {
	a, b := startShelves(t, "a"), startShelves(t, "b")
	env := legacyGateway(t, func(h *configv1.HttpIntegration) {
		h.Retry = &configv1.HttpRetry{MaxAttempts: 3, On: []string{"502", "503", "504", "connect_failure"}}
		h.OutlierDetection = &configv1.OutlierDetection{ConsecutiveFailures: 2, BaseEjectionTime: durationpb.New(time.Minute)}
	}, a, b)
	for range 2 {
		if failed := getEverywhere(t, env); len(failed) > 0 {
			t.Fatalf("both backends up: %v", failed)
		}
	}
	if a.hits.Load() != 3 || b.hits.Load() != 3 {
		t.Errorf("round robin: got a %d, b %d calls; want 3 each", a.hits.Load(), b.hits.Load())
	}
	b.srv.Close()
	for k := range 10 {
		if failed := getEverywhere(t, env); len(failed) > 0 {
			t.Errorf("round %d with b killed: %v", k, failed)
		}
	}
	eps := legacyEndpoints(t, env)
	if len(eps) != 2 || eps[0].GetState() != "healthy" || eps[1].GetState() != "ejected" || !eps[1].GetUnavailable() {
		t.Errorf("admin endpoints: got %v, want a healthy, b ejected", eps)
	}
	families, _ := scrape(t, env.Server)
	if m := series(t, families, "portico_retries_total", map[string]string{"integration": "legacy"}); m.GetCounter().GetValue() != 2 {
		t.Errorf("portico_retries_total: got %v, want 2 (two attempts met b before its ejection)", m.GetCounter().GetValue())
	}
	if m := series(t, families, "portico_ejections_total", map[string]string{"integration": "legacy", "endpoint": b.url}); m.GetCounter().GetValue() != 1 {
		t.Errorf("portico_ejections_total: got %v, want 1", m.GetCounter().GetValue())
	}
	if m := series(t, families, "portico_endpoint_state", map[string]string{"integration": "legacy", "endpoint": b.url}); m.GetGauge().GetValue() != 1 {
		t.Errorf("portico_endpoint_state: got %v, want 1 (ejected)", m.GetGauge().GetValue())
	}
}

// TestHTTPResiliencePOSTNotRetried: with one backend answering 503, GETs
// are retried on the other and all pass; a POST that met it fails (503)
// and reached no other backend, on the REST door and the plain route.
func TestHTTPResiliencePOSTNotRetried(t *testing.T) {
	a, b := startShelves(t, "a"), startShelves(t, "b")
	b.code.Store(http.StatusServiceUnavailable)
	env := legacyGateway(t, func(h *configv1.HttpIntegration) {
		h.Retry = &configv1.HttpRetry{MaxAttempts: 2, On: []string{"503"}}
	}, a, b)
	for range 3 {
		if failed := getEverywhere(t, env); len(failed) > 0 {
			t.Errorf("GETs with b failing: %v", failed)
		}
	}
	for _, url := range []string{env.URL + "/v1/operations/x:cancel", env.URL + "/legacy/v1/operations/x:cancel"} {
		beforeA, beforeB := a.hits.Load(), b.hits.Load()
		statuses := map[int]int{}
		for range 2 {
			resp, _ := post(t, url, `{}`)
			statuses[resp.StatusCode]++
		}
		if statuses[200] != 1 || statuses[503] != 1 {
			t.Errorf("POST %s twice: got %v, want one 200 and one 503", url, statuses)
		}
		if da, db := a.hits.Load()-beforeA, b.hits.Load()-beforeB; da != 1 || db != 1 {
			t.Errorf("POST %s twice: got a %d, b %d attempts; want 1 each (never retried)", url, da, db)
		}
	}
}

// TestHTTPHealthCheckFromGateway: a backend failing its health check
// (run every 20ms) leaves the rotation — admin API unhealthy, no calls —
// and comes back when it passes.
func TestHTTPHealthCheckFromGateway(t *testing.T) {
	a, b := startShelves(t, "a"), startShelves(t, "b")
	env := legacyGateway(t, func(h *configv1.HttpIntegration) {
		h.HealthCheck = &configv1.HttpHealthCheck{Path: "/healthz", Interval: durationpb.New(20 * time.Millisecond)}
	}, a, b)
	b.healthy.Store(false)
	eventually(t, "b unhealthy in the admin API", func() bool { return legacyEndpoints(t, env)[1].GetState() == "unhealthy" })
	before := b.hits.Load()
	for range 3 {
		if failed := getEverywhere(t, env); len(failed) > 0 {
			t.Errorf("b unhealthy: %v", failed)
		}
	}
	if got := b.hits.Load() - before; got != 0 {
		t.Errorf("b unhealthy: got %d calls, want 0", got)
	}
	b.healthy.Store(true)
	eventually(t, "b healthy again", func() bool { return legacyEndpoints(t, env)[1].GetState() == "healthy" })
	for range 3 {
		if failed := getEverywhere(t, env); len(failed) > 0 {
			t.Errorf("b healthy again: %v", failed)
		}
	}
	if got := b.hits.Load() - before; got < 4 {
		t.Errorf("b healthy again: got %d of 9 calls, want about half", got)
	}
}
