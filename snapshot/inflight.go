package snapshot

import (
	"sync"
	"sync/atomic"
)

// Calls in flight: a replaced snapshot is released only once its last call
// is done. A door counts a call on the snapshot it runs on (Enter, Leave);
// the server waits for Drained before it closes a replaced snapshot.

// Enter counts a call in flight on the snapshot.
func (s *Snapshot) Enter() { s.inflight.n.Add(1) }

// Leave counts a call done.
func (s *Snapshot) Leave() {
	if s.inflight.n.Add(-1) == 0 && s.inflight.draining.Load() {
		s.inflight.finish()
	}
}

// InFlight is how many calls are running on the snapshot.
func (s *Snapshot) InFlight() int64 { return s.inflight.n.Load() }

// Drained returns a channel closed once no call is in flight; calls that
// enter after it is asked for are not waited for (the caller made sure no
// new call picks this snapshot).
func (s *Snapshot) Drained() <-chan struct{} {
	t := &s.inflight
	t.mu.Lock()
	if t.done == nil {
		t.done = make(chan struct{})
	}
	ch := t.done
	t.mu.Unlock()
	t.draining.Store(true)
	if t.n.Load() == 0 {
		t.finish()
	}
	return ch
}

// tracker counts a snapshot's calls in flight.
type tracker struct {
	n        atomic.Int64
	draining atomic.Bool
	once     sync.Once
	done     chan struct{}
	mu       sync.Mutex
}

func (t *tracker) finish() {
	t.once.Do(func() {
		t.mu.Lock()
		if t.done == nil {
			t.done = make(chan struct{})
		}
		close(t.done)
		t.mu.Unlock()
	})
}
