package ratelimit

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"sync"
	"time"

	"github.com/portico-gw/portico/call"
	configv1 "github.com/portico-gw/portico/gen/portico/config/v1"
	"github.com/portico-gw/portico/pipeline"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
)

// Plan is a usage plan: the rate, burst and calendar quota an API key's
// plan gives it.
type Plan struct {
	Name   string
	Bucket *Bucket // nil: no rate limit
	Quota  *Quota  // nil: no quota

	bucketRef string
}

// NewPlan checks a config usage plan.
func NewPlan(p *configv1.UsagePlan) (*Plan, error) {
	out := &Plan{Name: p.GetName()}
	if p.GetRate() != "" {
		r, err := ParseRate(p.GetRate())
		if err != nil {
			return nil, err
		}
		b, err := NewBucket(r, int64(p.GetBurst()))
		if err != nil {
			return nil, err
		}
		out.Bucket = &b
		out.bucketRef = policyItem(out.Name, r.N, int64(r.Per.Seconds()))
	} else if p.GetBurst() != 0 {
		return nil, fmt.Errorf("burst without a rate")
	}
	if q := p.GetQuota(); q != nil {
		per, err := ParsePeriod(q.GetPeriod())
		if err != nil {
			return nil, err
		}
		if q.GetLimit() == 0 || q.GetLimit() > 1<<52 {
			return nil, fmt.Errorf("quota.limit %d: want 1 to 2^52", q.GetLimit())
		}
		out.Quota = &Quota{Limit: int64(q.GetLimit()), Period: per}
	}
	return out, nil
}

// Limiter checks calls against rate-limit policies and usage plans in a
// store. It is built per snapshot; the store outlives it (pooled).
type Limiter struct {
	store Store
	plans map[string]*Plan
	log   *slog.Logger
	now   func() time.Time

	unknownPlans sync.Map // plan names already logged as unknown
}

// LimiterOptions adjust a Limiter.
type LimiterOptions struct {
	// Plans by name; a call whose identity names a plan gets its limits.
	Plans map[string]*Plan
	// Logger. Default slog.Default().
	Logger *slog.Logger
	// Now is the clock quota periods are read from. Default time.Now.
	Now func() time.Time
}

