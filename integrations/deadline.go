package integrations

import (
	"context"
	"time"
)

// DefaultTimeout is the deadline of a unary call to a backend whose config
// sets none, so a hung backend cannot hold a call (and its client) for
// ever. A config sets `timeout: 0s` to turn it off.
const DefaultTimeout = 30 * time.Second

// WithTimeout returns ctx bounded by d when d is positive and earlier than
// the deadline ctx already has (the client's): the smaller one wins.
func WithTimeout(ctx context.Context, d time.Duration) (context.Context, context.CancelFunc) {
	if d <= 0 {
		return ctx, func() {}
	}
	if dl, ok := ctx.Deadline(); ok && time.Until(dl) <= d {
		return ctx, func() {}
	}
	return context.WithTimeout(ctx, d)
}
