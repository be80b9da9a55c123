// Package pool holds state that outlives a snapshot: backend connections,
// limiter stores, quota counters, key caches. Each value is shared by the
// snapshots that use it, keyed by its settings, and closed when the last
// one lets go. A reload builds the new snapshot (reusing every value whose
// settings did not change), swaps it in, drains the old one and releases
// it: what the new snapshot still uses stays open, the rest closes.
package pool

import (
	"fmt"
	"io"
	"sync"
)

// Pool is a set of shared values. The zero Pool is not usable; use New.
type Pool struct {
	mu      sync.Mutex
	entries map[string]*entry
}

type entry struct {
	value any
	close func() error
	refs  int
}

// New returns an empty pool.
func New() *Pool { return &Pool{entries: map[string]*entry{}} }

// Lease is one holder's reference to a pooled value.
type Lease struct {
	p    *Pool
	key  string
	once sync.Once
}

// Release drops the reference; the value is closed when no lease is left.
// Releasing twice is a no-op.
func (l *Lease) Release() error {
	var err error
	l.once.Do(func() { err = l.p.release(l.key) })
	return err
}

// Acquire returns the value pooled under key, opening it with open when
// the pool has none. key must encode every setting the value was opened
// with, so that a changed setting opens a new value. The value is closed
// (if it is an io.Closer) when its last lease is released.
func Acquire[T any](p *Pool, key string, open func() (T, error)) (T, *Lease, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if e, ok := p.entries[key]; ok {
		v, ok := e.value.(T)
		if !ok {
			var zero T
			return zero, nil, fmt.Errorf("pool: %q holds a %T, not the type asked for", key, e.value)
		}
		e.refs++
		return v, &Lease{p: p, key: key}, nil
	}
	// Opening under the lock keeps two snapshots from opening the same
	// value twice; opens are quick (clients connect lazily).
	v, err := open()
	if err != nil {
		var zero T
		return zero, nil, err
	}
	e := &entry{value: v, refs: 1}
	if c, ok := any(v).(io.Closer); ok {
		e.close = c.Close
	}
	p.entries[key] = e
	return v, &Lease{p: p, key: key}, nil
}

func (p *Pool) release(key string) error {
	p.mu.Lock()
	e, ok := p.entries[key]
	if !ok {
		p.mu.Unlock()
		return nil
	}
	e.refs--
	if e.refs > 0 {
		p.mu.Unlock()
		return nil
	}
	delete(p.entries, key)
	p.mu.Unlock()
	if e.close != nil {
		return e.close()
	}
	return nil
}

// Len returns how many values are pooled (tests, the admin API).
func (p *Pool) Len() int {
	p.mu.Lock()
	defer p.mu.Unlock()
	return len(p.entries)
}

// Each calls f with every pooled key and value, under the pool's lock.
func (p *Pool) Each(f func(key string, value any)) {
	p.mu.Lock()
	defer p.mu.Unlock()
	for k, e := range p.entries {
		f(k, e.value)
	}
}
