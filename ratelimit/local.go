package ratelimit

import (
	"context"
	"errors"
	"hash/maphash"
	"log/slog"
	"sort"
	"sync"
	"time"
)

// numShards splits the local store's counters so that calls on different
// keys rarely wait for the same lock.
const numShards = 64

// Local is the in-process store. Buckets live in memory (a restart
// refills them, which is harmless); quotas are also written to a file
// when the store has a state folder, at most FlushEvery after they
// change and when the store closes, so a restart does not hand out a
// fresh period. Counters that are whole again (a full bucket, an ended
// period) are forgotten.
type Local struct {
	seed   maphash.Seed
	shards [numShards]shard
	now    func() time.Time
	log    *slog.Logger

	file     *quotaFile
	goneMu   sync.Mutex
	gone     []string // quota keys dropped from memory, to drop from the file
	stop     chan struct{}
	done     sync.WaitGroup
	closed   sync.Once
	closeErr error
}

type shard struct {
	mu    sync.Mutex
	cells map[string]cell
	dirty []string // quota keys changed since the last flush
}

// cell is one counter: a bucket's TAT, or a quota's calls used and the
// end of its period (unix nanoseconds; 0 for buckets).
type cell struct {
	v     int64
	end   int64
	dirty bool
}

// LocalOptions adjust a Local store.
type LocalOptions struct {
	// StateDir, when set, is where quota usage is kept across restarts.
	StateDir string
	// FlushEvery is how often changed quotas are written. Default 1s.
	FlushEvery time.Duration
	// SweepEvery is how often whole counters are forgotten. Default 30s.
	SweepEvery time.Duration
	// Logger receives write errors. Default slog.Default().
	Logger *slog.Logger
	// Now is the clock (tests). Default time.Now.
	Now func() time.Time
}

