package ratelimit

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"os"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/portico-gw/portico/catalog"
	"github.com/portico-gw/portico/config"
	"github.com/portico-gw/portico/pipeline"
	"github.com/portico-gw/portico/pool"
)

// Build is the rate-limit policy kind: rate limits and usage plans
// (rate_limits, usage_plans, apis[].rate_limits,
// apis[].methods[].rate_limits, routes[].rate_limits), as two gates of
// each method and route; nil when the config defines neither policies nor
// plans. The store lives in the pool, so a reload keeps the counters.
//
//   - early, before authentication: the client_ip policies. Every call
//     that reaches them counts, whether its credentials are then accepted
//     or refused, so wrong keys and tokens cannot be tried at line rate:
//     a client over its limit is refused (429) before its credentials
//     are even looked at.
//   - after authentication: the other policies (principal, api_key,
//     header, method) and the caller's plan, checked together.
func Build(env pipeline.Env) (pipeline.Policy, error) {
	rl, err := newRateLimits(env)
	if err != nil || rl == nil {
		return nil, err
	}
	p := &policy{methods: map[*catalog.Method]pipeline.Stage{}, routes: map[*catalog.PlainRoute]pipeline.Stage{}, limiter: rl.limiter}
	var errs config.Errors
	checked := map[*catalog.API]bool{}
	for _, m := range env.Catalog.MethodList() {
		api := m.API()
		if api == nil {
			continue
		}
		if !checked[api] {
			checked[api] = true
			errs = append(errs, rl.check(api.Where+".rate_limits", api.Settings.GetRateLimits())...)
		}
		names := append([]string(nil), api.Settings.GetRateLimits()...)
		for _, o := range m.Overrides() {
			errs = append(errs, rl.check(o.Where+".rate_limits", o.Settings.GetRateLimits())...)
			names = append(names, o.Settings.GetRateLimits()...)
		}
		p.methods[m] = rl.split(m.FullMethod(), rl.resolve(names))
	}
	for _, r := range env.Catalog.Routes() {
		if rerrs := rl.check(r.Where+".rate_limits", r.Settings.GetRateLimits()); len(rerrs) > 0 {
			errs = append(errs, rerrs...)
			continue
		}
		p.routes[r] = rl.split(r.Key(), rl.resolve(r.Settings.GetRateLimits()))
	}
	if len(errs) > 0 {
		return nil, errs
	}
	return p, nil
}

type policy struct {
	methods map[*catalog.Method]pipeline.Stage
	routes  map[*catalog.PlainRoute]pipeline.Stage
	limiter *Limiter
}

// Limiter is the snapshot's limiter (the admin API reads usage from it).
func (p *policy) Limiter() *Limiter { return p.limiter }

func (p *policy) Stage(m *catalog.Method) (pipeline.Stage, error) { return p.methods[m], nil }

func (p *policy) RouteStage(r *catalog.PlainRoute) (pipeline.Stage, error) {
	return p.routes[r], nil
}

// split makes the gates of a method or route limited by policies: the
// client_ip policies early (before authentication), the others (and
// plans) after it.
func (rl *rateLimits) split(key string, policies []*Policy) pipeline.Stage {
	var byClient, others []*Policy
	for _, p := range policies {
		if p.Key == ByClientIP {
			byClient = append(byClient, p)
		} else {
			others = append(others, p)
		}
	}
	return pipeline.Stage{Early: rl.limiter.PolicyGate(key, byClient), Gate: rl.limiter.Gate(key, others)}
}

// rateLimits is the config's rate limiting, built for one snapshot.
type rateLimits struct {
	policies map[string]*Policy
	limiter  *Limiter
}

