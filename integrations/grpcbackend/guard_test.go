package grpcbackend

import (
	"context"
	"sync"
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

// hangingShelves answers GetShelf only when release is closed (or the
// call's context ends), counting the calls it holds.
func hangingShelves(release <-chan struct{}, held *atomic.Int64) *scriptedShelves {
	return &scriptedShelves{answer: func(ctx context.Context, _ int64) (*bookstorev1.Shelf, error) {
		held.Add(1)
		defer held.Add(-1)
		select {
		case <-release:
			return &bookstorev1.Shelf{Id: 1}, nil
		case <-ctx.Done():
			return nil, status.FromContextError(ctx.Err()).Err()
		}
	}}
}

// restCall returns a context carrying a REST call's Info, as the door
// makes it.
func restCall(t *testing.T) (context.Context, *call.Info) {
	info := &call.Info{Door: call.REST}
	return call.NewContext(testContext(t), info), info
}

// waitFor polls cond (what a backend holds) until it holds, or fails.
func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(time.Millisecond) // polling a counter, not waiting for a server to start
	}
}

// TestMaxInFlightRefusesPastQueueWait: with max_in_flight calls held by a
// backend that does not answer, the next call waits max_queue_wait, then
// is refused with UNAVAILABLE, Retry-After and the refusal "overload" —
// and never reaches the backend.
func TestMaxInFlightRefusesPastQueueWait(t *testing.T) {
	release := make(chan struct{})
	var held atomic.Int64
	s := hangingShelves(release, &held)
	i, methods := build(t, &configv1.GrpcIntegration{Target: startScripted(t, s), MaxInFlight: 2, MaxQueueWait: durationpb.New(50 * time.Millisecond)})
	m := bookMethod(t, methods, "GetShelf")
	var wg sync.WaitGroup
	for range 2 {
		wg.Go(func() { _, _ = i.Unary(testContext(t), m, &bookstorev1.GetShelfRequest{Shelf: 1}) })
	}
	waitFor(t, "2 held calls", func() bool { return held.Load() == 2 })

	ctx, info := restCall(t)
	start := time.Now()
	_, err := i.Unary(ctx, m, &bookstorev1.GetShelfRequest{Shelf: 1})
	waited := time.Since(start)
	if status.Code(err) != codes.Unavailable {
		t.Fatalf("third call: got %v, want UNAVAILABLE", err)
	}
	if waited < 50*time.Millisecond || waited > 2*time.Second {
		t.Errorf("third call refused after %v, want after the 50ms queue wait", waited)
	}
	if got := info.ResponseHeader().Get("Retry-After"); got != "1" {
		t.Errorf("Retry-After: got %q, want 1", got)
	}
	if info.Refusal != guard.Overload {
		t.Errorf("refusal: got %q, want %q", info.Refusal, guard.Overload)
	}
	if got := s.calls.Load(); got != 2 {
		t.Errorf("backend calls: got %d, want 2 (the refused call reaches nothing)", got)
	}
	close(release)
	wg.Wait()
	if _, err := i.Unary(testContext(t), m, &bookstorev1.GetShelfRequest{Shelf: 1}); err != nil {
		t.Errorf("after the held calls ended: got %v, want success", err)
	}
}

// TestQueuedCallGetsRoom: a call waiting for room gets in as soon as a
// call in flight ends, within the queue wait.
func TestQueuedCallGetsRoom(t *testing.T) {
	release := make(chan struct{})
	var held atomic.Int64
	s := hangingShelves(release, &held)
	i, methods := build(t, &configv1.GrpcIntegration{Target: startScripted(t, s), MaxInFlight: 1, MaxQueueWait: durationpb.New(10 * time.Second)})
	m := bookMethod(t, methods, "GetShelf")
	first := make(chan error, 1)
	go func() { _, err := i.Unary(testContext(t), m, &bookstorev1.GetShelfRequest{Shelf: 1}); first <- err }()
	waitFor(t, "the first call held", func() bool { return held.Load() == 1 })
	second := make(chan error, 1)
	go func() { _, err := i.Unary(testContext(t), m, &bookstorev1.GetShelfRequest{Shelf: 1}); second <- err }()
	waitFor(t, "the second call queued", func() bool { _, _, waiting := i.guard.Load(); return waiting == 1 })
	if got := s.calls.Load(); got != 1 {
		t.Fatalf("backend calls while the second waits: got %d, want 1", got)
	}
	close(release)
	for _, ch := range []chan error{first, second} {
		if err := <-ch; err != nil {
			t.Errorf("got %v, want success", err)
		}
	}
}

