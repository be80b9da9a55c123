package ratelimit

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/portico-gw/portico/ratelimit/redistest"
)

// storeSuite is what every store must do; run against the local store and
// a real Redis.
func storeSuite(t *testing.T, open func(t *testing.T) Store) {
	hourly := func(burst int64) Bucket {
		b, err := NewBucket(Rate{1, time.Hour}, burst)
		if err != nil {
			t.Fatal(err)
		}
		return b
	}
	take := func(t *testing.T, s Store, items ...Item) (bool, []State) {
		t.Helper()
		out := make([]State, len(items))
		ok, err := s.Take(context.Background(), items, out)
		if err != nil {
			t.Fatalf("Take: %v", err)
		}
		return ok, out
	}
	t.Run("burst", func(t *testing.T) {
		s := open(t)
		it := Item{Key: "burst", Bucket: hourly(3)}
		for i := int64(0); i < 3; i++ {
			ok, out := take(t, s, it)
			if !ok || !out[0].Allowed {
				t.Fatalf("call %d of a burst of 3: refused (%+v)", i+1, out[0])
			}
			if out[0].Remaining != 2-i {
				t.Errorf("call %d: got remaining %d, want %d", i+1, out[0].Remaining, 2-i)
			}
		}
		ok, out := take(t, s, it)
		if ok || out[0].Allowed {
			t.Fatal("call 4 of a burst of 3: admitted")
		}
		// Three calls ran the TAT three hours ahead; the fourth waits
		// until it is back within the tolerance: about an hour.
		if ra := out[0].RetryAfter; ra < 59*time.Minute || ra > time.Hour {
			t.Errorf("retry after: got %v, want about 1h", ra)
		}
		if out[0].Remaining != 0 {
			t.Errorf("refused: got remaining %d, want 0", out[0].Remaining)
		}
		// Another key has its own bucket.
		if ok, _ := take(t, s, Item{Key: "burst-other", Bucket: hourly(3)}); !ok {
			t.Error("another key: refused")
		}
	})
	t.Run("all or nothing", func(t *testing.T) {
		s := open(t)
		strict := Item{Key: "aon-strict", Bucket: hourly(1)}
		loose := Item{Key: "aon-loose", Bucket: hourly(5)}
		if ok, _ := take(t, s, strict, loose); !ok {
			t.Fatal("first call: refused")
		}
		ok, out := take(t, s, strict, loose)
		if ok {
			t.Fatal("second call: admitted past the strict bucket")
		}
		if out[0].Allowed || !out[1].Allowed {
			t.Errorf("second call: got strict allowed=%v, loose allowed=%v; want false, true", out[0].Allowed, out[1].Allowed)
		}
		// The refused call did not charge the loose bucket: it was
		// charged once, so 4 remain before this call and 3 after.
		_, out = take(t, s, loose)
		if out[0].Remaining != 3 {
			t.Errorf("loose bucket after a refused call: got remaining %d, want 3", out[0].Remaining)
		}
	})
	t.Run("quota", func(t *testing.T) {
		s := open(t)
		end := time.Now().Add(2 * time.Hour)
		q := Item{Key: "quota-a", Quota: 2, End: end}
		for i := int64(0); i < 2; i++ {
			ok, out := take(t, s, q)
			if !ok || out[0].Remaining != 1-i {
				t.Fatalf("call %d of a quota of 2: got %v, %+v", i+1, ok, out[0])
			}
		}
		ok, out := take(t, s, q)
		if ok {
			t.Fatal("call 3 of a quota of 2: admitted")
		}
		if ra := out[0].RetryAfter; ra < 119*time.Minute || ra > 2*time.Hour {
			t.Errorf("retry after: got %v, want the time to the period's end (2h)", ra)
		}
		if ok, _ := take(t, s, Item{Key: "quota-b", Quota: 2, End: end}); !ok {
			t.Error("another key's quota: refused")
		}
	})
	t.Run("refill", func(t *testing.T) {
		s := open(t)
		b, err := NewBucket(Rate{20, time.Second}, 1)
		if err != nil {
			t.Fatal(err)
		}
		it := Item{Key: "refill", Bucket: b}
		if ok, _ := take(t, s, it); !ok {
			t.Fatal("first call refused")
		}
		ok, out := take(t, s, it)
		if ok {
			t.Fatal("second call at once: admitted")
		}
		if ra := out[0].RetryAfter; ra <= 0 || ra > 50*time.Millisecond {
			t.Fatalf("retry after: got %v, want (0, 50ms]", ra)
		}
		// The limit is about time: wait what it says, and a call passes.
		time.Sleep(out[0].RetryAfter + 2*time.Millisecond)
		if ok, out := take(t, s, it); !ok {
			t.Errorf("after waiting the retry delay: refused (%+v)", out[0])
		}
	})
}

