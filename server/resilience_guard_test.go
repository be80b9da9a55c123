package server_test

// The integrations' guards seen from the doors: max_in_flight with its
// queue wait and the circuit breaker refuse with 503 / UNAVAILABLE and
// Retry-After on both doors, without reaching the backend, counted in the
// metrics, with the breaker's state in the admin API.

import (
	"context"
	"net/http"
	"strconv"
	"testing"
	"time"

	"github.com/portico-gw/portico/examples/bookstore"
	bookstorev1 "github.com/portico-gw/portico/gen/example/bookstore/v1"
	adminv1 "github.com/portico-gw/portico/gen/portico/admin/v1"
	configv1 "github.com/portico-gw/portico/gen/portico/config/v1"
	"github.com/portico-gw/portico/server/servertest"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/metadata"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/types/known/durationpb"
)

// guardedBookstore starts the bookstore behind a gateway whose
// integration has the guard edit sets, with metrics, and the bookstore's
// x-delay and x-fail headers forwarded from the REST door.
func guardedBookstore(t *testing.T, edit func(*configv1.GrpcIntegration)) *servertest.Env {
	return servertest.Start(t, servertest.Options{Config: func(c *configv1.Config) {
		c.Telemetry = &configv1.Telemetry{Metrics: &configv1.Metrics{Prometheus: true}}
		c.Rest = &configv1.Rest{ForwardHeaders: []string{bookstore.DelayKey, bookstore.FailKey}}
		edit(c.GetIntegrations()[0].GetGrpc())
	}})
}

// wantRefused checks a REST and a gRPC call of GetShelf are refused with
// 503 / UNAVAILABLE and a Retry-After (seconds) in [least, most], and
// that neither reached the backend.
func wantRefused(t *testing.T, env *servertest.Env, least, most int) {
	t.Helper()
	before := env.Backend.Calls()
	resp, body := get(t, env.URL+"/v1/shelves/1")
	if resp.StatusCode != http.StatusServiceUnavailable || !isJSONError(body) {
		t.Errorf("REST: got %d %s, want 503 with a JSON error", resp.StatusCode, truncate(body))
	}
	inRange := func(v string) bool {
		n, err := strconv.Atoi(v)
		return err == nil && n >= least && n <= most
	}
	if got := resp.Header.Get("Retry-After"); !inRange(got) {
		t.Errorf("REST Retry-After: got %q, want %d to %d", got, least, most)
	}
	var hdr metadata.MD
	_, err := bookstorev1.NewBookstoreServiceClient(env.Conn).GetShelf(context.Background(), &bookstorev1.GetShelfRequest{Shelf: 1}, grpc.Header(&hdr))
	if status.Code(err) != codes.Unavailable {
		t.Errorf("gRPC: got %v, want UNAVAILABLE", err)
	}
	if got := hdr.Get("retry-after"); len(got) != 1 || !inRange(got[0]) {
		t.Errorf("gRPC retry-after: got %q, want %d to %d", got, least, most)
	}
	if got := env.Backend.Calls(); got != before {
		t.Errorf("refused calls reached the backend: %d calls, want %d", got, before)
	}
}

// wantRefusals waits for portico_refusals_total{reason} to count one
// refusal on each door.
func wantRefusals(t *testing.T, env *servertest.Env, reason string) {
	t.Helper()
	eventually(t, "one "+reason+" refusal counted per door", func() bool {
		families, _ := scrape(t, env.Server)
		for _, door := range []string{"rest", "grpc"} {
			m := series(t, families, "portico_refusals_total", map[string]string{"door": door, "reason": reason})
			if m.GetCounter().GetValue() != 1 {
				return false
			}
		}
		return true
	})
}

