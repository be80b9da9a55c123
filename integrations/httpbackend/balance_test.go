package httpbackend

import (
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	bookstorev1 "github.com/portico-gw/portico/gen/example/bookstore/v1"
	configv1 "github.com/portico-gw/portico/gen/portico/config/v1"
	"github.com/portico-gw/portico/integrations"
	"github.com/portico-gw/portico/integrations/outlier"
	"github.com/portico-gw/portico/pool"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/types/known/durationpb"
)

// replica is a real HTTP backend among several: it answers with code
// (200: a shelf) and its health path with 200 while healthy; it logs
// the requests it gets.
type replica struct {
	name    string
	url     string
	code    atomic.Int32
	healthy atomic.Bool
	hits    atomic.Int64
	mu      sync.Mutex
	log     []string // "METHOD path body"
	srv     *httptest.Server
}

func newReplica(t *testing.T, name string, order *[]string, orderMu *sync.Mutex) *replica {
	r := &replica{name: name}
	r.code.Store(200)
	r.healthy.Store(true)
	r.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		if req.URL.Path == "/healthz" {
			if !r.healthy.Load() {
				w.WriteHeader(http.StatusServiceUnavailable)
			}
			return
		}
		body, _ := io.ReadAll(req.Body)
		r.hits.Add(1)
		r.mu.Lock()
		r.log = append(r.log, req.Method+" "+req.URL.Path+" "+string(body))
		r.mu.Unlock()
		if order != nil {
			orderMu.Lock()
			*order = append(*order, name)
			orderMu.Unlock()
		}
		if c := int(r.code.Load()); c != 200 {
			http.Error(w, "failing", c)
			return
		}
		w.Header().Set("Content-Type", "application/json")
		_, _ = w.Write([]byte(`{"id":"1","theme":"` + name + `"}`))
	}))
	t.Cleanup(r.srv.Close)
	r.url = r.srv.URL + "/api"
	return r
}

func urlsOf(rs ...*replica) []string {
	out := make([]string, len(rs))
	for k, r := range rs {
		out[k] = r.url
	}
	return out
}

// TestRoundRobinOrder: calls go to the URLs in turn.
func TestRoundRobinOrder(t *testing.T) {
	var order []string
	var mu sync.Mutex
	a, b, c := newReplica(t, "a", &order, &mu), newReplica(t, "b", &order, &mu), newReplica(t, "c", &order, &mu)
	i, ms, _ := newIntegration(t, "", &configv1.HttpIntegration{Urls: urlsOf(a, b, c), LoadBalancing: "round_robin"})
	m := method(t, ms, "GetShelf")
	for range 6 {
		if _, err := i.Unary(testContext(t), m, &bookstorev1.GetShelfRequest{Shelf: 1}); err != nil {
			t.Fatal(err)
		}
	}
	if got, want := strings.Join(order, ","), "a,b,c,a,b,c"; got != want {
		t.Errorf("order: got %s, want %s", got, want)
	}
	if got := a.log[0]; got != "GET /api/v1/shelves/1 " {
		t.Errorf("request: got %q, want the base path kept", got)
	}
}

// TestHealthCheckOutAndBack: a URL failing its health check leaves the
// rotation (the admin state says unhealthy) and comes back when it
// passes; the checks are rounds the test runs itself (the interval is an
// hour).
func TestHealthCheckOutAndBack(t *testing.T) {
	a, b := newReplica(t, "a", nil, nil), newReplica(t, "b", nil, nil)
	i, ms, _ := newIntegration(t, "", &configv1.HttpIntegration{Urls: urlsOf(a, b),
		HealthCheck: &configv1.HttpHealthCheck{Path: "/healthz", Interval: durationpb.New(time.Hour)}})
	m := method(t, ms, "GetShelf")
	b.healthy.Store(false)
	i.set.check.round()
	if got := i.Endpoints(); got[0].State != "healthy" || got[1].State != "unhealthy" {
		t.Fatalf("endpoints: got %+v, want a healthy, b unhealthy", got)
	}
	for range 4 {
		if _, err := i.Unary(testContext(t), m, &bookstorev1.GetShelfRequest{Shelf: 1}); err != nil {
			t.Fatal(err)
		}
	}
	if a.hits.Load() != 4 || b.hits.Load() != 0 {
		t.Errorf("hits with b unhealthy: got a %d, b %d; want 4, 0", a.hits.Load(), b.hits.Load())
	}
	b.healthy.Store(true)
	i.set.check.round()
	for range 4 {
		if _, err := i.Unary(testContext(t), m, &bookstorev1.GetShelfRequest{Shelf: 1}); err != nil {
			t.Fatal(err)
		}
	}
	if b.hits.Load() != 2 || i.Endpoints()[1].State != "healthy" {
		t.Errorf("b healthy again: got %d hits, state %s; want 2, healthy", b.hits.Load(), i.Endpoints()[1].State)
	}
}

