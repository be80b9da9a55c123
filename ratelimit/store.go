package ratelimit

import (
	"context"
	"errors"
	"time"
)

// Item is one limit a call is checked against: a token bucket, or a quota
// when Quota is above zero.
type Item struct {
	// Key names the counter, unique per limit and caller. For a quota it
	// names the period too (a new period is a new counter).
	Key string
	// Bucket is the rate limit (when Quota is 0).
	Bucket Bucket
	// Quota is the number of calls the period allows.
	Quota int64
	// End is when the quota's period ends: the counter is kept until then.
	End time.Time
}

// State is what one limit says about a call.
type State struct {
	// Allowed: this limit admits the call.
	Allowed bool
	// Remaining is how many more calls it admits now; -1 when unknown
	// (Redis unavailable and the failure mode admits calls).
	Remaining int64
	// Reset is how long until it is whole again: the bucket full, the
	// quota's period over.
	Reset time.Duration
	// RetryAfter is how long until it admits a call again (when Allowed
	// is false).
	RetryAfter time.Duration
}

// Store checks and charges limits.
type Store interface {
	// Take checks every item at once: when all admit the call, all are
	// charged and Take returns true; otherwise none is charged. out
	// (len(items)) receives each item's state. An error means the store
	// could not decide (Redis down or slow); out is then undefined.
	Take(ctx context.Context, items []Item, out []State) (bool, error)
	// Peek reads what every item would say of a call now, charging
	// nothing (the admin API's usage). out is as Take's.
	Peek(ctx context.Context, items []Item, out []State) error
}

// ErrUnavailable is returned by a store that cannot reach its backend.
var ErrUnavailable = errors.New("rate-limit store unavailable")

// quotaState describes a quota holding used calls after the decision.
func quotaState(used, limit int64, end, now time.Time, ok bool) State {
	st := State{Allowed: ok, Remaining: limit - used, Reset: end.Sub(now)}
	if st.Remaining < 0 {
		st.Remaining = 0
	}
	if st.Reset < 0 {
		st.Reset = 0
	}
	if !ok {
		st.RetryAfter = st.Reset
	}
	return st
}
