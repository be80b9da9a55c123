package ratelimit

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/redis/go-redis/v9"
)

// Reading counters without charging them (the admin API's usage).

// Peek implements Store: the states a call would see now, for items,
// without charging anything.
func (l *Local) Peek(_ context.Context, items []Item, out []State) error {
	t := l.now()
	now := t.UnixNano()
	for i := range items {
		it := &items[i]
		sh := l.shard(it.Key)
		sh.mu.Lock()
		c := sh.cells[it.Key]
		sh.mu.Unlock()
		out[i] = peekState(it, c.v, now, t, time.Nanosecond)
	}
	return nil
}

// Peek implements Store: one round trip, on Redis's clock.
func (r *Redis) Peek(ctx context.Context, items []Item, out []State) error {
	if r.down.Load() {
		return ErrUnavailable
	}
	cctx, cancel := context.WithTimeout(ctx, r.timeout)
	defer cancel()
	var now *redis.TimeCmd
	gets := make([]*redis.StringCmd, len(items))
	_, err := r.client.Pipelined(cctx, func(p redis.Pipeliner) error {
		now = p.Time(cctx)
		for i := range items {
			gets[i] = p.Get(cctx, r.prefix+items[i].Key)
		}
		return nil
	})
	if err != nil && !errors.Is(err, redis.Nil) {
		return fmt.Errorf("%w: %v", ErrUnavailable, err)
	}
	t := now.Val()
	for i := range items {
		v, err := gets[i].Int64()
		if err != nil && !errors.Is(err, redis.Nil) {
			return fmt.Errorf("%w: %v", ErrUnavailable, err)
		}
		out[i] = peekState(&items[i], v, t.UnixMicro(), t, time.Microsecond)
	}
	return nil
}

// Peek implements Store: Redis's counters, or while it is unavailable
// the fallback's (FailLocal); with the other modes nothing is known.
func (f *Failover) Peek(ctx context.Context, items []Item, out []State) error {
	err := f.Redis.Peek(ctx, items, out)
	if errors.Is(err, ErrUnavailable) && f.Mode == FailLocal {
		return f.Fallback.Peek(ctx, items, out)
	}
	return err
}

// peekState is the state of a counter holding v (a bucket's TAT in unit,
// or a quota's calls used) at now (in unit; t as a time).
func peekState(it *Item, v, now int64, t time.Time, unit time.Duration) State {
	if it.Quota > 0 {
		return quotaState(v, it.Quota, it.End, t, v+1 <= it.Quota)
	}
	iv, tol := int64(it.Bucket.Interval()/unit), int64(it.Bucket.Tolerance()/unit)
	_, ok := gcra(now, v, iv, tol)
	return bucketState(now, v, iv, tol, ok, unit)
}