// TestRetryIdempotentOnly: a GET (proto method or proxied) that got a
// listed status is sent again on the other URL; a POST never is; a
// status not listed is not retried; a PUT's body arrives whole on the
// retry.
func TestRetryIdempotentOnly(t *testing.T) {
	bad, good := newReplica(t, "bad", nil, nil), newReplica(t, "good", nil, nil)
	bad.code.Store(http.StatusServiceUnavailable)
	i, ms, _ := newIntegration(t, "", &configv1.HttpIntegration{Urls: urlsOf(bad, good),
		Retry: &configv1.HttpRetry{MaxAttempts: 2, On: []string{"503", "connect_failure"}}})
	get, post := method(t, ms, "GetShelf"), method(t, ms, "CreateShelf")
	for range 4 {
		if _, err := i.Unary(testContext(t), get, &bookstorev1.GetShelfRequest{Shelf: 1}); err != nil {
			t.Errorf("GET with one URL failing: got %v, want it retried on the other", err)
		}
	}
	if got := good.hits.Load(); got != 4 {
		t.Errorf("good URL: got %d calls, want 4", got)
	}
	failed := 0
	before := bad.hits.Load() + good.hits.Load()
	for range 2 {
		if _, err := i.Unary(testContext(t), post, &bookstorev1.CreateShelfRequest{Shelf: &bookstorev1.Shelf{Theme: "x"}}); err != nil {
			if status.Code(err) != codes.Unavailable {
				t.Errorf("POST on the failing URL: got %v, want UNAVAILABLE", err)
			}
			failed++
		}
	}
	if got := bad.hits.Load() + good.hits.Load() - before; failed != 1 || got != 2 {
		t.Errorf("2 POSTs: got %d failed, %d attempts; want 1 failed, 2 attempts (never retried)", failed, got)
	}

	proxy, err := i.Proxy(ProxyOptions{})
	if err != nil {
		t.Fatal(err)
	}
	for range 2 {
		rec := httptest.NewRecorder()
		proxy.ServeHTTP(rec, httptest.NewRequest(http.MethodPut, "/v1/things/1", strings.NewReader(`{"a":1}`)).WithContext(testContext(t)))
		if rec.Code != http.StatusOK {
			t.Errorf("proxied PUT: got %d, want 200 (retried)", rec.Code)
		}
	}
	good.mu.Lock()
	last := good.log[len(good.log)-1]
	good.mu.Unlock()
	if last != `PUT /api/v1/things/1 {"a":1}` {
		t.Errorf("retried PUT at the good URL: got %q, want the whole body", last)
	}
	codes := map[int]int{}
	for range 2 {
		rec := httptest.NewRecorder()
		proxy.ServeHTTP(rec, httptest.NewRequest(http.MethodPost, "/v1/things", strings.NewReader(`{}`)).WithContext(testContext(t)))
		codes[rec.Code]++
	}
	if codes[503] != 1 || codes[200] != 1 {
		t.Errorf("2 proxied POSTs: got %v, want one 503 and one 200 (not retried)", codes)
	}

	bad.code.Store(http.StatusInternalServerError) // not listed
	errs := 0
	for range 2 {
		if _, err := i.Unary(testContext(t), get, &bookstorev1.GetShelfRequest{Shelf: 1}); err != nil {
			errs++
		}
	}
	if errs != 1 {
		t.Errorf("GETs with an unlisted 500: got %d failed, want 1 (not retried)", errs)
	}
}

