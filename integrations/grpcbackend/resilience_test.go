package grpcbackend

import (
	"context"
	"net"
	"slices"
	"testing"
	"time"

	"github.com/portico-gw/portico/examples/bookstore"
	bookstorev1 "github.com/portico-gw/portico/gen/example/bookstore/v1"
	configv1 "github.com/portico-gw/portico/gen/portico/config/v1"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	healthpb "google.golang.org/grpc/health/grpc_health_v1"
	"google.golang.org/grpc/metadata"
	"google.golang.org/grpc/resolver"
	"google.golang.org/grpc/resolver/manual"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/types/known/durationpb"
)

// TestRetryIdempotentOnly: grpc-go retries a failed attempt of a method
// bound to GET, not of a POST method — unless retry.all_methods.
func TestRetryIdempotentOnly(t *testing.T) {
	for _, all := range []bool{false, true} {
		b := startBackend(t, "tcp")
		i, methods := build(t, &configv1.GrpcIntegration{Target: b.addr, Retry: &configv1.Retry{
			MaxAttempts: 3, Codes: []string{"UNAVAILABLE"}, InitialBackoff: durationpb.New(time.Millisecond), MaxBackoff: durationpb.New(5 * time.Millisecond),
			AllMethods: all,
		}})
		waitReady(t, i)
		fail := metadata.NewIncomingContext(testContext(t), metadata.Pairs(bookstore.FailKey, "UNAVAILABLE"))

		before := b.store.Calls()
		_, err := i.Unary(fail, bookMethod(t, methods, "GetShelf"), &bookstorev1.GetShelfRequest{Shelf: 1})
		if status.Code(err) != codes.Unavailable {
			t.Errorf("all_methods=%v: GetShelf: got %v, want Unavailable", all, err)
		}
		if got := b.store.Calls() - before; got != 3 {
			t.Errorf("all_methods=%v: GetShelf (GET): got %d attempts, want 3", all, got)
		}

		before = b.store.Calls()
		_, err = i.Unary(fail, bookMethod(t, methods, "CreateShelf"), &bookstorev1.CreateShelfRequest{Shelf: &bookstorev1.Shelf{Theme: "x"}})
		if status.Code(err) != codes.Unavailable {
			t.Errorf("all_methods=%v: CreateShelf: got %v, want Unavailable", all, err)
		}
		want := int64(1)
		if all {
			want = 3
		}
		if got := b.store.Calls() - before; got != want {
			t.Errorf("all_methods=%v: CreateShelf (POST): got %d attempts, want %d", all, got, want)
		}

		// A code not listed is not retried.
		before = b.store.Calls()
		notFound := metadata.NewIncomingContext(testContext(t), metadata.Pairs(bookstore.FailKey, "NOT_FOUND"))
		if _, err := i.Unary(notFound, bookMethod(t, methods, "GetShelf"), &bookstorev1.GetShelfRequest{Shelf: 1}); status.Code(err) != codes.NotFound {
			t.Errorf("got %v, want NotFound", err)
		}
		if got := b.store.Calls() - before; got != 1 {
			t.Errorf("NOT_FOUND: got %d attempts, want 1", got)
		}
	}
}

