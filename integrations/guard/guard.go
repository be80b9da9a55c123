// Package guard keeps one slow or failing backend from taking the gateway
// down, and the gateway from piling onto a backend in trouble: a limit on
// the calls in flight to an integration, with a bounded wait for room
// (fixed, or adaptive: it follows the measured latency), and a circuit
// breaker per endpoint (a target, a URL). Both refuse with UNAVAILABLE
// (HTTP 503) and Retry-After, and name their refusal on the call
// (portico_refusals_total{reason="overload"|"circuit_open"}).
//
// A Guard is state that outlives a snapshot: integrations acquire it from
// the pool under its settings (Acquire), so a reload that keeps them
// keeps the counts and the breakers' states.
package guard

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"time"

	configv1 "github.com/portico-gw/portico/gen/portico/config/v1"
	"github.com/portico-gw/portico/integrations"
	"github.com/portico-gw/portico/pool"
	"github.com/portico-gw/portico/telemetry"
	"google.golang.org/protobuf/types/known/durationpb"
)

// Settings are a Guard's.
type Settings struct {
	// MaxInFlight bounds the calls in flight; 0: no bound.
	MaxInFlight int
	// QueueWait is the longest a call waits for room.
	QueueWait time.Duration
	// Adaptive lets the limit follow the latency, under MaxInFlight.
	Adaptive bool
	// Breaker, when set, gives each endpoint a circuit breaker.
	Breaker *BreakerSettings
}

// Options are the settings common to the grpc and http kinds' configs.
type Options interface {
	GetMaxInFlight() uint32
	GetMaxQueueWait() *durationpb.Duration
	GetCircuitBreaker() *configv1.CircuitBreaker
	GetAdaptiveConcurrency() bool
}

// SettingsFrom reads and checks the guard's settings from an
// integration's config; the zero Settings (nothing to guard) when it sets
// none.
func SettingsFrom(o Options) (Settings, error) {
	s := Settings{MaxInFlight: int(o.GetMaxInFlight()), QueueWait: o.GetMaxQueueWait().AsDuration(), Adaptive: o.GetAdaptiveConcurrency()}
	if s.Adaptive && s.MaxInFlight == 0 {
		return s, errors.New("adaptive_concurrency needs max_in_flight (the most the limit may grow to)")
	}
	if o.GetMaxQueueWait() != nil && s.MaxInFlight == 0 {
		return s, errors.New("max_queue_wait is the wait for room under max_in_flight: set max_in_flight")
	}
	if cb := o.GetCircuitBreaker(); cb != nil {
		b := &BreakerSettings{FailureRatio: cb.GetFailureRatio(), MinimumCalls: 20, Window: 10 * time.Second, OpenFor: 5 * time.Second, HalfOpenCalls: 3}
		if b.FailureRatio == 0 {
			return s, errors.New("circuit_breaker.failure_ratio is required (above 0, at most 1)")
		}
		if cb.GetMinimumCalls() > 0 {
			b.MinimumCalls = cb.GetMinimumCalls()
		}
		if cb.Window != nil {
			b.Window = cb.GetWindow().AsDuration()
		}
		if cb.OpenFor != nil {
			b.OpenFor = cb.GetOpenFor().AsDuration()
		}
		if cb.GetHalfOpenCalls() > 0 {
			b.HalfOpenCalls = cb.GetHalfOpenCalls()
		}
		s.Breaker = b
	}
	return s, nil
}

// Zero reports whether s guards nothing.
func (s Settings) Zero() bool { return s.MaxInFlight == 0 && s.Breaker == nil }

// Guard is one integration's limit and its endpoints' breakers.
type Guard struct {
	name      string
	lim       *limiter // nil: no limit
	queueWait time.Duration
	endpoints []string
	breakers  []*breaker // by endpoint; nil without a breaker
}

// New makes the guard of integration name over its endpoints (targets or
// URLs, in config order). Nil when s guards nothing: a nil Guard lets
// every call through.
func New(name string, endpoints []string, s Settings) *Guard {
	if s.Zero() {
		return nil
	}
	g := &Guard{name: name, queueWait: s.QueueWait, endpoints: endpoints}
	if s.MaxInFlight > 0 {
		g.lim = newLimiter(s.MaxInFlight, s.Adaptive)
	}
	if s.Breaker != nil {
		g.breakers = make([]*breaker, len(endpoints))
		for k, e := range endpoints {
			g.breakers[k] = newBreaker(name+"/"+e, *s.Breaker)
		}
	}
	return g
}

// Acquire returns the guard of integration name from p (made once per
// settings and endpoints, kept across reloads that keep them) and its
// lease's release. Nil, and a no-op release, when s guards nothing or p
// is nil (a checked build).
func Acquire(p *pool.Pool, name string, endpoints []string, s Settings) (*Guard, func() error, error) {
	if s.Zero() || p == nil {
		return New(name, endpoints, s), func() error { return nil }, nil
	}
	sum := sha256.Sum256(fmt.Appendf(nil, "%q %+v %+v", endpoints, s, s.Breaker))
	key := "guard/" + name + "/" + hex.EncodeToString(sum[:])
	g, lease, err := pool.Acquire(p, key, func() (*Guard, error) { return New(name, endpoints, s), nil })
	if err != nil {
		return nil, nil, err
	}
	return g, lease.Release, nil
}

