package cache

import (
	"context"
	"testing"
	"time"

	configv1 "github.com/portico-gw/portico/gen/portico/config/v1"
)

// TestRegressFlightReadsStoreFirst: a caller that missed just before
// another call stored the answer (and singleflight forgot that call)
// started a second backend call of its own; a flight now reads the store
// first and takes a fresh answer it finds there.
func TestRegressFlightReadsStoreFirst(t *testing.T) {
	clk := newClock()
	c, ic := interceptor(t, &configv1.MethodCache{Ttl: ttl(time.Minute)}, clk)
	b := &backend{}
	first := run(ic, b, "alice", "", 1) // stores the answer
	if first.err != nil || b.count() != 1 {
		t.Fatalf("first call: %v after %d backend calls", first.err, b.count())
	}
	r := c.rules[firstRule(c)]
	key := ""
	for _, k := range c.store.local.lru.Keys() {
		key = k
	}
	e, err := c.call(context.Background(), key, r, b.handle, nil)
	if err != nil || e == nil || b.count() != 1 {
		t.Errorf("a flight for a key with a fresh answer: got %v, %v after %d backend calls, want the answer after 1", e, err, b.count())
	}
}