// TestBreakerOpensHalfOpensCloses: failures over the ratio open the
// breaker; while open, calls fail at once without reaching the backend,
// with Retry-After; after open_for, probe calls go through and close it.
func TestBreakerOpensHalfOpensCloses(t *testing.T) {
	var failing atomic.Bool
	failing.Store(true)
	s := &scriptedShelves{answer: func(context.Context, int64) (*bookstorev1.Shelf, error) {
		if failing.Load() {
			return nil, status.Error(codes.Unavailable, "down")
		}
		return &bookstorev1.Shelf{Id: 1}, nil
	}}
	openFor := 300 * time.Millisecond
	i, methods := build(t, &configv1.GrpcIntegration{Target: startScripted(t, s), CircuitBreaker: &configv1.CircuitBreaker{
		FailureRatio: 0.5, MinimumCalls: 4, Window: durationpb.New(10 * time.Second), OpenFor: durationpb.New(openFor), HalfOpenCalls: 2,
	}})
	m := bookMethod(t, methods, "GetShelf")
	for range 4 {
		if _, err := i.Unary(testContext(t), m, &bookstorev1.GetShelfRequest{Shelf: 1}); status.Code(err) != codes.Unavailable {
			t.Fatalf("failing backend: got %v, want UNAVAILABLE", err)
		}
	}
	if got := i.guard.Endpoints()[0].Circuit; got != "open" {
		t.Fatalf("after 4 failures of 4: circuit %q, want open", got)
	}
	opened := time.Now()
	ctx, info := restCall(t)
	within(t, 100*time.Millisecond, "a call on an open circuit", func() {
		if _, err := i.Unary(ctx, m, &bookstorev1.GetShelfRequest{Shelf: 1}); status.Code(err) != codes.Unavailable {
			t.Errorf("open circuit: got %v, want UNAVAILABLE", err)
		}
	})
	if got := s.calls.Load(); got != 4 {
		t.Errorf("backend calls: got %d, want 4 (none while open)", got)
	}
	if info.Refusal != guard.CircuitOpen || info.ResponseHeader().Get("Retry-After") != "1" {
		t.Errorf("refusal %q, Retry-After %q: want %q and 1", info.Refusal, info.ResponseHeader().Get("Retry-After"), guard.CircuitOpen)
	}

	failing.Store(false)
	time.Sleep(openFor - time.Since(opened)) // the breaker's own timer, not a server
	for k := range 2 {
		if _, err := i.Unary(testContext(t), m, &bookstorev1.GetShelfRequest{Shelf: 1}); err != nil {
			t.Fatalf("probe %d: got %v, want success", k, err)
		}
	}
	if got := i.guard.Endpoints()[0].Circuit; got != "closed" {
		t.Errorf("after 2 successful probes: circuit %q, want closed", got)
	}
}

// TestBreakerHalfOpenFailureReopens: a failed probe opens the breaker
// again.
func TestBreakerHalfOpenFailureReopens(t *testing.T) {
	s := &scriptedShelves{answer: func(context.Context, int64) (*bookstorev1.Shelf, error) {
		return nil, status.Error(codes.Internal, "broken")
	}}
	openFor := 200 * time.Millisecond
	i, methods := build(t, &configv1.GrpcIntegration{Target: startScripted(t, s), CircuitBreaker: &configv1.CircuitBreaker{
		FailureRatio: 1, MinimumCalls: 2, OpenFor: durationpb.New(openFor),
	}})
	m := bookMethod(t, methods, "GetShelf")
	for range 2 {
		_, _ = i.Unary(testContext(t), m, &bookstorev1.GetShelfRequest{Shelf: 1})
	}
	time.Sleep(openFor) // the breaker's own timer
	if got := i.guard.Endpoints()[0].Circuit; got != "half_open" {
		t.Fatalf("after open_for: circuit %q, want half_open", got)
	}
	_, _ = i.Unary(testContext(t), m, &bookstorev1.GetShelfRequest{Shelf: 1})
	if got := i.guard.Endpoints()[0].Circuit; got != "open" {
		t.Errorf("after a failed probe: circuit %q, want open", got)
	}
	// A client's own error is not the backend's failure.
	if guard.Failure(status.Error(codes.NotFound, "")) || guard.Failure(status.Error(codes.InvalidArgument, "")) {
		t.Error("NOT_FOUND and INVALID_ARGUMENT count as failures")
	}
}