// TestMaxInFlightOnBothDoors: with the one place under max_in_flight held
// by a call the backend does not answer, calls on both doors wait
// max_queue_wait, then get 503 / UNAVAILABLE with Retry-After, counted as
// "overload"; once the held call ends, calls pass again.
func TestMaxInFlightOnBothDoors(t *testing.T) {
	env := guardedBookstore(t, func(g *configv1.GrpcIntegration) {
		g.MaxInFlight = 1
		g.MaxQueueWait = durationpb.New(20 * time.Millisecond)
	})
	client := bookstorev1.NewBookstoreServiceClient(env.Conn)
	ctx, cancel := context.WithCancel(context.Background())
	held := make(chan error, 1)
	go func() {
		_, err := client.GetShelf(metadata.AppendToOutgoingContext(ctx, bookstore.DelayKey, "1m"), &bookstorev1.GetShelfRequest{Shelf: 1})
		held <- err
	}()
	eventually(t, "the held call to reach the backend", func() bool { return env.Backend.Calls() == 1 })

	start := time.Now()
	wantRefused(t, env, 1, 1)
	if d := time.Since(start); d < 40*time.Millisecond {
		t.Errorf("two refused calls took %v, want each to wait max_queue_wait (20ms)", d)
	}
	wantRefusals(t, env, "overload")

	cancel()
	if err := <-held; status.Code(err) != codes.Canceled {
		t.Errorf("held call: got %v, want CANCELLED", err)
	}
	eventually(t, "calls to pass once the place is free", func() bool {
		_, err := client.GetShelf(context.Background(), &bookstorev1.GetShelfRequest{Shelf: 1})
		return err == nil
	})
}

// TestCircuitBreakerOnBothDoors: failures past the ratio open the
// breaker; then calls on both doors are refused at once with Retry-After
// (the time left before it half-opens), none reaches the backend, the
// refusals are counted as "circuit_open", and the admin API and the
// metrics show the target's breaker open.
func TestCircuitBreakerOnBothDoors(t *testing.T) {
	env := guardedBookstore(t, func(g *configv1.GrpcIntegration) {
		g.CircuitBreaker = &configv1.CircuitBreaker{FailureRatio: 0.5, MinimumCalls: 4, OpenFor: durationpb.New(time.Minute)}
	})
	var ints adminv1.ListIntegrationsResponse
	adminREST(t, env.Server, http.MethodGet, "/v1/integrations", "", &ints)
	if got := ints.GetIntegrations()[0].GetEndpoints(); len(got) != 1 || got[0].GetName() != env.BackendAddr || got[0].GetCircuit() != "closed" {
		t.Fatalf("endpoints before failures: got %v, want %s closed", got, env.BackendAddr)
	}

	client := bookstorev1.NewBookstoreServiceClient(env.Conn)
	for range 4 {
		ctx := metadata.AppendToOutgoingContext(context.Background(), bookstore.FailKey, "UNAVAILABLE")
		if _, err := client.GetShelf(ctx, &bookstorev1.GetShelfRequest{Shelf: 1}); status.Code(err) != codes.Unavailable {
			t.Fatalf("failing call: got %v, want UNAVAILABLE", err)
		}
	}
	if got := env.Backend.Calls(); got != 4 {
		t.Fatalf("backend calls: got %d, want 4", got)
	}
	start := time.Now()
	wantRefused(t, env, 50, 60) // open_for 1m, less the time since it opened
	if d := time.Since(start); d > 2*time.Second {
		t.Errorf("refusals of an open breaker took %v, want them at once", d)
	}
	wantRefusals(t, env, "circuit_open")

	adminREST(t, env.Server, http.MethodGet, "/v1/integrations", "", &ints)
	if got := ints.GetIntegrations()[0].GetEndpoints(); len(got) != 1 || got[0].GetCircuit() != "open" {
		t.Errorf("endpoints after failures: got %v, want the target's breaker open", got)
	}
	families, _ := scrape(t, env.Server)
	m := series(t, families, "portico_circuit_state", map[string]string{"integration": "bookstore", "endpoint": env.BackendAddr})
	if m.GetGauge().GetValue() != 2 {
		t.Errorf("portico_circuit_state: got %v, want 2 (open)", m.GetGauge())
	}
}