func TestLocalStore(t *testing.T) {
	storeSuite(t, func(t *testing.T) Store {
		l, err := NewLocal(LocalOptions{})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { l.Close() })
		return l
	})
}

func TestRedisStore(t *testing.T) {
	srv := redistest.Start(t)
	n := 0
	storeSuite(t, func(t *testing.T) Store {
		n++
		r := NewRedis(RedisOptions{Address: srv.Addr, KeyPrefix: fmt.Sprintf("test%d:", n)})
		t.Cleanup(func() { r.Close() })
		return r
	})
}

// fakeClock is a settable clock for the local store.
type fakeClock struct{ t time.Time }

func (c *fakeClock) now() time.Time { return c.t }

func TestLocalQuotaSurvivesRestart(t *testing.T) {
	dir := t.TempDir()
	end := time.Now().Add(24 * time.Hour)
	q := Item{Key: "quota:k1:month:2026-03-01", Quota: 3, End: end}
	open := func() *Local {
		l, err := NewLocal(LocalOptions{StateDir: dir, FlushEvery: time.Hour})
		if err != nil {
			t.Fatal(err)
		}
		return l
	}
	l := open()
	out := make([]State, 1)
	for i := 0; i < 2; i++ {
		if ok, _ := l.Take(context.Background(), []Item{q}, out); !ok {
			t.Fatalf("call %d: refused", i+1)
		}
	}
	// Close writes what the hourly flush has not.
	if err := l.Close(); err != nil {
		t.Fatal(err)
	}
	l = open()
	defer l.Close()
	ok, _ := l.Take(context.Background(), []Item{q}, out)
	if !ok || out[0].Remaining != 0 {
		t.Fatalf("after a restart, call 3 of 3: got %v, remaining %d; want admitted, 0 remaining", ok, out[0].Remaining)
	}
	if ok, _ := l.Take(context.Background(), []Item{q}, out); ok {
		t.Fatal("after a restart, call 4 of 3: admitted (the restart handed out a fresh period)")
	}
}

func TestLocalQuotaFlushedWhileRunning(t *testing.T) {
	dir := t.TempDir()
	q := Item{Key: "quota:k2", Quota: 5, End: time.Now().Add(time.Hour)}
	l, err := NewLocal(LocalOptions{StateDir: dir, FlushEvery: 10 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	out := make([]State, 1)
	l.Take(context.Background(), []Item{q}, out)
	l.Take(context.Background(), []Item{q}, out)
	if err := l.Flush(); err != nil {
		t.Fatal(err)
	}
	// Read the file as a crash would leave it: through a second store
	// once the first let go of the file, without its final flush.
	close(l.stop)
	l.done.Wait()
	l.file.close()
	l2, err := NewLocal(LocalOptions{StateDir: dir})
	if err != nil {
		t.Fatal(err)
	}
	defer l2.Close()
	l2.Take(context.Background(), []Item{q}, out)
	if out[0].Remaining != 2 {
		t.Errorf("after a crash: got remaining %d, want 2 (3 calls of 5 used)", out[0].Remaining)
	}
}

func TestLocalStateDirInUse(t *testing.T) {
	dir := t.TempDir()
	l, err := NewLocal(LocalOptions{StateDir: dir})
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	if l2, err := NewLocal(LocalOptions{StateDir: dir}); err == nil {
		l2.Close()
		t.Fatal("a second store on the same state_dir: got no error")
	}
}

func TestLocalSweep(t *testing.T) {
	clock := &fakeClock{t: time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)}
	dir := t.TempDir()
	l, err := NewLocal(LocalOptions{StateDir: dir, Now: clock.now, SweepEvery: time.Hour, FlushEvery: time.Hour})
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	b, _ := NewBucket(Rate{10, time.Second}, 10)
	out := make([]State, 2)
	items := []Item{{Key: "b", Bucket: b}, {Key: "q", Quota: 10, End: clock.t.Add(time.Hour)}}
	if ok, _ := l.Take(context.Background(), items, out); !ok {
		t.Fatal("refused")
	}
	l.sweep()
	if n := l.Len(); n != 2 {
		t.Fatalf("before anything is whole again: got %d counters, want 2", n)
	}
	clock.t = clock.t.Add(time.Second)
	l.sweep()
	if n := l.Len(); n != 1 {
		t.Fatalf("bucket full again: got %d counters, want 1 (the quota)", n)
	}
	clock.t = clock.t.Add(time.Hour)
	l.sweep()
	if n := l.Len(); n != 0 {
		t.Fatalf("period over: got %d counters, want 0", n)
	}
	if err := l.Flush(); err != nil {
		t.Fatal(err)
	}
	var left int
	l.file.load(0, func(quotaRecord) { left++ })
	if left != 0 {
		t.Errorf("quota file after the period ended: got %d records, want 0", left)
	}
}
