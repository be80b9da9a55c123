package ratelimit

import (
	"context"
	_ "embed"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"sync"
	"sync/atomic"
	"time"

	"github.com/redis/go-redis/v9"
)

//go:embed script.lua
var scriptSource string

// script is the one round trip of a check (EVALSHA; EVAL once after a
// Redis restart flushed its script cache).
var script = redis.NewScript(scriptSource)

// RedisOptions configure the Redis store.
type RedisOptions struct {
	// Address is host:port.
	Address string
	// DB is the database number; Password is sent with AUTH when set.
	DB       int
	Password string
	// Timeout bounds one check (and each connection attempt). Default
	// 50ms. A call's own earlier deadline bounds it too.
	Timeout time.Duration
	// KeyPrefix starts every key written. Default "portico:".
	KeyPrefix string
	// ProbeEvery is how often an unavailable Redis is tried again.
	// Default 500ms.
	ProbeEvery time.Duration
	// Logger is told when Redis becomes unavailable and available again
	// (once per change). Default slog.Default().
	Logger *slog.Logger
	// Mode is the failure mode, for the log lines.
	Mode FailureMode
	// DownAfter is how many failed checks in a row mark Redis
	// unavailable. Default 3.
	DownAfter int
}

// Redis is the shared store: one Lua script per check, on Redis's clock.
// A check that fails (Redis down, or slower than the timeout) answers
// ErrUnavailable, and the failure mode decides that call. After
// DownAfter failures in a row the store is marked unavailable — logged
// once — and answers ErrUnavailable at once, adding no latency, while a
// probe pings Redis in the background; the first answer marks it
// available again (logged once). One slow answer on a loaded machine does
// not take Redis out; a dead one costs at most DownAfter time-outs.
type Redis struct {
	client  *redis.Client
	prefix  string
	timeout time.Duration
	probe   time.Duration
	addr    string
	mode    FailureMode
	log     *slog.Logger

	down      atomic.Bool
	fails     atomic.Int32 // failed checks in a row
	downAfter int32
	stop      chan struct{}
	wg        sync.WaitGroup
	closed    sync.Once
}

var redisLogOnce sync.Once

// NewRedis makes a Redis store. It does not connect: the first check
// does, and a Redis that is not there yet is handled as one that went
// down.
func NewRedis(opts RedisOptions) *Redis {
	if opts.Timeout <= 0 {
		opts.Timeout = 50 * time.Millisecond
	}
	if opts.KeyPrefix == "" {
		opts.KeyPrefix = "portico:"
	}
	if opts.ProbeEvery <= 0 {
		opts.ProbeEvery = 500 * time.Millisecond
	}
	if opts.Logger == nil {
		opts.Logger = slog.Default()
	}
	if opts.DownAfter <= 0 {
		opts.DownAfter = 3
	}
	redisLogOnce.Do(func() {
		// go-redis logs each failed dial; the store logs state changes
		// itself, so the library's lines go to debug.
		redis.SetLogger(debugLogger{opts.Logger})
	})
	client := redis.NewClient(&redis.Options{
		Addr:     opts.Address,
		DB:       opts.DB,
		Password: opts.Password,
		// RESP2: no HELLO handshake, no push notifications to handle.
		Protocol:              2,
		DialTimeout:           opts.Timeout,
		DialerRetries:         1,
		ReadTimeout:           opts.Timeout,
		WriteTimeout:          opts.Timeout,
		PoolTimeout:           opts.Timeout,
		ContextTimeoutEnabled: true,
		// A failed check is not retried: the failure mode decides, now.
		MaxRetries:      -1,
		DisableIdentity: true,
	})
	return &Redis{
		client:  client,
		prefix:  opts.KeyPrefix,
		timeout: opts.Timeout,
		probe:   opts.ProbeEvery,
		addr:    opts.Address,
		mode:    opts.Mode,
		log:     opts.Logger,
		stop:    make(chan struct{}),

		downAfter: int32(opts.DownAfter),
	}
}

// Available reports whether the last check (or probe) reached Redis.
func (r *Redis) Available() bool { return !r.down.Load() }

