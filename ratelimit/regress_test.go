package ratelimit

import (
	"context"
	"errors"
	"log/slog"
	"testing"
	"time"
)

// A check slower than the timeout used to mark Redis unavailable at
// once: on a loaded machine one slow answer flipped every gateway to its
// failure mode, back and forth (found by the benchmark). Now it takes
// DownAfter failures in a row, and each is bounded by the timeout.
func TestRegressOneSlowAnswerIsNotAnOutage(t *testing.T) {
	r := NewRedis(RedisOptions{Address: blackhole(t), Timeout: 50 * time.Millisecond, Logger: slog.New(slog.DiscardHandler)})
	t.Cleanup(func() { r.Close() })
	b, _ := NewBucket(Rate{10, time.Second}, 10)
	start := time.Now()
	_, err := r.Take(context.Background(), []Item{{Key: "k", Bucket: b}}, make([]State, 1))
	if !errors.Is(err, ErrUnavailable) {
		t.Fatalf("hanging Redis: got %v, want ErrUnavailable", err)
	}
	if d := time.Since(start); d > 500*time.Millisecond {
		t.Errorf("hanging Redis: the check took %v; want about the 50ms timeout", d)
	}
	// One slow answer does not take Redis out; three in a row do, and
	// then checks no longer wait for it.
	if !r.Available() {
		t.Fatal("after one time-out: Redis marked unavailable")
	}
	for i := 0; i < 2; i++ {
		r.Take(context.Background(), []Item{{Key: "k", Bucket: b}}, make([]State, 1))
	}
	if r.Available() {
		t.Fatal("after three time-outs in a row: Redis still available")
	}
	start = time.Now()
	if _, err := r.Take(context.Background(), []Item{{Key: "k", Bucket: b}}, make([]State, 1)); !errors.Is(err, ErrUnavailable) {
		t.Fatalf("while unavailable: got %v", err)
	}
	if d := time.Since(start); d > 20*time.Millisecond {
		t.Errorf("a check while Redis is marked unavailable took %v; want no wait", d)
	}
}

// A call whose own deadline was shorter than the Redis timeout, and ran
// out, used to count as a Redis failure: the connection's deadline fires
// a moment before the context's, so the error looked like Redis's.
func TestRegressCallDeadlineIsNotAnOutage(t *testing.T) {
	r := NewRedis(RedisOptions{Address: blackhole(t), Timeout: 5 * time.Second, Logger: slog.New(slog.DiscardHandler)})
	t.Cleanup(func() { r.Close() })
	b, _ := NewBucket(Rate{10, time.Second}, 10)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Millisecond)
	defer cancel()
	start := time.Now()
	_, err := r.Take(ctx, []Item{{Key: "k", Bucket: b}}, make([]State, 1))
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("call deadline before Redis's timeout: got %v, want the call's deadline", err)
	}
	if d := time.Since(start); d > time.Second {
		t.Errorf("the check took %v; want it bounded by the call's 30ms deadline", d)
	}
	if !r.Available() {
		t.Error("a call that ran out of its own time marked Redis unavailable")
	}
}
