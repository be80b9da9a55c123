package cache

import (
	"context"
	"errors"
	"strings"
	"time"

	"github.com/redis/go-redis/v9"
)

// Redis is the shared store: every replica reads and writes the same
// keys, so an answer one replica fetched is a hit on the others. Values
// expire on Redis's clock (SET PX).
type Redis struct {
	client  *redis.Client
	prefix  string
	timeout time.Duration
}

// RedisOptions configure the Redis store.
type RedisOptions struct {
	Address  string
	DB       int
	Password string
	// Timeout bounds one round trip. Default 50ms.
	Timeout time.Duration
	// KeyPrefix starts every key written, before "cache:". Default
	// "portico:".
	KeyPrefix string
}

// NewRedis makes a Redis store. It does not connect: the first call does.
func NewRedis(o RedisOptions) *Redis {
	if o.Timeout <= 0 {
		o.Timeout = 50 * time.Millisecond
	}
	if o.KeyPrefix == "" {
		o.KeyPrefix = "portico:"
	}
	client := redis.NewClient(&redis.Options{
		Addr:                  o.Address,
		DB:                    o.DB,
		Password:              o.Password,
		Protocol:              2, // RESP2: no HELLO, no push notifications
		DialTimeout:           o.Timeout,
		ReadTimeout:           o.Timeout,
		WriteTimeout:          o.Timeout,
		PoolTimeout:           o.Timeout,
		ContextTimeoutEnabled: true,
		MaxRetries:            -1, // a failed read is a miss, now
		DisableIdentity:       true,
	})
	return &Redis{client: client, prefix: o.KeyPrefix + "cache:", timeout: o.Timeout}
}

// Get reads key.
func (r *Redis) Get(ctx context.Context, key string) ([]byte, bool, error) {
	ctx, cancel := context.WithTimeout(ctx, r.timeout)
	defer cancel()
	b, err := r.client.Get(ctx, r.prefix+key).Bytes()
	switch {
	case errors.Is(err, redis.Nil):
		return nil, false, nil
	case err != nil:
		return nil, false, err
	}
	return b, true, nil
}

// Set writes key with its time to live; Redis evicts by its own
// maxmemory policy, so Set reports no evictions.
func (r *Redis) Set(ctx context.Context, key string, value []byte, ttl time.Duration) (int, error) {
	ctx, cancel := context.WithTimeout(ctx, r.timeout)
	defer cancel()
	return 0, r.client.Set(ctx, r.prefix+key, value, ttl).Err()
}

// Purge deletes the keys under prefix, found with SCAN (never KEYS, which
// blocks Redis), in batches. It is an admin action: each round trip gets
// the store's timeout afresh.
func (r *Redis) Purge(ctx context.Context, prefix string) (int64, error) {
	match := globEscape(r.prefix+prefix) + "*"
	var (
		cursor uint64
		n      int64
	)
	for {
		sctx, cancel := context.WithTimeout(ctx, r.timeout)
		keys, next, err := r.client.Scan(sctx, cursor, match, 500).Result()
		if err == nil && len(keys) > 0 {
			var d int64
			d, err = r.client.Unlink(sctx, keys...).Result()
			n += d
		}
		cancel()
		if err != nil {
			return n, err
		}
		if cursor = next; cursor == 0 {
			return n, nil
		}
	}
}

// Close closes the client (the pool calls it when no snapshot uses the
// store).
func (r *Redis) Close() error { return r.client.Close() }

// globEscape quotes what Redis's glob (SCAN MATCH) reads as a pattern.
func globEscape(s string) string {
	var b strings.Builder
	for _, c := range s {
		switch c {
		case '*', '?', '[', ']', '\\', '^', '-':
			b.WriteByte('\\')
		}
		b.WriteRune(c)
	}
	return b.String()
}
