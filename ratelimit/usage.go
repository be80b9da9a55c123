package ratelimit

import (
	"context"
	"fmt"
	"time"

	"github.com/portico-gw/portico/call"
)

// Usage is one limit of a plan and what a key has used of it.
type Usage struct {
	// Name is the limit's name in the RateLimit headers: the plan's name
	// for its rate, the plan's name and period for its quota.
	Name string
	// Quota: a calendar quota; otherwise the plan's rate.
	Quota bool
	// Limit is the quota's calls per period, or the bucket's burst.
	Limit int64
	// Used is the quota's calls this period, or the burst in use.
	Used int64
	// Remaining is how many calls the limit admits now.
	Remaining int64
	// Period is the quota's period (day, week, month) or the rate (10/s).
	Period string
	// Start is when the quota's period started (zero for a rate).
	Start time.Time
	// Reset is when the limit is whole again.
	Reset time.Time
}

// ErrUnknownPlan is Usage's error for a plan the config does not define.
var ErrUnknownPlan = fmt.Errorf("no such usage plan")

// HasPlan reports whether name is a configured usage plan.
func (l *Limiter) HasPlan(name string) bool { return l.plans[name] != nil }

// Usage reads, without charging anything, the counters a call with this
// API key id on plan charges: the same counters the gate takes from (the
// key's quota counter is the key's whatever its plan, so a key moved to
// another plan keeps what it used this period). No limits for "" (no
// plan). An unavailable store is ErrUnavailable.
func (l *Limiter) Usage(ctx context.Context, apiKey, plan string) ([]Usage, error) {
	if plan == "" {
		return nil, nil
	}
	p := l.plans[plan]
	if p == nil {
		return nil, fmt.Errorf("%w: %q", ErrUnknownPlan, plan)
	}
	items, names, _ := l.planItems(nil, nil, p, &call.Identity{APIKey: apiKey})
	out := make([]State, len(items))
	if err := l.store.Peek(ctx, items, out); err != nil {
		return nil, err
	}
	now := l.now()
	usage := make([]Usage, len(items))
	for i, it := range items {
		u := Usage{Name: names[i], Remaining: out[i].Remaining, Reset: now.Add(out[i].Reset).UTC()}
		if it.Quota > 0 {
			u.Quota, u.Limit, u.Period = true, it.Quota, p.Quota.Period.String()
			u.Start, _ = p.Quota.Period.Window(now)
			u.Reset = it.End
		} else {
			u.Limit, u.Period = it.Bucket.Burst, it.Bucket.Rate.String()
		}
		u.Used = u.Limit - u.Remaining
		usage[i] = u
	}
	return usage, nil
}
