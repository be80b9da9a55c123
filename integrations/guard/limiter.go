package guard

import (
	"container/list"
	"context"
	"sync"
	"time"
)

// limiter bounds the calls in flight to one integration: a call that
// finds no room waits, first come first served, at most the queue wait.
//
// Written here rather than on x/sync's semaphore (which the door budget
// uses): a semaphore's size is fixed, and the adaptive limit (gradient.go)
// moves it while calls wait.
type limiter struct {
	mu       sync.Mutex
	inflight int
	limit    int
	waiters  list.List // of chan struct{}, closed when the waiter is let in
	grad     *gradient // nil: the limit stays max_in_flight
}

func newLimiter(max int, adaptive bool) *limiter {
	l := &limiter{limit: max}
	if adaptive {
		l.grad = newGradient(max)
	}
	return l
}

// acquire takes room for one call, waiting at most wait; false when none
// was found in time (or ctx ended).
func (l *limiter) acquire(ctx context.Context, wait time.Duration) bool {
	l.mu.Lock()
	if l.inflight < l.limit && l.waiters.Len() == 0 {
		l.inflight++
		l.mu.Unlock()
		return true
	}
	if wait <= 0 {
		l.mu.Unlock()
		return false
	}
	ready := make(chan struct{})
	e := l.waiters.PushBack(ready)
	l.mu.Unlock()

	t := time.NewTimer(wait)
	defer t.Stop()
	select {
	case <-ready:
		return true
	case <-t.C:
	case <-ctx.Done():
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	select {
	case <-ready: // let in while the timer fired: the room is ours
		return true
	default:
	}
	l.waiters.Remove(e)
	return false
}

// release gives a call's room back; rtt, when positive, is the call's
// latency, a sample for the adaptive limit.
func (l *limiter) release(rtt time.Duration) {
	l.mu.Lock()
	l.inflight--
	if l.grad != nil && rtt > 0 {
		l.limit = l.grad.sample(rtt, l.inflight+1)
	}
	for l.inflight < l.limit && l.waiters.Len() > 0 {
		ready := l.waiters.Remove(l.waiters.Front()).(chan struct{})
		l.inflight++
		close(ready)
	}
	l.mu.Unlock()
}

// state is the calls in flight, the limit and the calls waiting.
func (l *limiter) state() (inflight, limit, waiting int) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.inflight, l.limit, l.waiters.Len()
}