// TestRetryConnectFailure: a URL nobody listens on is retried on the
// other (connect_failure).
func TestRetryConnectFailure(t *testing.T) {
	dead, good := newReplica(t, "dead", nil, nil), newReplica(t, "good", nil, nil)
	dead.srv.Close()
	i, ms, _ := newIntegration(t, "", &configv1.HttpIntegration{Urls: urlsOf(dead, good),
		Retry: &configv1.HttpRetry{MaxAttempts: 3, On: []string{"connect_failure"}}})
	m := method(t, ms, "GetShelf")
	for range 4 {
		if _, err := i.Unary(testContext(t), m, &bookstorev1.GetShelfRequest{Shelf: 1}); err != nil {
			t.Errorf("GET with one URL down: got %v, want it retried", err)
		}
	}
}

// TestRetryBudget: with every URL failing, retries stay within the
// budget (10 at first, then 0.2 per call) instead of max_attempts-1 per
// call.
func TestRetryBudget(t *testing.T) {
	a, b := newReplica(t, "a", nil, nil), newReplica(t, "b", nil, nil)
	a.code.Store(http.StatusServiceUnavailable)
	b.code.Store(http.StatusServiceUnavailable)
	i, ms, _ := newIntegration(t, "", &configv1.HttpIntegration{Urls: urlsOf(a, b),
		Retry: &configv1.HttpRetry{MaxAttempts: 5, On: []string{"503"}}})
	m := method(t, ms, "GetShelf")
	const calls = 50
	for range calls {
		if _, err := i.Unary(testContext(t), m, &bookstorev1.GetShelfRequest{Shelf: 1}); status.Code(err) != codes.Unavailable {
			t.Fatalf("every URL failing: got %v, want UNAVAILABLE", err)
		}
	}
	retries := a.hits.Load() + b.hits.Load() - calls
	if retries < budgetBurst || float64(retries) > budgetBurst+budgetRatio*calls {
		t.Errorf("retries of %d calls: got %d, want between %d and %v (without a budget: %d)", calls, retries, budgetBurst, budgetBurst+budgetRatio*calls, 4*calls)
	}
}

// TestOutlierEjectionAndReturn: consecutive failures eject a URL (the
// others get its calls) until base_ejection_time has passed.
func TestOutlierEjectionAndReturn(t *testing.T) {
	bad, good := newReplica(t, "bad", nil, nil), newReplica(t, "good", nil, nil)
	bad.code.Store(http.StatusBadGateway)
	i, ms, _ := newIntegration(t, "", &configv1.HttpIntegration{Urls: urlsOf(bad, good),
		OutlierDetection: &configv1.OutlierDetection{ConsecutiveFailures: 2, BaseEjectionTime: durationpb.New(time.Minute)}})
	now := time.Unix(1000, 0)
	i.set.eject = outlier.NewEjector(2, outlier.From(&configv1.OutlierDetection{ConsecutiveFailures: 2, BaseEjectionTime: durationpb.New(time.Minute)}),
		func() time.Time { return now }, i.set.healthy)
	m := method(t, ms, "GetShelf")
	for range 4 { // bad gets calls 1 and 3: two failures in a row
		_, _ = i.Unary(testContext(t), m, &bookstorev1.GetShelfRequest{Shelf: 1})
	}
	if got := i.Endpoints()[0].State; got != "ejected" {
		t.Fatalf("after 2 failures: state %q, want ejected", got)
	}
	before := bad.hits.Load()
	for range 4 {
		if _, err := i.Unary(testContext(t), m, &bookstorev1.GetShelfRequest{Shelf: 1}); err != nil {
			t.Errorf("bad URL ejected: got %v, want the good one to answer", err)
		}
	}
	if got := bad.hits.Load(); got != before {
		t.Errorf("ejected URL: got %d more calls, want 0", got-before)
	}
	bad.code.Store(200)
	now = now.Add(time.Minute)
	for range 4 {
		_, _ = i.Unary(testContext(t), m, &bookstorev1.GetShelfRequest{Shelf: 1})
	}
	if got := bad.hits.Load() - before; got != 2 || i.Endpoints()[0].State != "healthy" {
		t.Errorf("after base_ejection_time: got %d calls, state %s; want 2, healthy", got, i.Endpoints()[0].State)
	}
}

