// Package outlier is outlier ejection's vocabulary, the same for every
// integration kind: the settings read from the config's
// outlier_detection (with their defaults, in one place), and an Ejector
// that takes endpoints failing in a row out of the rotation for a while.
//
// A grpc integration hands the settings to grpc-go's own outlier
// ejection balancer (failure percentage per interval, gRFC A50); an http
// integration has no balancer under it, so its Ejector judges each
// endpoint by its consecutive failures.
package outlier

import (
	"sync"
	"time"

	configv1 "github.com/portico-gw/portico/gen/portico/config/v1"
)

// MaxEjectionPercent is the share of an integration's endpoints that may
// be ejected at once: a gateway often has a handful of endpoints per
// backend, and never ejects the last of them.
const MaxEjectionPercent = 50

// maxEjectionTime caps an ejection that grew with repeated ejections
// (unless base_ejection_time is longer).
const maxEjectionTime = 300 * time.Second

// Settings are outlier_detection's, defaults applied.
type Settings struct {
	// Interval is how often endpoints are judged (percentage mode).
	Interval time.Duration
	// BaseEjection is the first ejection's length.
	BaseEjection time.Duration
	// FailurePercentage ejects, in percentage mode, an endpoint failing
	// this share of at least MinimumRequests calls in an interval.
	FailurePercentage uint32
	MinimumRequests   uint32
	// ConsecutiveFailures ejects, in the http kind's mode, an endpoint
	// failing this many calls in a row.
	ConsecutiveFailures uint32
}

// From reads od's settings with their defaults: interval 10s, base
// ejection 30s, failure percentage 50 of at least 10 calls, 5
// consecutive failures.
func From(od *configv1.OutlierDetection) Settings {
	s := Settings{Interval: 10 * time.Second, BaseEjection: 30 * time.Second, FailurePercentage: 50, MinimumRequests: 10, ConsecutiveFailures: 5}
	if od.Interval != nil {
		s.Interval = od.GetInterval().AsDuration()
	}
	if od.BaseEjectionTime != nil {
		s.BaseEjection = od.GetBaseEjectionTime().AsDuration()
	}
	if od.GetFailurePercentage() > 0 {
		s.FailurePercentage = od.GetFailurePercentage()
	}
	if od.GetMinimumRequests() > 0 {
		s.MinimumRequests = od.GetMinimumRequests()
	}
	if od.GetConsecutiveFailures() > 0 {
		s.ConsecutiveFailures = od.GetConsecutiveFailures()
	}
	return s
}

// Ejector ejects endpoints (by index) after ConsecutiveFailures failures
// in a row, for BaseEjection times the number of times the endpoint was
// ejected without a success in between (capped at 300s, or BaseEjection
// when longer); an ejected endpoint returns when its time is up. At most
// MaxEjectionPercent of the endpoints are ejected at once (rounded down),
// and never the last one that is not: a failure that would pass the
// bound leaves the endpoint in. Safe for concurrent use.
type Ejector struct {
	s       Settings
	now     func() time.Time
	healthy func(k int) bool

	mu  sync.Mutex
	eps []endpointState
}

type endpointState struct {
	failures uint32    // consecutive
	times    int       // ejections since the last success
	until    time.Time // ejected until (zero: in)
}

// NewEjector judges n endpoints under s. now is the clock (nil:
// time.Now); healthy reports whether endpoint k is otherwise usable (its
// active health check passes; nil: all are), so that an ejection never
// leaves no endpoint to call.
func NewEjector(n int, s Settings, now func() time.Time, healthy func(k int) bool) *Ejector {
	if now == nil {
		now = time.Now
	}
	return &Ejector{s: s, now: now, healthy: healthy, eps: make([]endpointState, n)}
}

// Ejected reports whether endpoint k is out of the rotation now. A nil
// Ejector ejects nothing.
func (e *Ejector) Ejected(k int) bool {
	if e == nil {
		return false
	}
	e.mu.Lock()
	defer e.mu.Unlock()
	return e.ejectedLocked(k, e.now())
}

func (e *Ejector) ejectedLocked(k int, now time.Time) bool {
	return now.Before(e.eps[k].until)
}

// Observe records a call's outcome on endpoint k: failed (a 5xx, or no
// answer) or not. It reports whether the call ejected the endpoint.
func (e *Ejector) Observe(k int, failed bool) (ejected bool) {
	if e == nil {
		return false
	}
	e.mu.Lock()
	defer e.mu.Unlock()
	ep := &e.eps[k]
	if !failed {
		ep.failures, ep.times = 0, 0
		return false
	}
	ep.failures++
	now := e.now()
	if ep.failures < e.s.ConsecutiveFailures || e.ejectedLocked(k, now) {
		return false
	}
	out, left := 0, 0
	for j := range e.eps {
		switch {
		case e.ejectedLocked(j, now):
			out++
		case j != k && (e.healthy == nil || e.healthy(j)):
			left++
		}
	}
	if (out+1)*100 > MaxEjectionPercent*len(e.eps) || left == 0 {
		return false
	}
	ep.times++
	d := e.s.BaseEjection * time.Duration(ep.times)
	if limit := max(maxEjectionTime, e.s.BaseEjection); d > limit {
		d = limit
	}
	ep.until = now.Add(d)
	ep.failures = 0
	return true
}