// TestHedgingSlowFirstAttempt: when the first attempt is slow, a second
// is sent after the delay, its answer wins and the first is cancelled.
func TestHedgingSlowFirstAttempt(t *testing.T) {
	firstCancelled := make(chan struct{})
	s := &scriptedShelves{answer: func(ctx context.Context, n int64) (*bookstorev1.Shelf, error) {
		if n == 1 {
			<-ctx.Done()
			close(firstCancelled)
			return nil, status.FromContextError(ctx.Err()).Err()
		}
		return &bookstorev1.Shelf{Id: n, Theme: "hedged"}, nil
	}}
	addr := startScripted(t, s)
	i, methods := build(t, &configv1.GrpcIntegration{Target: addr, Hedging: &configv1.Hedging{MaxAttempts: 2, Delay: durationpb.New(50 * time.Millisecond)}})
	waitReady(t, i)
	var resp any
	within(t, 5*time.Second, "the hedged call", func() {
		r, err := i.Unary(testContext(t), bookMethod(t, methods, "GetShelf"), &bookstorev1.GetShelfRequest{Shelf: 1})
		if err != nil {
			t.Fatalf("Unary: %v", err)
		}
		resp = r
	})
	if got := resp.(*bookstorev1.Shelf); got.GetId() != 2 || got.GetTheme() != "hedged" {
		t.Errorf("got %v, want the second attempt's shelf", got)
	}
	select {
	case <-firstCancelled:
	case <-testContext(t).Done():
		t.Fatal("the first attempt was not cancelled")
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if want := []string{"", "1"}; !slices.Equal(s.attempts, want) {
		t.Errorf("got grpc-previous-rpc-attempts %q, want %q", s.attempts, want)
	}
}

// TestHedgingNonFatal: a non-fatal failure sends the next attempt at once
// (not after the delay); a fatal one ends the call.
func TestHedgingNonFatal(t *testing.T) {
	s := &scriptedShelves{answer: func(ctx context.Context, n int64) (*bookstorev1.Shelf, error) {
		md, _ := metadata.FromIncomingContext(ctx)
		if n == 1 && len(md.Get("x-fatal")) > 0 {
			return nil, status.Error(codes.NotFound, "no such shelf")
		}
		if n == 1 {
			return nil, status.Error(codes.Unavailable, "try elsewhere")
		}
		return &bookstorev1.Shelf{Id: n}, nil
	}}
	addr := startScripted(t, s)
	i, methods := build(t, &configv1.GrpcIntegration{Target: addr, Hedging: &configv1.Hedging{
		MaxAttempts: 2, Delay: durationpb.New(time.Hour), NonFatalCodes: []string{"UNAVAILABLE"},
	}})
	waitReady(t, i)
	within(t, 5*time.Second, "a call whose first attempt failed non-fatally", func() {
		resp, err := i.Unary(testContext(t), bookMethod(t, methods, "GetShelf"), &bookstorev1.GetShelfRequest{Shelf: 1})
		if err != nil || resp.(*bookstorev1.Shelf).GetId() != 2 {
			t.Errorf("got %v, %v; want shelf 2", resp, err)
		}
	})

	s.calls.Store(0)
	ctx := metadata.NewIncomingContext(testContext(t), metadata.Pairs("x-fatal", "1"))
	_, err := i.Unary(ctx, bookMethod(t, methods, "GetShelf"), &bookstorev1.GetShelfRequest{Shelf: 1})
	if status.Code(err) != codes.NotFound {
		t.Errorf("fatal: got %v, want NotFound", err)
	}
	if got := s.calls.Load(); got != 1 {
		t.Errorf("fatal: got %d attempts, want 1", got)
	}
}

// TestHedgingNotForPost: a method that is not idempotent is sent once,
// however slow; an idempotent one as slow is hedged.
func TestHedgingNotForPost(t *testing.T) {
	b := startBackend(t, "tcp")
	i, methods := build(t, &configv1.GrpcIntegration{Target: b.addr, Hedging: &configv1.Hedging{MaxAttempts: 3, Delay: durationpb.New(10 * time.Millisecond)}})
	waitReady(t, i)
	slow := metadata.NewIncomingContext(testContext(t), metadata.Pairs(bookstore.DelayKey, "300ms"))
	if _, err := i.Unary(slow, bookMethod(t, methods, "CreateShelf"), &bookstorev1.CreateShelfRequest{Shelf: &bookstorev1.Shelf{}}); err != nil {
		t.Fatal(err)
	}
	if got := b.store.Calls(); got != 1 {
		t.Errorf("got %d attempts of a POST method, want 1", got)
	}
	if _, err := i.Unary(slow, bookMethod(t, methods, "GetShelf"), &bookstorev1.GetShelfRequest{Shelf: 1}); err != nil {
		t.Fatal(err)
	}
	if got := b.store.Calls() - 1; got != 3 {
		t.Errorf("got %d attempts of a slow GET method, want 3 (hedged)", got)
	}
}

// twoBackends starts two bookstores and returns the integration config's
// targets for them.
func twoBackends(t *testing.T, wa, wb uint32) (a, b *backend, targets []*configv1.WeightedTarget) {
	a, b = startBackend(t, "tcp"), startBackend(t, "tcp")
	return a, b, []*configv1.WeightedTarget{{Target: a.addr, Weight: wa}, {Target: b.addr, Weight: wb}}
}

// TestWeightedTargets: calls are split between targets by weight.
func TestWeightedTargets(t *testing.T) {
	a, b, targets := twoBackends(t, 90, 10)
	i, methods := build(t, &configv1.GrpcIntegration{Targets: targets})
	waitBothReady(t, i)
	const n = 1000
	for range n {
		if _, err := i.Unary(testContext(t), bookMethod(t, methods, "GetShelf"), &bookstorev1.GetShelfRequest{Shelf: 1}); err != nil {
			t.Fatal(err)
		}
	}
	// 10% of 1000 is 100, with a standard deviation of about 9.5: the
	// bounds are five of them away.
	if ca, cb := a.store.Calls(), b.store.Calls(); ca+cb != n || cb < 50 || cb > 150 {
		t.Errorf("got %d calls to the 90 target and %d to the 10 target, want about 900 and 100", ca, cb)
	}
	if got := i.State(); got != a.addr+"=READY,"+b.addr+"=READY" {
		t.Errorf("State: got %q", got)
	}
}

// waitBothReady waits until every target's connection is ready.
func waitBothReady(t *testing.T, i *Integration) {
	t.Helper()
	ts, err := i.conns()
	if err != nil {
		t.Fatal(err)
	}
	ctx := testContext(t)
	for _, tg := range ts {
		tg.client.conn.Connect()
		for st := tg.client.conn.GetState(); st.String() != "READY"; st = tg.client.conn.GetState() {
			if !tg.client.conn.WaitForStateChange(ctx, st) {
				t.Fatalf("target %s: not ready (%v)", tg.name, st)
			}
		}
	}
}

// TestWeightedTargetsSkipUnready: a target whose connection is down gets
// no calls while another is ready.
func TestWeightedTargetsSkipUnready(t *testing.T) {
	a, b, targets := twoBackends(t, 50, 50)
	i, methods := build(t, &configv1.GrpcIntegration{Targets: targets})
	waitBothReady(t, i)
	b.srv.Stop()
	ts, _ := i.conns()
	changed := make(chan struct{}, 1)
	stop := ts[1].client.notify(func() {
		select {
		case changed <- struct{}{}:
		default:
		}
	})
	defer stop()
	ctx := testContext(t)
	for ts[1].client.ready() {
		select {
		case <-changed:
		case <-ctx.Done():
			t.Fatal("the stopped target's connection stayed ready")
		}
	}
	for range 50 {
		if _, err := i.Unary(testContext(t), bookMethod(t, methods, "GetShelf"), &bookstorev1.GetShelfRequest{Shelf: 1}); err != nil {
			t.Fatalf("got %v, want every call served by the ready target", err)
		}
	}
	if got := a.store.Calls(); got != 50 {
		t.Errorf("got %d calls to the ready target, want 50", got)
	}
}

// TestTargetHeader: x-portico-target pins a call to a target when the
// integration allows it, and is ignored otherwise.
func TestTargetHeader(t *testing.T) {
	for _, allow := range []bool{true, false} {
		a, b, targets := twoBackends(t, 99, 1)
		i, methods := build(t, &configv1.GrpcIntegration{Targets: targets, AllowTargetHeader: allow})
		waitBothReady(t, i)
		ctx := callWithHeader(testContext(t), TargetHeader, b.addr)
		for range 20 {
			if _, err := i.Unary(ctx, bookMethod(t, methods, "GetShelf"), &bookstorev1.GetShelfRequest{Shelf: 1}); err != nil {
				t.Fatal(err)
			}
		}
		if allow && (b.store.Calls() != 20 || a.store.Calls() != 0) {
			t.Errorf("allowed: got %d calls to the pinned target and %d to the other, want 20 and 0", b.store.Calls(), a.store.Calls())
		}
		if !allow && a.store.Calls() < 15 {
			t.Errorf("not allowed: got %d of 20 calls to the 99%% target, want the header ignored", a.store.Calls())
		}
		if allow {
			_, err := i.Unary(callWithHeader(testContext(t), TargetHeader, "elsewhere:1"), bookMethod(t, methods, "GetShelf"), &bookstorev1.GetShelfRequest{Shelf: 1})
			if status.Code(err) != codes.InvalidArgument {
				t.Errorf("unknown target: got %v, want InvalidArgument", err)
			}
			if got := a.store.Calls() + b.store.Calls(); got != 20 {
				t.Errorf("unknown target: got %d backend calls in all, want 20 (nothing forwarded)", got)
			}
		}
	}
}

// TestHealthCheckPerEndpoint: with health_check, an endpoint whose
// grpc.health.v1 says NOT_SERVING gets no calls; it gets them again once
// it serves.
func TestHealthCheckPerEndpoint(t *testing.T) {
	a, b := startBackend(t, "tcp"), startBackend(t, "tcp")
	r := manual.NewBuilderWithScheme("hc")
	r.InitialState(resolver.State{Addresses: []resolver.Address{{Addr: a.addr}, {Addr: b.addr}}})
	i, methods := build(t, &configv1.GrpcIntegration{Target: "hc:///books", HealthCheck: true}, grpc.WithResolvers(r))
	waitReady(t, i)
	get := bookMethod(t, methods, "GetShelf")
	call := func() {
		if _, err := i.Unary(testContext(t), get, &bookstorev1.GetShelfRequest{Shelf: 1}); err != nil {
			t.Fatal(err)
		}
	}
	// Both serve: round_robin reaches both.
	untilCalled(t, call, b)
	untilCalled(t, call, a)

	b.health.SetServingStatus("", healthpb.HealthCheckResponse_NOT_SERVING)
	untilOnly(t, call, a, b)
	b.health.SetServingStatus("", healthpb.HealthCheckResponse_SERVING)
	untilCalled(t, call, b)
}

// untilCalled makes calls until be has received one (or fails the test).
func untilCalled(t *testing.T, call func(), be *backend) {
	t.Helper()
	start := be.store.Calls()
	ctx := testContext(t)
	for be.store.Calls() == start {
		if ctx.Err() != nil {
			t.Fatalf("backend %s got no call", be.addr)
		}
		call()
	}
}

// untilOnly makes calls until 20 in a row went to only, none to other.
func untilOnly(t *testing.T, call func(), only, other *backend) {
	t.Helper()
	ctx := testContext(t)
	for {
		if ctx.Err() != nil {
			t.Fatalf("calls still reach %s", other.addr)
		}
		o := other.store.Calls()
		for range 20 {
			call()
		}
		if other.store.Calls() == o {
			return
		}
	}
}

// TestOutlierDetection: an endpoint that fails every call is ejected;
// calls then go to the healthy one only.
func TestOutlierDetection(t *testing.T) {
	good := startBackend(t, "tcp")
	bad := &scriptedShelves{answer: func(context.Context, int64) (*bookstorev1.Shelf, error) {
		return nil, status.Error(codes.Internal, "broken")
	}}
	badAddr := startScripted(t, bad)
	r := manual.NewBuilderWithScheme("od")
	r.InitialState(resolver.State{Addresses: []resolver.Address{{Addr: good.addr}, {Addr: badAddr}}})
	i, methods := build(t, &configv1.GrpcIntegration{Target: "od:///books", OutlierDetection: &configv1.OutlierDetection{
		Interval: durationpb.New(50 * time.Millisecond), FailurePercentage: 50, MinimumRequests: 3, BaseEjectionTime: durationpb.New(time.Minute),
	}}, grpc.WithResolvers(r))
	waitReady(t, i)
	get := bookMethod(t, methods, "GetShelf")
	ctx := testContext(t)
	// Call until 30 calls in a row succeed after the bad endpoint was
	// judged (it may connect after the good one): it is out.
	for ok := 0; ok < 30 || bad.calls.Load() < 3; {
		if ctx.Err() != nil {
			t.Fatalf("the failing endpoint was never ejected (%d calls to it)", bad.calls.Load())
		}
		if _, err := i.Unary(ctx, get, &bookstorev1.GetShelfRequest{Shelf: 1}); err != nil {
			ok = 0
			continue
		}
		ok++
	}
	if bad.calls.Load() < 3 {
		t.Errorf("got %d calls to the failing endpoint, want it judged on at least 3", bad.calls.Load())
	}
}

// callWithHeader returns ctx carrying a gRPC call's Info whose metadata
// has name: value, as the gRPC door makes it.
func callWithHeader(ctx context.Context, name, value string) context.Context {
	return withCallInfo(ctx, metadata.Pairs(name, value))
}

// TestDNSRoundRobin: a dns:/// target is resolved by grpc-go's DNS
// resolver and its addresses balanced round-robin, with health checks:
// localhost may resolve to ::1 too, where nothing listens; calls go to
// the address that serves.
func TestDNSRoundRobin(t *testing.T) {
	b := startBackend(t, "tcp")
	_, port, _ := net.SplitHostPort(b.addr)
	i, methods := build(t, &configv1.GrpcIntegration{Target: "dns:///localhost:" + port, LoadBalancing: "round_robin", HealthCheck: true})
	waitReady(t, i)
	for range 10 {
		if _, err := i.Unary(testContext(t), bookMethod(t, methods, "GetShelf"), &bookstorev1.GetShelfRequest{Shelf: 1}); err != nil {
			t.Fatalf("Unary: %v", err)
		}
	}
	if got := b.store.Calls(); got != 10 {
		t.Errorf("got %d backend calls, want 10", got)
	}
}
