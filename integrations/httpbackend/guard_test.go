package httpbackend

import (
	"net/http"
	"net/http/httptest"
	"sync/atomic"
	"testing"
	"time"

	"github.com/portico-gw/portico/call"
	bookstorev1 "github.com/portico-gw/portico/gen/example/bookstore/v1"
	configv1 "github.com/portico-gw/portico/gen/portico/config/v1"
	"github.com/portico-gw/portico/integrations/guard"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/types/known/durationpb"
)

// flakyServer is a real HTTP backend that answers 503 while failing is
// set, and a shelf otherwise; hits counts the requests it got.
func flakyServer(t *testing.T, failing *atomic.Bool, hits *atomic.Int64) string {
	s := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		hits.Add(1)
		if failing.Load() {
			http.Error(w, "down", http.StatusServiceUnavailable)
			return
		}
		w.Header().Set("Content-Type", "application/json")
		_, _ = w.Write([]byte(`{"id":"1","theme":"x"}`))
	}))
	t.Cleanup(s.Close)
	return s.URL
}

// TestCircuitBreakerOnHTTPBackend: a real HTTP backend answering 503
// opens the breaker; then calls of methods and proxied requests are
// refused at once (503 / UNAVAILABLE, Retry-After, refusal
// "circuit_open") without reaching it; after open_for the breaker
// half-opens and a success closes it.
func TestCircuitBreakerOnHTTPBackend(t *testing.T) {
	var failing atomic.Bool
	var hits atomic.Int64
	failing.Store(true)
	url := flakyServer(t, &failing, &hits)
	const openFor = 300 * time.Millisecond
	i, ms, _ := newIntegration(t, url, &configv1.HttpIntegration{CircuitBreaker: &configv1.CircuitBreaker{
		FailureRatio: 0.5, MinimumCalls: 3, OpenFor: durationpb.New(openFor), HalfOpenCalls: 1}})
	m := method(t, ms, "GetShelf")
	for range 3 {
		if _, err := i.Unary(testContext(t), m, &bookstorev1.GetShelfRequest{Shelf: 1}); status.Code(err) != codes.Unavailable {
			t.Fatalf("failing backend: got %v, want UNAVAILABLE", err)
		}
	}
	if got := i.Endpoints(); len(got) != 1 || got[0].Circuit != "open" {
		t.Fatalf("endpoints: got %v, want the URL's breaker open", got)
	}
	info := &call.Info{Door: call.REST}
	ctx := call.NewContext(testContext(t), info)
	if _, err := i.Unary(ctx, m, &bookstorev1.GetShelfRequest{Shelf: 1}); !guard.Refused(err) {
		t.Errorf("open breaker: got %v, want a refusal", err)
	}
	if info.Refusal != guard.CircuitOpen || info.ResponseHeader().Get("Retry-After") != "1" {
		t.Errorf("open breaker: refusal %q, Retry-After %q; want %q, \"1\"", info.Refusal, info.ResponseHeader().Get("Retry-After"), guard.CircuitOpen)
	}
	proxy, err := i.Proxy(ProxyOptions{})
	if err != nil {
		t.Fatal(err)
	}
	rec := httptest.NewRecorder()
	proxy.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/v1/shelves/1", nil).WithContext(testContext(t)))
	if rec.Code != http.StatusServiceUnavailable {
		t.Errorf("proxied request, open breaker: got %d, want 503", rec.Code)
	}
	if got := hits.Load(); got != 3 {
		t.Errorf("backend hits: got %d, want 3 (nothing past the open breaker)", got)
	}

	failing.Store(false)
	deadline := time.Now().Add(10 * openFor)
	for {
		_, err := i.Unary(testContext(t), m, &bookstorev1.GetShelfRequest{Shelf: 1})
		if err == nil {
			break
		}
		if !guard.Refused(err) || time.Now().After(deadline) {
			t.Fatalf("after open_for: got %v, want the probe to pass", err)
		}
		time.Sleep(openFor / 10) // waiting out open_for, not a server
	}
	if got := i.Endpoints()[0].Circuit; got != "closed" {
		t.Errorf("after a successful probe: breaker %s, want closed", got)
	}
}

// TestMaxInFlightOnHTTPBackend: with the one place held by a request the
// backend does not answer, a proxied request waits max_queue_wait and is
// refused with 503, without reaching the backend.
func TestMaxInFlightOnHTTPBackend(t *testing.T) {
	release := make(chan struct{})
	var hits atomic.Int64
	s := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		hits.Add(1)
		select {
		case <-release:
		case <-r.Context().Done():
		}
	}))
	t.Cleanup(s.Close)
	t.Cleanup(func() { close(release) })
	i, _, _ := newIntegration(t, s.URL, &configv1.HttpIntegration{MaxInFlight: 1, MaxQueueWait: durationpb.New(20 * time.Millisecond)})
	proxy, err := i.Proxy(ProxyOptions{})
	if err != nil {
		t.Fatal(err)
	}
	go proxy.ServeHTTP(httptest.NewRecorder(), httptest.NewRequest(http.MethodGet, "/held", nil).WithContext(testContext(t)))
	for deadline := time.Now().Add(5 * time.Second); hits.Load() == 0; time.Sleep(time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatal("the held request never reached the backend")
		}
	}
	rec := httptest.NewRecorder()
	proxy.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/next", nil).WithContext(testContext(t)))
	if rec.Code != http.StatusServiceUnavailable {
		t.Errorf("second request: got %d, want 503", rec.Code)
	}
	if got := hits.Load(); got != 1 {
		t.Errorf("backend hits: got %d, want 1", got)
	}
}