// TestFactoryErrorsSeveralURLs: the settings of several URLs, health
// checks and retries are checked when the integration is built.
func TestFactoryErrorsSeveralURLs(t *testing.T) {
	for _, c := range []struct {
		h    *configv1.HttpIntegration
		want string
	}{
		{&configv1.HttpIntegration{Url: "http://a/api", Urls: []string{"http://b/api"}}, "url or urls, not both"},
		{&configv1.HttpIntegration{Urls: []string{"http://a/api", "http://b/other"}}, "http.urls[1]"},
		{&configv1.HttpIntegration{Urls: []string{"http://a/api", "https://b/api"}}, "scheme and path"},
		{&configv1.HttpIntegration{Urls: []string{"http://a/api", "http://a/api"}}, "listed twice"},
		{&configv1.HttpIntegration{Urls: []string{"http://a/api", "b/api"}}, "http.urls[1]"},
		{&configv1.HttpIntegration{Url: "http://a/", HealthCheck: &configv1.HttpHealthCheck{}}, "health_check.path is required"},
		{&configv1.HttpIntegration{Url: "http://a/", HealthCheck: &configv1.HttpHealthCheck{Path: "/h", Interval: durationpb.New(time.Second),
			Timeout: durationpb.New(2 * time.Second)}}, "longer than its interval"},
		{&configv1.HttpIntegration{Url: "http://a/", Retry: &configv1.HttpRetry{MaxAttempts: 2, On: []string{"404"}}}, `retry.on[0]: "404"`},
		{&configv1.HttpIntegration{Url: "http://a/", Retry: &configv1.HttpRetry{MaxAttempts: 2, On: []string{"timeout"}}}, "connect_failure"},
	} {
		_, err := Factory(integrations.Env{Check: true}, &configv1.Integration{Name: "x", Kind: &configv1.Integration_Http{Http: c.h}})
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%v: got %v, want an error containing %q", c.h, err, c.want)
		}
	}
}

// TestEndpointSetSurvivesReload: two builds of one config (a reload)
// share the URLs' state — the health checks are not restarted, an
// ejection not forgotten — and the checks stop when the last build is
// closed.
func TestEndpointSetSurvivesReload(t *testing.T) {
	a := newReplica(t, "a", nil, nil)
	p := pool.New()
	build := func() *Integration {
		h := &configv1.HttpIntegration{Urls: []string{a.url}, HealthCheck: &configv1.HttpHealthCheck{Path: "/healthz", Interval: durationpb.New(time.Hour)}}
		b, err := Factory(integrations.Env{Pool: p}, &configv1.Integration{Name: "legacy", Kind: &configv1.Integration_Http{Http: h}})
		if err != nil {
			t.Fatal(err)
		}
		return b.(*Integration)
	}
	old, cur := build(), build()
	if old.set != cur.set {
		t.Fatal("a reload with the same settings made a second endpoint set (the health checks restarted)")
	}
	if err := old.Close(); err != nil {
		t.Fatal(err)
	}
	if cur.set.check.ctx.Err() != nil {
		t.Error("closing the old build stopped the checks the new one uses")
	}
	if err := cur.Close(); err != nil {
		t.Fatal(err)
	}
	select {
	case <-cur.set.check.done:
	default:
		t.Error("closing the last build left the health checks running")
	}
	if n := p.Len(); n != 0 {
		t.Errorf("pool after both closed: %d entries, want 0", n)
	}
}
