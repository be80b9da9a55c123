package cache

import (
	"context"
	"math"
	"strings"
	"sync"
	"time"

	"github.com/hashicorp/golang-lru/v2/simplelru"
)

// Local is the in-process store: a least-recently-used list bounded by
// the bytes of its keys and values. golang-lru keeps the recency order;
// it bounds by count, so the byte bound is kept here: the list is given
// no count bound of its own and the oldest entries are removed until the
// bytes fit.
type Local struct {
	mu    sync.Mutex
	lru   *simplelru.LRU[string, localValue]
	bytes int64
	max   int64
	now   func() time.Time
}

type localValue struct {
	data    []byte
	expires time.Time
}

// NewLocal returns a store of at most maxBytes of keys and values; now is
// its clock (nil: time.Now).
func NewLocal(maxBytes int64, now func() time.Time) *Local {
	if now == nil {
		now = time.Now
	}
	l := &Local{max: maxBytes, now: now}
	// NewLRU fails only for a size <= 0.
	l.lru, _ = simplelru.NewLRU[string, localValue](math.MaxInt32, func(k string, v localValue) {
		l.bytes -= size(k, v.data)
	})
	return l
}

func size(key string, data []byte) int64 { return int64(len(key) + len(data)) }

// Get returns the value under key unless it expired (an expired value is
// dropped).
func (l *Local) Get(_ context.Context, key string) ([]byte, bool, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	v, ok := l.lru.Get(key)
	if !ok {
		return nil, false, nil
	}
	if !l.now().Before(v.expires) {
		l.lru.Remove(key)
		return nil, false, nil
	}
	return v.data, true, nil
}

// Set keeps value under key for ttl, dropping the least recently used
// values until the store fits in its bytes. A value larger than the whole
// store is not kept.
func (l *Local) Set(_ context.Context, key string, value []byte, ttl time.Duration) (int, error) {
	n := size(key, value)
	l.mu.Lock()
	defer l.mu.Unlock()
	l.lru.Remove(key)
	if n > l.max {
		return 0, nil
	}
	l.lru.Add(key, localValue{data: value, expires: l.now().Add(ttl)})
	l.bytes += n
	evicted := 0
	for l.bytes > l.max {
		l.lru.RemoveOldest()
		evicted++
	}
	return evicted, nil
}

// Purge drops the values whose key starts with prefix.
func (l *Local) Purge(_ context.Context, prefix string) (int64, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	var n int64
	for _, k := range l.lru.Keys() {
		if strings.HasPrefix(k, prefix) {
			l.lru.Remove(k)
			n++
		}
	}
	return n, nil
}

// Bytes is the size of the keys and values kept.
func (l *Local) Bytes() int64 {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.bytes
}

// Len is the number of values kept.
func (l *Local) Len() int {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.lru.Len()
}
