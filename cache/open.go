package cache

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"os"
	"strings"
	"time"

	"github.com/docker/go-units"
	"github.com/portico-gw/portico/config"
	configv1 "github.com/portico-gw/portico/gen/portico/config/v1"
	"github.com/portico-gw/portico/pipeline"
	"github.com/portico-gw/portico/pool"
)

// defaultMaxBytes bounds the local store when cache.max_bytes is unset.
const defaultMaxBytes = 64 << 20

// pooled is a store with what the snapshots that use it share about it.
type pooled struct {
	Store
	local *Local // the local store, nil for redis
	name  string // local or redis, for metrics
}

// Close closes the store when it has something to close (the pool calls
// it when the last snapshot lets go).
func (s *pooled) Close() error {
	if c, ok := s.Store.(interface{ Close() error }); ok {
		return c.Close()
	}
	return nil
}

// openStore checks the top-level cache settings and, when open is set
// and the gateway is not only checking, acquires the store from the pool
// (released when the snapshot closes).
func openStore(env pipeline.Env, open bool) (*pooled, config.Errors) {
	cfg := env.Config.Config
	c := cfg.GetCache()
	maxBytes := int64(defaultMaxBytes)
	if mb := c.GetMaxBytes(); mb != "" {
		n, err := units.RAMInBytes(mb)
		if err != nil || n <= 0 {
			return nil, config.Errors{{Field: "cache.max_bytes", Message: fmt.Sprintf("%q is not a size (e.g. 64MiB)", mb)}}
		}
		maxBytes = n
	}
	var (
		key  string
		make func() (*pooled, error)
	)
	switch c.GetStore() {
	case "", "local":
		if c.GetRedis() != nil {
			return nil, config.Errors{{Field: "cache.redis", Message: "set for the local store: set store: redis, or drop it"}}
		}
		key = fmt.Sprintf("cache/local|%d", maxBytes)
		make = func() (*pooled, error) {
			l := NewLocal(maxBytes, nil)
			return &pooled{Store: l, local: l, name: "local"}, nil
		}
	case "redis":
		opts, err := redisOptions(env, c.GetRedis(), cfg.GetRateLimits().GetRedis())
		if err != nil {
			return nil, err
		}
		sum := sha256.Sum256([]byte(opts.Password))
		key = strings.Join([]string{"cache/redis", opts.Address, fmt.Sprint(opts.DB), opts.KeyPrefix, opts.Timeout.String(), hex.EncodeToString(sum[:8])}, "|")
		make = func() (*pooled, error) { return &pooled{Store: NewRedis(opts), name: "redis"}, nil }
	}
	if !open || env.Check {
		return nil, nil
	}
	s, lease, err := pool.Acquire(env.Pool, key, make)
	if err != nil {
		return nil, config.Errors{{Field: "cache", Message: err.Error()}}
	}
	env.OnClose(lease.Release)
	return s, nil
}

// redisOptions reads the Redis the store uses: cache.redis, else
// rate_limits.redis's server.
func redisOptions(env pipeline.Env, own, limits *configv1.Redis) (RedisOptions, config.Errors) {
	r, at := own, "cache.redis"
	if r == nil {
		r, at = limits, "rate_limits.redis"
	}
	if r.GetAddress() == "" {
		return RedisOptions{}, config.Errors{{Field: "cache.store", Message: "store: redis needs a Redis: set cache.redis, or rate_limits.redis"}}
	}
	opts := RedisOptions{Address: r.GetAddress(), DB: int(r.GetDb()), KeyPrefix: r.GetKeyPrefix()}
	if r.GetTimeout() != nil {
		opts.Timeout = r.GetTimeout().AsDuration()
	} else {
		opts.Timeout = 50 * time.Millisecond
	}
	if pf := r.GetPasswordFile(); pf != "" {
		data, err := os.ReadFile(env.Config.Resolve(pf))
		if err != nil {
			return opts, config.Errors{{Field: at + ".password_file", Message: err.Error()}}
		}
		opts.Password = strings.TrimRight(string(data), "\r\n")
	}
	return opts, nil
}