// NewLocal opens a local store; with a StateDir, it reads the quota usage
// kept there (and holds the file until Close).
func NewLocal(opts LocalOptions) (*Local, error) {
	if opts.FlushEvery <= 0 {
		opts.FlushEvery = time.Second
	}
	if opts.SweepEvery <= 0 {
		opts.SweepEvery = 30 * time.Second
	}
	if opts.Logger == nil {
		opts.Logger = slog.Default()
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	l := &Local{seed: maphash.MakeSeed(), now: opts.Now, log: opts.Logger, stop: make(chan struct{})}
	for i := range l.shards {
		l.shards[i].cells = map[string]cell{}
	}
	if opts.StateDir != "" {
		f, err := openQuotaFile(opts.StateDir)
		if err != nil {
			return nil, err
		}
		err = f.load(l.now().UnixNano(), func(r quotaRecord) {
			sh := l.shard(r.key)
			sh.cells[r.key] = cell{v: r.used, end: r.end}
		})
		if err != nil {
			_ = f.close()
			return nil, err
		}
		l.file = f
		l.every(opts.FlushEvery, l.flushLogged)
	}
	l.every(opts.SweepEvery, l.sweep)
	return l, nil
}

// every runs f every d until Close.
func (l *Local) every(d time.Duration, f func()) {
	l.done.Add(1)
	go func() {
		defer l.done.Done()
		t := time.NewTicker(d)
		defer t.Stop()
		for {
			select {
			case <-l.stop:
				return
			case <-t.C:
				f()
			}
		}
	}()
}

func (l *Local) shard(key string) *shard {
	return &l.shards[maphash.String(l.seed, key)%numShards]
}

// Take implements Store. It never fails.
func (l *Local) Take(_ context.Context, items []Item, out []State) (bool, error) {
	if len(items) == 1 {
		// The common case: one limit, one lock.
		sh := l.shard(items[0].Key)
		sh.mu.Lock()
		ok := l.take(sh, items, out)
		sh.mu.Unlock()
		return ok, nil
	}
	// Several limits: lock their shards in order (no deadlock), so the
	// decision and the charge are one step.
	var idx [8]int
	shards := idx[:0]
	for _, it := range items {
		i := int(maphash.String(l.seed, it.Key) % numShards)
		shards = append(shards, i)
	}
	sort.Ints(shards)
	last := -1
	for _, i := range shards {
		if i != last {
			l.shards[i].mu.Lock()
			last = i
		}
	}
	ok := l.take(nil, items, out)
	last = -1
	for _, i := range shards {
		if i != last {
			l.shards[i].mu.Unlock()
			last = i
		}
	}
	return ok, nil
}

// take decides and charges items whose shards are locked; one is their
// shard when there is one item.
func (l *Local) take(one *shard, items []Item, out []State) bool {
	shardOf := func(key string) *shard {
		if one != nil {
			return one
		}
		return l.shard(key)
	}
	t := l.now()
	now := t.UnixNano()
	all := true
	var next [8]int64
	nexts := next[:0]
	for i := range items {
		it := &items[i]
		c := shardOf(it.Key).cells[it.Key]
		if it.Quota > 0 {
			ok := c.v+1 <= it.Quota
			nexts = append(nexts, c.v+1)
			out[i] = State{Allowed: ok}
			all = all && ok
			continue
		}
		n, ok := gcra(now, c.v, int64(it.Bucket.Interval()), int64(it.Bucket.Tolerance()))
		nexts = append(nexts, n)
		out[i] = State{Allowed: ok}
		all = all && ok
	}
	for i := range items {
		it := &items[i]
		sh := shardOf(it.Key)
		c := sh.cells[it.Key]
		if all {
			c.v = nexts[i]
			if it.Quota > 0 {
				c.end = it.End.UnixNano()
				if l.file != nil && !c.dirty {
					c.dirty = true
					sh.dirty = append(sh.dirty, it.Key)
				}
			}
			sh.cells[it.Key] = c
		}
		if it.Quota > 0 {
			out[i] = quotaState(c.v, it.Quota, it.End, t, out[i].Allowed)
		} else {
			out[i] = bucketState(now, c.v, int64(it.Bucket.Interval()), int64(it.Bucket.Tolerance()), out[i].Allowed, time.Nanosecond)
		}
	}
	return all
}

// sweep forgets counters that are whole again.
func (l *Local) sweep() {
	now := l.now().UnixNano()
	var gone []string
	for i := range l.shards {
		sh := &l.shards[i]
		sh.mu.Lock()
		for k, c := range sh.cells {
			switch {
			case c.end == 0 && c.v <= now:
				delete(sh.cells, k)
			case c.end != 0 && c.end <= now:
				delete(sh.cells, k)
				if l.file != nil {
					gone = append(gone, k)
				}
			}
		}
		sh.mu.Unlock()
	}
	if len(gone) > 0 {
		l.goneMu.Lock()
		l.gone = append(l.gone, gone...)
		l.goneMu.Unlock()
	}
}

// Flush writes the quota usage changed since the last flush.
func (l *Local) Flush() error {
	if l.file == nil {
		return nil
	}
	var recs []quotaRecord
	for i := range l.shards {
		sh := &l.shards[i]
		sh.mu.Lock()
		for _, k := range sh.dirty {
			c, ok := sh.cells[k]
			if !ok || !c.dirty {
				continue
			}
			c.dirty = false
			sh.cells[k] = c
			recs = append(recs, quotaRecord{key: k, used: c.v, end: c.end})
		}
		sh.dirty = sh.dirty[:0]
		sh.mu.Unlock()
	}
	l.goneMu.Lock()
	gone := l.gone
	l.gone = nil
	l.goneMu.Unlock()
	return l.file.write(recs, gone)
}

func (l *Local) flushLogged() {
	if err := l.Flush(); err != nil {
		l.log.Error("rate limits: writing quota usage", "err", err)
	}
}

// Len is the number of counters held in memory (tests).
func (l *Local) Len() int {
	n := 0
	for i := range l.shards {
		sh := &l.shards[i]
		sh.mu.Lock()
		n += len(sh.cells)
		sh.mu.Unlock()
	}
	return n
}

// Close stops the store's timers, writes the quota usage and closes the
// file. Closing twice is a no-op.
func (l *Local) Close() error {
	l.closed.Do(func() {
		close(l.stop)
		l.done.Wait()
		if l.file != nil {
			l.closeErr = errors.Join(l.Flush(), l.file.close())
		}
	})
	return l.closeErr
}
