package server

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"os"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/portico-gw/portico/call"
	"github.com/portico-gw/portico/catalog"
	"github.com/portico-gw/portico/config"
	"github.com/portico-gw/portico/pipeline"
	"github.com/portico-gw/portico/pool"
	"github.com/portico-gw/portico/ratelimit"
)

// rateLimitPolicies gate calls on rate limits and usage plans
// (rate_limits, usage_plans, apis[].rate_limits,
// apis[].methods[].rate_limits, routes[].rate_limits) in two gates; nil
// parts when none apply. The store lives in the pool, so a reload keeps
// the counters.
//
//   - clients, before authentication: the client_ip policies. Every call
//     that reaches them counts, whether its credentials are then accepted
//     or refused, so wrong keys and tokens cannot be tried at line rate:
//     a client over its limit is refused (429) before its credentials
//     are even looked at.
//   - limits, after authentication: the other policies (principal,
//     api_key, header, method) and the caller's plan, checked together.
func rateLimitPolicies(b *buildEnv) (clients, limits pipeline.Policy, err error) {
	rl, err := newRateLimits(b)
	if err != nil || rl == nil {
		return nil, nil, err
	}
	c := b.cfg.Config
	type apiLimits struct {
		names    []string
		byMethod map[string][]string
	}
	bySvc := map[string]*apiLimits{}
	var errs config.Errors
	for i, api := range c.GetApis() {
		al := &apiLimits{names: api.GetRateLimits(), byMethod: map[string][]string{}}
		errs = append(errs, rl.check(fmt.Sprintf("apis[%d].rate_limits", i), api.GetRateLimits())...)
		for j, mp := range api.GetMethods() {
			errs = append(errs, rl.check(fmt.Sprintf("apis[%d].methods[%d].rate_limits", i, j), mp.GetRateLimits())...)
			// Keyed by the full name whichever way the selector is
			// written (checkSelectors has checked it names a method).
			name, _ := catalog.MethodSelector(mp.GetSelector())
			al.byMethod[string(name)] = append(al.byMethod[string(name)], mp.GetRateLimits()...)
		}
		for _, svc := range api.GetServices() {
			bySvc[svc] = al
		}
	}
	routeGates := make([]splitGates, len(b.routeMethods))
	for i := range b.routeMethods {
		g, err := rl.routeGates(b, i)
		if err != nil {
			errs = append(errs, asConfigErrors(err, fmt.Sprintf("routes[%d].rate_limits", i)).(config.Errors)...)
			continue
		}
		routeGates[i] = g
	}
	if len(errs) > 0 {
		return nil, nil, errs
	}
	gatesOf := func(m *catalog.Method) splitGates {
		if _, i, ok := routeOf(c, m); ok {
			return routeGates[i]
		}
		var names []string
		if al := bySvc[string(m.Desc.Parent().FullName())]; al != nil {
			names = append(append(names, al.names...), al.byMethod[string(m.Desc.FullName())]...)
		}
		return rl.split(m.FullMethod, rl.resolve(names))
	}
	clients = pipeline.PolicyFunc(func(m *catalog.Method) (pipeline.Stage, error) {
		return pipeline.Stage{Gate: gatesOf(m).clients}, nil
	})
	limits = pipeline.PolicyFunc(func(m *catalog.Method) (pipeline.Stage, error) {
		return pipeline.Stage{Gate: gatesOf(m).limits}, nil
	})
	return clients, limits, nil
}

// splitGates are one method's rate-limit gates: before and after
// authentication (see rateLimitPolicies); either may be nil.
type splitGates struct {
	clients, limits pipeline.Gate
}

// split makes the gates of a method limited by policies: the client_ip
// policies before authentication, the others (and plans) after.
func (rl *rateLimits) split(key string, policies []*ratelimit.Policy) splitGates {
	var byClient, others []*ratelimit.Policy
	for _, p := range policies {
		if p.Key == ratelimit.ByClientIP {
			byClient = append(byClient, p)
		} else {
			others = append(others, p)
		}
	}
	return splitGates{clients: rl.limiter.PolicyGate(key, byClient), limits: rl.limiter.Gate(key, others)}
}

