package integrations

import (
	"context"
	"time"

	"github.com/portico-gw/portico/catalog"
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

// CallTimeout is the deadline a call of m gets from the config: the
// shortest of its method's and API's timeouts (m.Timeout) and the
// integration's own (own; 0 is none). The integration's default — own
// when ownSet is false — counts only when neither the method nor the API
// sets one. The client's deadline, when shorter still, wins in
// WithTimeout.
func CallTimeout(m *catalog.Method, own time.Duration, ownSet bool) time.Duration {
	configured := m.Timeout()
	switch {
	case configured == 0:
		return own
	case ownSet && own > 0 && own < configured:
		return own
	}
	return configured
}
