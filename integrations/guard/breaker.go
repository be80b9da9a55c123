package guard

import (
	"sync/atomic"
	"time"

	"github.com/sony/gobreaker/v2"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
)

// BreakerSettings are a circuit breaker's (see configv1.CircuitBreaker).
type BreakerSettings struct {
	FailureRatio  float64
	MinimumCalls  uint32
	Window        time.Duration
	OpenFor       time.Duration
	HalfOpenCalls uint32
}

// breaker is one endpoint's circuit breaker: sony/gobreaker's two-step
// breaker over a rolling window (ten buckets), with the time it opened
// kept for Retry-After.
type breaker struct {
	cb      *gobreaker.TwoStepCircuitBreaker[struct{}]
	openFor time.Duration
	opened  atomic.Int64 // unix nanoseconds of the last opening
}

func newBreaker(name string, s BreakerSettings) *breaker {
	b := &breaker{openFor: s.OpenFor}
	b.cb = gobreaker.NewTwoStepCircuitBreaker[struct{}](gobreaker.Settings{
		Name:         name,
		MaxRequests:  s.HalfOpenCalls,
		Interval:     s.Window,
		BucketPeriod: s.Window / 10,
		Timeout:      s.OpenFor,
		ReadyToTrip: func(c gobreaker.Counts) bool {
			// Requests counts the excluded calls (cancelled by their
			// client) too: they are neither failures nor successes.
			counted := c.TotalFailures + c.TotalSuccesses
			return counted >= s.MinimumCalls && float64(c.TotalFailures) >= s.FailureRatio*float64(counted)
		},
		OnStateChange: func(_ string, _, to gobreaker.State) {
			if to == gobreaker.StateOpen {
				b.opened.Store(time.Now().UnixNano())
			}
		},
		IsSuccessful: func(err error) bool { return !Failure(err) },
		IsExcluded:   func(err error) bool { return status.Code(err) == codes.Canceled },
	})
	return b
}

// Failure reports whether a call's error says the backend failed (rather
// than answering an error of the caller's): what breakers and outlier
// ejection count.
func Failure(err error) bool {
	switch status.Code(err) {
	case codes.Unavailable, codes.DeadlineExceeded, codes.Internal, codes.Unknown, codes.DataLoss:
		return true
	}
	return false
}

// allow lets a call through, or says how long the breaker stays open.
func (b *breaker) allow() (done func(error), retryAfter time.Duration, ok bool) {
	done, err := b.cb.Allow()
	if err != nil {
		left := b.openFor - time.Since(time.Unix(0, b.opened.Load()))
		return nil, max(left, 0), false
	}
	return done, 0, true
}

// open reports whether the breaker refuses calls now (a half-open one
// lets probes through: it is not open).
func (b *breaker) open() bool { return b.cb.State() == gobreaker.StateOpen }

// state names the breaker's state: closed, half_open or open.
func (b *breaker) state() string {
	switch b.cb.State() {
	case gobreaker.StateOpen:
		return "open"
	case gobreaker.StateHalfOpen:
		return "half_open"
	}
	return "closed"
}
