package auth

import (
	"fmt"
	"os"
	"strings"

	"github.com/portico-gw/portico/auth/apikey"
	"github.com/portico-gw/portico/config"
	configv1 "github.com/portico-gw/portico/gen/portico/config/v1"
	"github.com/portico-gw/portico/pool"
)

// KeyProvider is an api_key provider's keys, as the admin API manages
// them: those of its keys file (read-only) and its managed ones.
type KeyProvider struct {
	// Name is the provider's name (auth.providers[].name).
	Name string
	// File holds the keys file's keys; nil without one.
	File *apikey.Keys
	// Managed is the store of managed keys; nil without store: redis (and
	// in a check, which opens no store).
	Managed *apikey.Store
}

// keyStore acquires the managed key store of provider name from the pool:
// in the provider's own Redis, or rate_limits.redis's. A check opens none.
func (b *builder) keyStore(name, where string, own *configv1.Redis) (*apikey.Store, error) {
	r, at := own, where+".redis"
	if r == nil {
		r, at = b.env.Config.GetRateLimits().GetRedis(), "rate_limits.redis"
	}
	if r.GetAddress() == "" {
		return nil, config.Errors{{Field: where + ".store", Message: "store: redis needs a Redis: set redis here, or rate_limits.redis"}}
	}
	opts := apikey.StoreOptions{Address: r.GetAddress(), DB: int(r.GetDb()), KeyPrefix: r.GetKeyPrefix(), Provider: name, Logger: b.env.Logger}
	if own != nil && own.GetTimeout() != nil {
		// rate_limits.redis.timeout is the hot path's; keys are read
		// in the background and keep the store's default.
		opts.Timeout = own.GetTimeout().AsDuration()
	}
	if pf := r.GetPasswordFile(); pf != "" {
		data, err := os.ReadFile(b.env.Resolve(pf))
		if err != nil {
			return nil, config.Errors{{Field: at + ".password_file", Message: err.Error()}}
		}
		opts.Password = strings.TrimRight(string(data), "\r\n")
	}
	if b.env.Check {
		return nil, nil
	}
	key := fmt.Sprintf("auth/apikeys\x00%s\x00%d\x00%s\x00%s\x00%v\x00%s", opts.Address, opts.DB, opts.KeyPrefix, name, opts.Timeout, apikey.Hash(opts.Password))
	store, lease, err := pool.Acquire(b.env.Pool, key, func() (*apikey.Store, error) {
		return apikey.NewStore(opts), nil
	})
	if err != nil {
		return nil, err
	}
	b.leases = append(b.leases, lease)
	return store, nil
}
