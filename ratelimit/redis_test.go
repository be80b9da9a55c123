package ratelimit

import (
	"bytes"
	"context"
	"errors"
	"log/slog"
	"net"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/portico-gw/portico/ratelimit/redistest"
)

// syncBuffer is a log sink the store's goroutines may write to.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) count(sub string) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return strings.Count(s.b.String(), sub)
}

func waitFor(t *testing.T, what string, within time.Duration, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(within)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("%s: not within %v", what, within)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

func TestRedisDownAndBack(t *testing.T) {
	srv := redistest.Start(t)
	logs := &syncBuffer{}
	log := slog.New(slog.NewTextHandler(logs, &slog.HandlerOptions{Level: slog.LevelInfo}))
	r := NewRedis(RedisOptions{Address: srv.Addr, Logger: log, ProbeEvery: 50 * time.Millisecond, KeyPrefix: "down:"})
	t.Cleanup(func() { r.Close() })
	b, _ := NewBucket(Rate{1000, time.Second}, 1000)
	items := []Item{{Key: "k", Bucket: b}}
	out := make([]State, 1)
	if ok, err := r.Take(context.Background(), items, out); !ok || err != nil {
		t.Fatalf("Redis up: got %v, %v; want admitted", ok, err)
	}

	srv.Kill()
	start := time.Now()
	_, err := r.Take(context.Background(), items, out)
	if !errors.Is(err, ErrUnavailable) {
		t.Fatalf("Redis killed: got error %v, want ErrUnavailable", err)
	}
	if d := time.Since(start); d > time.Second {
		t.Errorf("first check after the kill took %v; want it bounded by the 50ms timeout", d)
	}
	// While it is down, checks do not touch the network at all.
	for i := 0; i < 100; i++ {
		if _, err := r.Take(context.Background(), items, out); !errors.Is(err, ErrUnavailable) {
			t.Fatalf("check %d while down: got %v, want ErrUnavailable", i, err)
		}
	}
	if r.Available() {
		t.Fatal("Available() while Redis is down: got true")
	}

	srv.Restart()
	waitFor(t, "the store sees Redis again", 10*time.Second, r.Available)
	if ok, err := r.Take(context.Background(), items, out); !ok || err != nil {
		t.Fatalf("Redis back: got %v, %v; want admitted", ok, err)
	}
	if n := logs.count("redis unavailable"); n != 1 {
		t.Errorf("log lines saying Redis is unavailable: got %d, want 1 (once per change)\n%s", n, logs.b.String())
	}
	if n := logs.count("redis available again"); n != 1 {
		t.Errorf("log lines saying Redis is back: got %d, want 1", n)
	}
}

// blackhole accepts connections and never answers: a Redis that hangs.
func blackhole(t *testing.T) string {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	var mu sync.Mutex
	var conns []net.Conn
	go func() {
		for {
			c, err := l.Accept()
			if err != nil {
				return
			}
			mu.Lock()
			conns = append(conns, c)
			mu.Unlock()
		}
	}()
	t.Cleanup(func() {
		l.Close()
		mu.Lock()
		for _, c := range conns {
			c.Close()
		}
		mu.Unlock()
	})
	return l.Addr().String()
}

func TestFailover(t *testing.T) {
	srv := redistest.Start(t)
	srv.Kill()
	b, _ := NewBucket(Rate{1, time.Hour}, 1)
	items := []Item{{Key: "k", Bucket: b}}
	for _, tc := range []struct {
		mode      FailureMode
		first     bool // first call admitted
		second    bool // second call admitted
		remaining int64
		err       error
	}{
		{mode: FailLocal, first: true, second: false, remaining: 0},
		{mode: FailAllow, first: true, second: true, remaining: -1},
		{mode: FailDeny, err: ErrUnavailable},
	} {
		t.Run(tc.mode.String(), func(t *testing.T) {
			fb, err := NewLocal(LocalOptions{})
			if err != nil {
				t.Fatal(err)
			}
			f := &Failover{Redis: NewRedis(RedisOptions{Address: srv.Addr, Mode: tc.mode, Logger: slog.New(slog.DiscardHandler)}), Mode: tc.mode, Fallback: fb}
			t.Cleanup(func() { f.Close() })
			out := make([]State, 1)
			ok, err := f.Take(context.Background(), items, out)
			if tc.err != nil {
				if !errors.Is(err, tc.err) {
					t.Fatalf("got %v, want %v", err, tc.err)
				}
				return
			}
			if err != nil || ok != tc.first || out[0].Remaining != tc.remaining {
				t.Fatalf("first call: got %v, %v, remaining %d; want %v, nil, %d", ok, err, out[0].Remaining, tc.first, tc.remaining)
			}
			if ok, _ := f.Take(context.Background(), items, out); ok != tc.second {
				t.Fatalf("second call: got admitted=%v, want %v", ok, tc.second)
			}
		})
	}
}