// routeRateLimitGate is the rate limiting of plain HTTP route i
// (routes[i].rate_limits, and the caller's plan) as one gate: its
// client_ip limits, then the others; nil when nothing limits the route.
// The route's key for `key: method` is "route:" and its prefix.
func routeRateLimitGate(b *buildEnv, i int) (pipeline.Gate, error) {
	rl, err := newRateLimits(b)
	if err != nil || rl == nil {
		return nil, err
	}
	g, err := rl.routeGates(b, i)
	if err != nil {
		return nil, err
	}
	switch {
	case g.clients == nil:
		return g.limits, nil
	case g.limits == nil:
		return g.clients, nil
	}
	return func(ctx context.Context, info *call.Info) (context.Context, error) {
		ctx, err := g.clients(ctx, info)
		if err != nil {
			return nil, err
		}
		return g.limits(ctx, info)
	}, nil
}

// routeGates are the gates of plain HTTP route i with the snapshot's rate
// limits.
func (rl *rateLimits) routeGates(b *buildEnv, i int) (splitGates, error) {
	r := b.cfg.Config.GetRoutes()[i]
	if errs := rl.check(fmt.Sprintf("routes[%d].rate_limits", i), r.GetRateLimits()); len(errs) > 0 {
		return splitGates{}, errs
	}
	return rl.split("route:"+r.GetPrefix(), rl.resolve(r.GetRateLimits())), nil
}

// rateLimits is the config's rate limiting, built for one snapshot.
type rateLimits struct {
	policies map[string]*ratelimit.Policy
	limiter  *ratelimit.Limiter
}

// newRateLimits reads rate_limits and usage_plans and acquires the store
// from the pool (the lease is released when the snapshot closes); nil
// when the config defines neither policies nor plans.
func newRateLimits(b *buildEnv) (*rateLimits, error) {
	c := b.cfg.Config
	if len(c.GetRateLimits().GetPolicies()) == 0 && len(c.GetUsagePlans()) == 0 {
		return nil, nil
	}
	var errs config.Errors
	rl := &rateLimits{policies: map[string]*ratelimit.Policy{}}
	for i, p := range c.GetRateLimits().GetPolicies() {
		field := fmt.Sprintf("rate_limits.policies[%d]", i)
		if _, dup := rl.policies[p.GetName()]; dup {
			errs = append(errs, &config.Error{Field: field + ".name", Message: fmt.Sprintf("policy %q is defined twice", p.GetName())})
			continue
		}
		pol, err := ratelimit.NewPolicy(p)
		if err != nil {
			errs = append(errs, &config.Error{Field: field, Message: err.Error()})
			continue
		}
		rl.policies[p.GetName()] = pol
	}
	plans := map[string]*ratelimit.Plan{}
	quotaAt := -1
	for i, p := range c.GetUsagePlans() {
		field := fmt.Sprintf("usage_plans[%d]", i)
		if _, dup := plans[p.GetName()]; dup {
			errs = append(errs, &config.Error{Field: field + ".name", Message: fmt.Sprintf("plan %q is defined twice", p.GetName())})
			continue
		}
		plan, err := ratelimit.NewPlan(p)
		if err != nil {
			errs = append(errs, &config.Error{Field: field, Message: err.Error()})
			continue
		}
		if plan.Quota != nil && quotaAt < 0 {
			quotaAt = i
		}
		plans[p.GetName()] = plan
	}
	if len(errs) > 0 {
		return nil, errs
	}
	store, err := acquireStore(b, quotaAt)
	if err != nil {
		return nil, err
	}
	rl.limiter = ratelimit.NewLimiter(store, ratelimit.LimiterOptions{Plans: plans, Logger: b.opts.Logger})
	return rl, nil
}

// check reports names that are not policies, at field[j].
func (rl *rateLimits) check(field string, names []string) config.Errors {
	var errs config.Errors
	for j, n := range names {
		if _, ok := rl.policies[n]; !ok {
			known := make([]string, 0, len(rl.policies))
			for k := range rl.policies {
				known = append(known, k)
			}
			sort.Strings(known)
			msg := fmt.Sprintf("unknown rate limit policy %q", n)
			if len(known) > 0 {
				msg += " (known: " + strings.Join(known, ", ") + ")"
			} else {
				msg += " (rate_limits.policies defines none)"
			}
			errs = append(errs, &config.Error{Field: fmt.Sprintf("%s[%d]", field, j), Message: msg})
		}
	}
	return errs
}