// Enter takes room for one call, waiting at most the queue wait; past
// it, the call is refused (Overload). leave gives the room back with the
// call's outcome.
func (g *Guard) Enter(ctx context.Context) (leave func(err error), err error) {
	if g == nil || g.lim == nil {
		return noLeave, nil
	}
	if !g.lim.acquire(ctx, g.queueWait) {
		if ctx.Err() != nil {
			return nil, ctx.Err()
		}
		return nil, refuse(ctx, Overload, time.Second)
	}
	start := time.Now()
	return func(err error) {
		var rtt time.Duration
		if err == nil {
			rtt = time.Since(start) // failures say nothing of the load's cost
		}
		g.lim.release(rtt)
	}, nil
}

func noLeave(error) {}

// Admit is Enter then Call for an integration with one endpoint to pick
// (index k): done reports the call's outcome to both. sampled says
// whether the call's length is a latency sample for the adaptive limit
// (not a stream's).
func (g *Guard) Admit(ctx context.Context, k int, sampled bool) (done func(err error), err error) {
	if g == nil {
		return noLeave, nil
	}
	leave, err := g.Hold(ctx, sampled)
	if err != nil {
		return nil, err
	}
	finish, err := g.Call(ctx, k)
	if err != nil {
		leave(err)
		return nil, err
	}
	return func(err error) {
		finish(err)
		leave(err)
	}, nil
}

// Hold is Enter for a call whose endpoints are picked later (Call, once
// per attempt): leave gives the room back with the call's outcome.
// sampled is as for Admit.
func (g *Guard) Hold(ctx context.Context, sampled bool) (leave func(err error), err error) {
	enter, err := g.Enter(ctx)
	if err != nil || sampled {
		return enter, err
	}
	return func(err error) {
		if err == nil {
			err = errNotSampled
		}
		enter(err)
	}, nil
}

// errNotSampled is the outcome given to the limit for a call whose
// length is not a latency sample.
var errNotSampled = errors.New("not a latency sample")

// Usable reports whether endpoint k may be picked now: no breaker, or one
// that is not open.
func (g *Guard) Usable(k int) bool {
	return g == nil || g.breakers == nil || !g.breakers[k].open()
}

// Call lets a call through endpoint k's breaker: done reports its
// outcome. A breaker that is open (or half-open with its probes taken)
// refuses it (CircuitOpen), with the time left before it half-opens as
// Retry-After.
func (g *Guard) Call(ctx context.Context, k int) (done func(err error), err error) {
	done, after, ok := g.TryCall(ctx, k)
	if !ok {
		return nil, refuse(ctx, CircuitOpen, after)
	}
	return done, nil
}

// TryCall is Call that marks nothing on a call its breaker does not let
// through (ok false, with the time before it half-opens): for a caller
// that tries another endpoint then.
func (g *Guard) TryCall(ctx context.Context, k int) (done func(err error), after time.Duration, ok bool) {
	if g == nil || g.breakers == nil {
		return noLeave, 0, true
	}
	b := g.breakers[k]
	before := b.state()
	d, after, ok := b.allow()
	if !ok {
		g.observe(ctx, k, before)
		return nil, after, false
	}
	return func(err error) {
		d(err)
		g.observe(ctx, k, before)
	}, 0, true
}

// observe reports endpoint k's breaker state to telemetry when it is not
// what it was before the call.
func (g *Guard) observe(ctx context.Context, k int, before string) {
	if now := g.breakers[k].state(); now != before {
		telemetry.CircuitState(ctx, g.name, g.endpoints[k], now)
	}
}

// AllOpen is the refusal of a call none of whose endpoints' breakers let
// it through: the shortest time before one half-opens is its
// Retry-After.
func (g *Guard) AllOpen(ctx context.Context) error {
	after := time.Duration(-1)
	for _, b := range g.breakers {
		_, left, _ := breakerLeft(b)
		if after < 0 || left < after {
			after = left
		}
	}
	return refuse(ctx, CircuitOpen, after)
}

func breakerLeft(b *breaker) (string, time.Duration, bool) {
	left := b.openFor - time.Since(time.Unix(0, b.opened.Load()))
	return b.state(), max(left, 0), left > 0
}

// Endpoints reports each endpoint's breaker state; nil for a nil Guard.
func (g *Guard) Endpoints() []integrations.Endpoint {
	if g == nil {
		return nil
	}
	out := make([]integrations.Endpoint, len(g.endpoints))
	for k, e := range g.endpoints {
		out[k].Name = e
		if g.breakers != nil {
			out[k].Circuit = g.breakers[k].state()
		}
	}
	return out
}

// Load is the calls in flight, the current limit and the calls waiting;
// zeros without a limit.
func (g *Guard) Load() (inflight, limit, waiting int) {
	if g == nil || g.lim == nil {
		return 0, 0, 0
	}
	return g.lim.state()
}
