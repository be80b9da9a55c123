package guard

import (
	"context"
	"testing"
	"time"
)

// TestAdmitNotTripped: a guard with a limit and a breaker lets calls
// through while they succeed, and gives the room back after each.
func TestAdmitNotTripped(t *testing.T) {
	g := New("books", []string{"a"}, Settings{MaxInFlight: 2, Breaker: &BreakerSettings{FailureRatio: 0.5, MinimumCalls: 4, Window: time.Second, OpenFor: time.Second, HalfOpenCalls: 1}})
	for k := range 10 {
		done, err := g.Admit(context.Background(), 0, true)
		if err != nil {
			t.Fatalf("call %d: got %v, want it let through", k, err)
		}
		done(nil)
	}
	if inflight, limit, waiting := g.Load(); inflight != 0 || limit != 2 || waiting != 0 {
		t.Errorf("Load: got %d in flight, limit %d, %d waiting; want 0, 2, 0", inflight, limit, waiting)
	}
	if got := g.Endpoints()[0].Circuit; got != "closed" {
		t.Errorf("breaker: got %s, want closed", got)
	}
}

// BenchmarkGuard is the guard's own work per call when it does not trip
// (a limit far above the load and a closed breaker), against none:
//
//	go test -run='^$' -bench=BenchmarkGuard -benchtime=2s -count=5 ./integrations/guard/
func BenchmarkGuard(b *testing.B) {
	for _, bc := range []struct {
		name string
		s    Settings
	}{
		{"none", Settings{}},
		{"limit", Settings{MaxInFlight: 4096}},
		{"limit+breaker", Settings{MaxInFlight: 4096, Breaker: &BreakerSettings{FailureRatio: 0.5, MinimumCalls: 20, Window: 10 * time.Second, OpenFor: 5 * time.Second, HalfOpenCalls: 3}}},
		{"adaptive+breaker", Settings{MaxInFlight: 4096, Adaptive: true, Breaker: &BreakerSettings{FailureRatio: 0.5, MinimumCalls: 20, Window: 10 * time.Second, OpenFor: 5 * time.Second, HalfOpenCalls: 3}}},
	} {
		b.Run(bc.name, func(b *testing.B) {
			g := New("books", []string{"a"}, bc.s)
			ctx := context.Background()
			b.ReportAllocs()
			b.RunParallel(func(pb *testing.PB) {
				for pb.Next() {
					done, err := g.Admit(ctx, 0, true)
					if err != nil {
						b.Error(err)
						return
					}
					done(nil)
				}
			})
		})
	}
}
