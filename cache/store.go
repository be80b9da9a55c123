// Package cache is the response cache policy kind (apis[].methods[].cache
// and the top-level cache): a unary interceptor that serves a method's
// answers from a store and fills it on a miss. It runs after every gate
// (network rules, authentication, rate limits) and after validation and
// authorization on request fields, so a cached answer never skips any of
// them (snapshot/kinds.go).
package cache

import (
	"context"
	"time"
)

// Store keeps encoded entries by key. Both stores are safe for concurrent
// use and live in the pool, so a reload with the same settings keeps
// them.
type Store interface {
	// Get returns the value under key; ok is false when there is none
	// (or it expired). An error is a store that could not answer: the
	// call goes on as a miss.
	Get(ctx context.Context, key string) (value []byte, ok bool, err error)
	// Set keeps value under key for ttl. It returns how many other values
	// it dropped to make room.
	Set(ctx context.Context, key string, value []byte, ttl time.Duration) (evicted int, err error)
	// Purge drops every value whose key starts with prefix ("" drops
	// all) and returns how many it dropped.
	Purge(ctx context.Context, prefix string) (int64, error)
}
