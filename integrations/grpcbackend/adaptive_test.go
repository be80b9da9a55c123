package grpcbackend

import (
	"context"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/portico-gw/portico/catalog"
	bookstorev1 "github.com/portico-gw/portico/gen/example/bookstore/v1"
	configv1 "github.com/portico-gw/portico/gen/portico/config/v1"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/types/known/durationpb"
)

// loadedShelves answers after a delay that grows with the calls it is
// serving at once (perLoad each), as a backend that shares a resource
// does; peak is the most it served at once.
func loadedShelves(base, perLoad time.Duration, peak *atomic.Int64) *scriptedShelves {
	var now atomic.Int64
	return &scriptedShelves{answer: func(ctx context.Context, _ int64) (*bookstorev1.Shelf, error) {
		n := now.Add(1)
		defer now.Add(-1)
		for p := peak.Load(); n > p && !peak.CompareAndSwap(p, n); p = peak.Load() {
		}
		select {
		case <-time.After(base + time.Duration(n)*perLoad):
			return &bookstorev1.Shelf{Id: 1}, nil
		case <-ctx.Done():
			return nil, status.FromContextError(ctx.Err()).Err()
		}
	}}
}

// testIntegration is an integration with its methods.
type testIntegration struct {
	*Integration
	testMethods map[string]*catalog.Method
}

// drive calls m from workers goroutines, calls calls each.
func drive(t *testing.T, i *testIntegration, workers, calls int) (failed int64) {
	m := bookMethod(t, i.testMethods, "GetShelf")
	var wg sync.WaitGroup
	var bad atomic.Int64
	for range workers {
		wg.Go(func() {
			for range calls {
				if _, err := i.Unary(testContext(t), m, &bookstorev1.GetShelfRequest{Shelf: 1}); err != nil && status.Code(err) != codes.Unavailable {
					bad.Add(1)
				}
			}
		})
	}
	wg.Wait()
	return bad.Load()
}

// TestAdaptiveConcurrencyFollowsLatency: against a backend whose latency
// rises with its load, the adaptive limit falls well under max_in_flight
// and the backend serves fewer calls at once than with a fixed limit;
// against a backend whose latency does not move, it stays near the cap
// (the noise of a loaded machine may cost it a few).
func TestAdaptiveConcurrencyFollowsLatency(t *testing.T) {
	const max, workers = 64, 64
	run := func(adaptive bool, base, perLoad time.Duration) (limit int, peak int64) {
		var p atomic.Int64
		s := loadedShelves(base, perLoad, &p)
		in, methods := build(t, &configv1.GrpcIntegration{Target: startScripted(t, s), MaxInFlight: max,
			MaxQueueWait: durationpb.New(5 * time.Second), AdaptiveConcurrency: adaptive})
		i := &testIntegration{Integration: in, testMethods: methods}
		// Unloaded first: the limiter learns the backend's own latency.
		if bad := drive(t, i, 1, 40); bad > 0 {
			t.Fatalf("warm-up: %d calls failed", bad)
		}
		// Under load: the first calls let the limit adapt, the backend's
		// peak is what the rest cost it.
		for _, calls := range []int{5, 10} {
			p.Store(0)
			if bad := drive(t, i, workers, calls); bad > 0 {
				t.Fatalf("load: %d calls failed other than refused", bad)
			}
		}
		_, limit, _ = i.guard.Load()
		return limit, p.Load()
	}
	limit, adaptivePeak := run(true, 10*time.Millisecond, time.Millisecond)
	if limit > max/2 {
		t.Errorf("latency rising with load: adaptive limit %d, want at most %d", limit, max/2)
	}
	_, fixedPeak := run(false, 10*time.Millisecond, time.Millisecond)
	if adaptivePeak >= fixedPeak {
		t.Errorf("backend's peak load: adaptive %d, fixed %d: want adaptive lower", adaptivePeak, fixedPeak)
	}
	// A longer base latency for the flat backend: what 64 calls at once
	// cost a loaded 2-core machine (the race detector on) stays under the
	// tolerance (1.5x) most of the time.
	if limit, _ := run(true, 100*time.Millisecond, 0); limit < max*3/4 {
		t.Errorf("flat latency: adaptive limit %d, want at least %d", limit, max*3/4)
	}
}