// newRateLimits reads rate_limits and usage_plans and acquires the store
// from the pool (the lease is released when the snapshot closes); nil
// when the config defines neither policies nor plans.
func newRateLimits(env pipeline.Env) (*rateLimits, error) {
	c := env.Config.Config
	if len(c.GetRateLimits().GetPolicies()) == 0 && len(c.GetUsagePlans()) == 0 {
		return nil, nil
	}
	var errs config.Errors
	rl := &rateLimits{policies: map[string]*Policy{}}
	for i, p := range c.GetRateLimits().GetPolicies() {
		field := fmt.Sprintf("rate_limits.policies[%d]", i)
		if _, dup := rl.policies[p.GetName()]; dup {
			errs = append(errs, &config.Error{Field: field + ".name", Message: fmt.Sprintf("policy %q is defined twice", p.GetName())})
			continue
		}
		pol, err := NewPolicy(p)
		if err != nil {
			errs = append(errs, &config.Error{Field: field, Message: err.Error()})
			continue
		}
		rl.policies[p.GetName()] = pol
	}
	plans := map[string]*Plan{}
	quotaAt := -1
	for i, p := range c.GetUsagePlans() {
		field := fmt.Sprintf("usage_plans[%d]", i)
		if _, dup := plans[p.GetName()]; dup {
			errs = append(errs, &config.Error{Field: field + ".name", Message: fmt.Sprintf("plan %q is defined twice", p.GetName())})
			continue
		}
		plan, err := NewPlan(p)
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
	store, err := acquireStore(env, quotaAt)
	if err != nil {
		return nil, err
	}
	rl.limiter = NewLimiter(store, LimiterOptions{Plans: plans, Logger: env.Logger})
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
func (rl *rateLimits) resolve(names []string) []*Policy {
	var out []*Policy
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
func acquireStore(env pipeline.Env, quotaAt int) (Store, error) {
	var (
		store Store
		lease *pool.Lease
		err   error
	)
	if env.Config.Config.GetRateLimits().GetStore() == "redis" {
		store, lease, err = acquireRedis(env)
	} else {
		store, lease, err = acquireLocal(env, quotaAt)
	}
	if err != nil {
		return nil, err
	}
	env.OnClose(lease.Release)
	return store, nil
}

func acquireLocal(env pipeline.Env, quotaAt int) (Store, *pool.Lease, error) {
	dir := ""
	if d := env.Config.Config.GetRateLimits().GetStateDir(); d != "" {
		dir = env.Config.Resolve(d)
	} else if quotaAt >= 0 {
		return nil, nil, config.Errors{{Field: fmt.Sprintf("usage_plans[%d].quota", quotaAt),
			Message: "with the local store, quota usage is kept in a file so a restart does not reset it: set rate_limits.state_dir (or use store: redis)"}}
	}
	if env.Check {
		dir = "" // a check opens no state file: a running gateway holds it
	}
	l, lease, err := pool.Acquire(env.Pool, "ratelimit/local|"+dir, func() (*Local, error) {
		return NewLocal(LocalOptions{StateDir: dir, Logger: env.Logger})
	})
	if err != nil {
		return nil, nil, config.Errors{{Field: "rate_limits.state_dir", Message: err.Error()}}
	}
	return l, lease, nil
}

func acquireRedis(env pipeline.Env) (Store, *pool.Lease, error) {
	r := env.Config.Config.GetRateLimits().GetRedis()
	if r.GetAddress() == "" {
		return nil, nil, config.Errors{{Field: "rate_limits.redis.address", Message: "required with store: redis"}}
	}
	mode, err := ParseFailureMode(r.GetFailureMode())
	if err != nil {
		return nil, nil, config.Errors{{Field: "rate_limits.redis.failure_mode", Message: err.Error()}}
	}
	opts := RedisOptions{
		Address:   r.GetAddress(),
		DB:        int(r.GetDb()),
		Timeout:   50 * time.Millisecond,
		KeyPrefix: r.GetKeyPrefix(),
		Logger:    env.Logger,
		Mode:      mode,
	}
	if r.GetTimeout() != nil {
		opts.Timeout = r.GetTimeout().AsDuration()
	}
	if pf := r.GetPasswordFile(); pf != "" {
		data, err := os.ReadFile(env.Config.Resolve(pf))
		if err != nil {
			return nil, nil, config.Errors{{Field: "rate_limits.redis.password_file", Message: err.Error()}}
		}
		opts.Password = strings.TrimRight(string(data), "\r\n")
	}
	sum := sha256.Sum256([]byte(opts.Password))
	key := strings.Join([]string{"ratelimit/redis", opts.Address, strconv.Itoa(opts.DB), opts.KeyPrefix,
		opts.Timeout.String(), mode.String(), hex.EncodeToString(sum[:8])}, "|")
	f, lease, err := pool.Acquire(env.Pool, key, func() (*Failover, error) {
		fallback, err := NewLocal(LocalOptions{Logger: env.Logger})
		if err != nil {
			return nil, err
		}
		return &Failover{Redis: NewRedis(opts), Mode: mode, Fallback: fallback}, nil
	})
	if err != nil {
		return nil, nil, err
	}
	return f, lease, nil
}