// NewLimiter returns a limiter over store.
func NewLimiter(store Store, opts LimiterOptions) *Limiter {
	if opts.Logger == nil {
		opts.Logger = slog.Default()
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	return &Limiter{store: store, plans: opts.Plans, log: opts.Logger, now: opts.Now}
}

// HasPlans reports whether any usage plan is configured (then every
// method is gated: any call may carry a key with a plan).
func (l *Limiter) HasPlans() bool { return len(l.plans) > 0 }

// scratch is one call's items and states, pooled: a gate that admits a
// call allocates only its keys.
type scratch struct {
	items []Item
	out   []State
	names []string
}

var scratchPool = sync.Pool{New: func() any {
	return &scratch{items: make([]Item, 0, 8), out: make([]State, 8), names: make([]string, 0, 8)}
}}

// Gate returns the gate of a method limited by policies (and by the
// caller's plan); nil when nothing can limit it.
func (l *Limiter) Gate(fullMethod string, policies []*Policy) pipeline.Gate {
	return l.gate(fullMethod, policies, true)
}

// PolicyGate returns the gate of a method limited by policies alone (no
// plan applies: it runs before the caller is known); nil without
// policies. A call through both a PolicyGate and a Gate gets the
// RateLimit fields of both.
func (l *Limiter) PolicyGate(fullMethod string, policies []*Policy) pipeline.Gate {
	return l.gate(fullMethod, policies, false)
}

func (l *Limiter) gate(fullMethod string, policies []*Policy, withPlans bool) pipeline.Gate {
	withPlans = withPlans && l.HasPlans()
	if len(policies) == 0 && !withPlans {
		return nil
	}
	refs := make([]string, len(policies))
	for i, p := range policies {
		refs[i] = p.policyRef
	}
	policyHeader := strings.Join(refs, ", ")
	return func(ctx context.Context, info *call.Info) (context.Context, error) {
		s := scratchPool.Get().(*scratch)
		defer scratchPool.Put(s)
		items, names := s.items[:0], s.names[:0]
		for _, p := range policies {
			items = append(items, Item{Key: p.key(info, fullMethod), Bucket: p.Bucket})
			names = append(names, p.Name)
		}
		polHeader := policyHeader
		if id := info.Identity; withPlans && id != nil && id.Plan != "" {
			plan := l.plans[id.Plan]
			if plan == nil {
				return nil, l.unknownPlan(info, id.Plan)
			}
			var extra string
			items, names, extra = l.planItems(items, names, plan, id)
			polHeader = joinList(polHeader, extra)
		}
		if len(items) == 0 {
			return ctx, nil
		}
		if cap(s.out) < len(items) {
			s.out = make([]State, len(items))
		}
		out := s.out[:len(items)]
		ok, err := l.store.Take(ctx, items, out)
		s.items, s.names = items[:0], names[:0]
		if err != nil {
			return nil, l.storeError(info, err)
		}
		writeHeaders(info, polHeader, names, out)
		if !ok {
			info.Refusal = "rate_limit"
			return nil, refusal(info, names, items, out)
		}
		return ctx, nil
	}
}

// planItems adds a plan's bucket and quota for the caller, and returns
// their RateLimit-Policy members.
func (l *Limiter) planItems(items []Item, names []string, plan *Plan, id *call.Identity) ([]Item, []string, string) {
	who := id.APIKey
	if who == "" {
		who = id.Principal
	}
	var refs []string
	if plan.Bucket != nil {
		items = append(items, Item{Key: "plan:" + plan.Name + ":" + string(appendValue(nil, who)), Bucket: *plan.Bucket})
		names = append(names, plan.Name)
		refs = append(refs, plan.bucketRef)
	}
	if q := plan.Quota; q != nil {
		start, end := q.Period.Window(l.now())
		// The counter is the key's, per period: a key moved to another
		// plan keeps what it used this period.
		key := "quota:" + string(appendValue(nil, who)) + ":" + q.Period.String() + ":" + start.Format("2006-01-02")
		items = append(items, Item{Key: key, Quota: q.Limit, End: end})
		name := plan.Name + "-" + q.Period.String()
		names = append(names, name)
		refs = append(refs, policyItem(name, q.Limit, int64(end.Sub(start).Seconds())))
	}
	return items, names, strings.Join(refs, ", ")
}

// unknownPlan refuses a call whose key names a plan the config does not
// have: selling access by plan must not turn a typo into unlimited access.
// (With no usage_plans at all, plans are not in use and keys' plan names
// are ignored.)
func (l *Limiter) unknownPlan(info *call.Info, plan string) error {
	if _, seen := l.unknownPlans.LoadOrStore(plan, true); !seen {
		l.log.Error("rate limits: an API key names a usage plan the config does not define; its calls are refused",
			"plan", plan)
	}
	info.Refusal = "rate_limit"
	return status.Error(codes.PermissionDenied, "the API key's usage plan is not available")
}

// storeError answers a call the store could not decide on.
func (l *Limiter) storeError(info *call.Info, err error) error {
	if errors.Is(err, ErrUnavailable) {
		// failure_mode deny.
		info.Refusal = "rate_limit"
		info.SetResponseHeader("Retry-After", "1")
		return status.Error(codes.Unavailable, "rate limiting is unavailable")
	}
	if errors.Is(err, context.DeadlineExceeded) {
		return status.Error(codes.DeadlineExceeded, "deadline exceeded before the rate limits were checked")
	}
	if errors.Is(err, context.Canceled) {
		return status.Error(codes.Canceled, "call cancelled")
	}
	return status.Error(codes.Unavailable, "rate limiting is unavailable")
}

func joinList(a, b string) string {
	switch {
	case a == "":
		return b
	case b == "":
		return a
	}
	return a + ", " + b
}
