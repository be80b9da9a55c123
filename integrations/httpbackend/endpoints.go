package httpbackend

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"sync/atomic"

	configv1 "github.com/portico-gw/portico/gen/portico/config/v1"
	"github.com/portico-gw/portico/integrations"
	"github.com/portico-gw/portico/integrations/guard"
	"github.com/portico-gw/portico/integrations/outlier"
	"github.com/portico-gw/portico/telemetry"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/proto"
)

// Endpoint states, as the admin API and portico_endpoint_state name them.
const (
	stateHealthy   = "healthy"
	stateEjected   = "ejected"   // by outlier ejection, for a while
	stateUnhealthy = "unhealthy" // failing its active health check
)

// errNoEndpoint is the status of a call none of whose URLs could take it.
var errNoEndpoint = status.Error(codes.Unavailable, "no backend endpoint available")

// endpointSet is an http integration's URLs and what is known of each:
// the round robin's position, the active health check's verdicts, the
// outlier ejections and the retry budget. It is state that outlives a
// snapshot (kept in the pool under the settings it was made with), so
// a reload neither restarts the health checks nor forgets ejections.
type endpointSet struct {
	name  string
	urls  []string // as configured
	hosts []string // each URL's host[:port]
	next  atomic.Uint64
	down  []atomic.Bool // failing the health check
	eject *outlier.Ejector
	check *checker // nil without health_check
	// budget bounds the retries (nil without retry).
	budget *budget
	// seen is the state last recorded in the metrics, per URL.
	seen []atomic.Pointer[string]
}

// Close stops the health checks.
func (s *endpointSet) Close() error {
	if s.check != nil {
		s.check.stop()
	}
	return nil
}

// judged reports whether the URLs have a state of their own (health
// checks or outlier ejection).
func (s *endpointSet) judged() bool { return s.check != nil || s.eject != nil }

// healthy reports whether URL k passes its health check.
func (s *endpointSet) healthy(k int) bool { return !s.down[k].Load() }

// state is URL k's state.
func (s *endpointSet) state(k int) string {
	switch {
	case s.down[k].Load():
		return stateUnhealthy
	case s.eject.Ejected(k):
		return stateEjected
	}
	return stateHealthy
}

// inRotation reports whether URL k gets calls: healthy and not ejected.
func (s *endpointSet) inRotation(k int) bool { return !s.down[k].Load() && !s.eject.Ejected(k) }

// pick chooses the URL of an attempt, round robin, and lets the attempt
// through its circuit breaker: done reports the attempt's outcome. It
// prefers, in turn: URLs in rotation not tried yet by this call, URLs in
// rotation, and — when none is in rotation (every one unhealthy or
// ejected) — any URL, so that a backend whose checks all fail is still
// tried rather than refused outright. URLs whose breaker is open are
// skipped; when every one is, the call is refused (guard.AllOpen).
func (s *endpointSet) pick(ctx context.Context, g *guard.Guard, tried []bool) (int, func(error), error) {
	n := len(s.urls)
	start := int((s.next.Add(1) - 1) % uint64(n))
	open := false
	for pass := 0; pass < 3; pass++ {
		for j := 0; j < n; j++ {
			k := (start + j) % n
			if pass == 0 && tried[k] || pass < 2 && !s.inRotation(k) {
				continue
			}
			if !g.Usable(k) {
				open = true
				continue
			}
			done, _, ok := g.TryCall(ctx, k)
			if !ok { // half-open, its probes taken: another URL, or AllOpen
				open = true
				continue
			}
			s.record(ctx, k)
			return k, done, nil
		}
	}
	if open {
		return 0, nil, g.AllOpen(ctx)
	}
	return 0, nil, errNoEndpoint
}

// finish reports an attempt's outcome on URL k to its breaker (done) and
// to outlier ejection.
func (s *endpointSet) finish(ctx context.Context, k int, done func(error), err error) {
	done(err)
	if status.Code(err) == codes.Canceled {
		return // the client went away: says nothing of the backend
	}
	if s.eject.Observe(k, guard.Failure(err)) {
		telemetry.Ejection(ctx, s.name, s.urls[k])
		s.record(ctx, k)
	}
}

// record notes URL k's state in the metrics when it is not what they
// last showed.
func (s *endpointSet) record(ctx context.Context, k int) {
	if !s.judged() {
		return
	}
	now := s.state(k)
	if old := s.seen[k].Load(); old != nil && *old == now {
		return // the common case: nothing changed, nothing allocated
	}
	if old := s.seen[k].Swap(&now); old == nil || *old != now {
		telemetry.EndpointState(ctx, s.name, s.urls[k], now)
	}
}

// endpoints reports each URL's breaker and state for the admin API.
func (s *endpointSet) endpoints(g *guard.Guard) []integrations.Endpoint {
	ge := g.Endpoints()
	if !s.judged() && len(s.urls) == 1 {
		return ge
	}
	out := make([]integrations.Endpoint, len(s.urls))
	for k, u := range s.urls {
		out[k].Name = u
		if ge != nil {
			out[k].Circuit = ge[k].Circuit
		}
		out[k].State = s.state(k)
	}
	return out
}

// setKey is the pool key of an endpoint set: the integration's name and
// the settings the set is made of (URLs, health check with its TLS files
// resolved, outlier detection, retry).
func setKey(name string, h *configv1.HttpIntegration, resolve func(string) string) (string, error) {
	shape := &configv1.HttpIntegration{Url: h.GetUrl(), Urls: h.GetUrls(), Timeout: h.GetTimeout(), HealthCheck: h.GetHealthCheck(),
		OutlierDetection: h.GetOutlierDetection(), Retry: h.GetRetry(), Tls: resolvedTLS(h.GetTls(), resolve)}
	b, err := proto.MarshalOptions{Deterministic: true}.Marshal(shape)
	if err != nil {
		return "", err
	}
	sum := sha256.Sum256(b)
	return fmt.Sprintf("httpendpoints/%s/%s", name, hex.EncodeToString(sum[:])), nil
}