// Take implements Store.
func (r *Redis) Take(ctx context.Context, items []Item, out []State) (bool, error) {
	if r.down.Load() {
		return false, ErrUnavailable
	}
	var kb [4]string
	var ab [12]any
	keys, args := kb[:0], ab[:0]
	for i := range items {
		it := &items[i]
		keys = append(keys, r.prefix+it.Key)
		if it.Quota > 0 {
			// Kept a day past the period's end: a clock a little behind
			// Redis's still finds it.
			args = append(args, it.Quota, it.End.Add(24*time.Hour).Unix(), 0)
		} else {
			args = append(args, 0, int64(it.Bucket.Interval()/time.Microsecond), int64(it.Bucket.Tolerance()/time.Microsecond))
		}
	}
	dl, hasDL := ctx.Deadline()
	callBound := hasDL && time.Until(dl) < r.timeout
	cctx, cancel := context.WithTimeout(ctx, r.timeout)
	res, err := script.Run(cctx, r.client, keys, args...).Int64Slice()
	cancel()
	if err == nil && len(res) != len(items)+2 {
		err = fmt.Errorf("script answered %d values, want %d", len(res), len(items)+2)
	}
	if err != nil {
		if ctx.Err() != nil {
			// The call itself ended (the client went away): not Redis's
			// fault.
			return false, context.Cause(ctx)
		}
		if callBound && isTimeout(err) {
			// The call's own deadline, shorter than the timeout, ran out
			// (the connection's deadline may fire just before the
			// context's): not a sign that Redis is down.
			return false, context.DeadlineExceeded
		}
		if r.fails.Add(1) >= r.downAfter {
			r.markDown(err)
		}
		return false, fmt.Errorf("%w: %v", ErrUnavailable, err)
	}
	if r.fails.Load() != 0 {
		r.fails.Store(0)
	}
	all := res[0] == 1
	now := res[1]
	nowT := time.UnixMicro(now)
	for i := range items {
		it := &items[i]
		v := res[i+2]
		if it.Quota > 0 {
			ok := all || v+1 <= it.Quota
			out[i] = quotaState(v, it.Quota, it.End, nowT, ok)
			continue
		}
		iv, tol := int64(it.Bucket.Interval()/time.Microsecond), int64(it.Bucket.Tolerance()/time.Microsecond)
		ok := all
		if !ok {
			_, ok = gcra(now, v, iv, tol)
		}
		out[i] = bucketState(now, v, iv, tol, ok, time.Microsecond)
	}
	return all, nil
}

func isTimeout(err error) bool {
	var ne net.Error
	return errors.Is(err, context.DeadlineExceeded) || (errors.As(err, &ne) && ne.Timeout())
}

// markDown records that Redis did not answer: logged once, then probed
// until it answers.
func (r *Redis) markDown(err error) {
	if !r.down.CompareAndSwap(false, true) {
		return
	}
	r.log.Warn("rate limits: redis unavailable; the failure mode applies until it answers again",
		"address", r.addr, "failure_mode", r.mode.String(), "err", err)
	r.wg.Add(1)
	go r.probeUntilUp()
}

func (r *Redis) probeUntilUp() {
	defer r.wg.Done()
	t := time.NewTicker(r.probe)
	defer t.Stop()
	for {
		select {
		case <-r.stop:
			return
		case <-t.C:
		}
		ctx, cancel := context.WithTimeout(context.Background(), r.timeout)
		err := r.client.Ping(ctx).Err()
		cancel()
		if err == nil {
			r.fails.Store(0)
			r.down.Store(false)
			r.log.Info("rate limits: redis available again", "address", r.addr)
			return
		}
	}
}

// Close stops the probe and closes the connections.
func (r *Redis) Close() error {
	var err error
	r.closed.Do(func() {
		close(r.stop)
		r.wg.Wait()
		err = r.client.Close()
	})
	return err
}

// debugLogger sends go-redis's own log lines to slog at debug level.
type debugLogger struct{ log *slog.Logger }

func (d debugLogger) Printf(ctx context.Context, format string, v ...any) {
	d.log.DebugContext(ctx, "redis: "+fmt.Sprintf(format, v...))
}

// FailureMode is what a Redis store does while Redis is unavailable.
type FailureMode uint8

const (
	// FailLocal applies the same limits per gateway, in process.
	FailLocal FailureMode = iota
	// FailAllow admits every call.
	FailAllow
	// FailDeny refuses every call limited by Redis.
	FailDeny
)

// failureModeNames are the failure modes' names in the config.
var failureModeNames = names{FailLocal: "local", FailAllow: "allow", FailDeny: "deny"}

// ParseFailureMode reads "local" (or ""), "allow" or "deny".
func ParseFailureMode(s string) (FailureMode, error) {
	if s == "" {
		return FailLocal, nil
	}
	m, err := failureModeNames.parse("failure_mode", s)
	return FailureMode(m), err
}

func (m FailureMode) String() string { return failureModeNames.of(int(m), "local") }

// Failover is a Redis store with its failure mode applied: while Redis is
// unavailable, checks go to a local store (FailLocal), are admitted
// (FailAllow, with states whose Remaining is -1: unknown) or fail with
// ErrUnavailable (FailDeny).
type Failover struct {
	Redis    *Redis
	Mode     FailureMode
	Fallback *Local
}

// Take implements Store.
func (f *Failover) Take(ctx context.Context, items []Item, out []State) (bool, error) {
	ok, err := f.Redis.Take(ctx, items, out)
	if !errors.Is(err, ErrUnavailable) {
		return ok, err
	}
	switch f.Mode {
	case FailLocal:
		return f.Fallback.Take(ctx, items, out)
	case FailAllow:
		for i := range out {
			out[i] = State{Allowed: true, Remaining: -1}
		}
		return true, nil
	}
	return false, err
}

// Close closes Redis and the fallback.
func (f *Failover) Close() error {
	return errors.Join(f.Redis.Close(), f.Fallback.Close())
}