// resolve returns the policies named, each once, in order.
func (rl *rateLimits) resolve(names []string) []*ratelimit.Policy {
	var out []*ratelimit.Policy
	seen := map[string]bool{}
	for _, n := range names {
		if p := rl.policies[n]; p != nil && !seen[n] {
			seen[n] = true
			out = append(out, p)
		}
	}
	return out
}

// acquireStore returns the configured store from the pool, keyed by every
// setting it was opened with; the lease is released when the snapshot
// closes. quotaAt is the index of the first plan with a quota (-1: none):
// the local store then needs a state_dir, so a restart does not hand out
// a fresh period.
func acquireStore(b *buildEnv, quotaAt int) (ratelimit.Store, error) {
	var (
		store ratelimit.Store
		lease *pool.Lease
		err   error
	)
	if b.cfg.Config.GetRateLimits().GetStore() == "redis" {
		store, lease, err = acquireRedis(b)
	} else {
		store, lease, err = acquireLocal(b, quotaAt)
	}
	if err != nil {
		return nil, err
	}
	b.snap.onClose(lease.Release)
	return store, nil
}

func acquireLocal(b *buildEnv, quotaAt int) (ratelimit.Store, *pool.Lease, error) {
	dir := ""
	if d := b.cfg.Config.GetRateLimits().GetStateDir(); d != "" {
		dir = b.cfg.Resolve(d)
	} else if quotaAt >= 0 {
		return nil, nil, config.Errors{{Field: fmt.Sprintf("usage_plans[%d].quota", quotaAt),
			Message: "with the local store, quota usage is kept in a file so a restart does not reset it: set rate_limits.state_dir (or use store: redis)"}}
	}
	if b.opts.Check {
		dir = "" // a check opens no state file: a running gateway holds it
	}
	l, lease, err := pool.Acquire(b.opts.Pool, "ratelimit/local|"+dir, func() (*ratelimit.Local, error) {
		return ratelimit.NewLocal(ratelimit.LocalOptions{StateDir: dir, Logger: b.opts.Logger})
	})
	if err != nil {
		return nil, nil, config.Errors{{Field: "rate_limits.state_dir", Message: err.Error()}}
	}
	return l, lease, nil
}

func acquireRedis(b *buildEnv) (ratelimit.Store, *pool.Lease, error) {
	r := b.cfg.Config.GetRateLimits().GetRedis()
	if r.GetAddress() == "" {
		return nil, nil, config.Errors{{Field: "rate_limits.redis.address", Message: "required with store: redis"}}
	}
	mode, err := ratelimit.ParseFailureMode(r.GetFailureMode())
	if err != nil {
		return nil, nil, config.Errors{{Field: "rate_limits.redis.failure_mode", Message: err.Error()}}
	}
	opts := ratelimit.RedisOptions{
		Address:   r.GetAddress(),
		DB:        int(r.GetDb()),
		Timeout:   50 * time.Millisecond,
		KeyPrefix: r.GetKeyPrefix(),
		Logger:    b.opts.Logger,
		Mode:      mode,
	}
	if r.GetTimeout() != nil {
		opts.Timeout = r.GetTimeout().AsDuration()
	}
	if pf := r.GetPasswordFile(); pf != "" {
		data, err := os.ReadFile(b.cfg.Resolve(pf))
		if err != nil {
			return nil, nil, config.Errors{{Field: "rate_limits.redis.password_file", Message: err.Error()}}
		}
		opts.Password = strings.TrimRight(string(data), "\r\n")
	}
	sum := sha256.Sum256([]byte(opts.Password))
	key := strings.Join([]string{"ratelimit/redis", opts.Address, strconv.Itoa(opts.DB), opts.KeyPrefix,
		opts.Timeout.String(), mode.String(), hex.EncodeToString(sum[:8])}, "|")
	f, lease, err := pool.Acquire(b.opts.Pool, key, func() (*ratelimit.Failover, error) {
		fallback, err := ratelimit.NewLocal(ratelimit.LocalOptions{Logger: b.opts.Logger})
		if err != nil {
			return nil, err
		}
		return &ratelimit.Failover{Redis: ratelimit.NewRedis(opts), Mode: mode, Fallback: fallback}, nil
	})
	if err != nil {
		return nil, nil, err
	}
	return f, lease, nil
}
