package telemetry

import (
	"context"
	"strconv"
	"sync"
	"sync/atomic"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/metric"
)

// instruments are Portico's own metrics. In Prometheus' terms:
//
//	portico_request_duration_seconds{door,api,method,route,status}  histogram (its _count is the request count)
//	portico_backend_duration_seconds{integration,method,status}     histogram
//	portico_refusals_total{door,reason,api,method}                  counter
//	portico_calls_in_flight{door}                                   gauge
//	portico_reloads_total{outcome}                                  counter
//	resilience.go: circuit state
//	cache.go: the response cache's lookups, evictions and bytes
//
// plus the Go runtime's (go_*). Every label value is bounded by the
// catalog (API, method, route template) or by a fixed set (door, status,
// reason, outcome); a call that matches no route has empty api, method
// and route.
type instruments struct {
	meter    metric.Meter
	request  metric.Float64Histogram
	backend  metric.Float64Histogram
	refusals metric.Int64Counter
	res      *resilience
	cache    *cacheMetrics

	requestAttrs attrCache
	backendAttrs attrCache
	refusalAttrs attrCache
}

// durationBuckets are the histograms' bucket bounds, in seconds: from half
// a millisecond (a refusal) to a minute (a slow backend).
var durationBuckets = []float64{0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60}

func newInstruments(meter metric.Meter) (*instruments, error) {
	m := &instruments{meter: meter}
	var err error
	if m.request, err = meter.Float64Histogram("portico.request.duration",
		metric.WithUnit("s"),
		metric.WithDescription("Calls through the doors, by door, API, gRPC method, route template and status (HTTP status on the REST door, gRPC code on the gRPC door)."),
		metric.WithExplicitBucketBoundaries(durationBuckets...)); err != nil {
		return nil, err
	}
	if m.backend, err = meter.Float64Histogram("portico.backend.duration",
		metric.WithUnit("s"),
		metric.WithDescription("Calls to backends, by integration, gRPC method and gRPC code."),
		metric.WithExplicitBucketBoundaries(durationBuckets...)); err != nil {
		return nil, err
	}
	if m.refusals, err = meter.Int64Counter("portico.refusals",
		metric.WithDescription("Calls a policy refused, by door, reason (network, auth, rate_limit, validation, overload, circuit_open, ...), API and gRPC method.")); err != nil {
		return nil, err
	}
	if m.res, err = newResilience(meter); err != nil {
		return nil, err
	}
	if m.cache, err = newCacheMetrics(meter); err != nil {
		return nil, err
	}
	return m, nil
}

// ObserveInFlight reports f's counts as portico_calls_in_flight{door}.
// A no-op when metrics are off.
func (t *Telemetry) ObserveInFlight(f func() (rest, grpc int64)) error {
	if t.m == nil {
		return nil
	}
	g, err := t.m.meter.Int64ObservableGauge("portico.calls.in_flight",
		metric.WithDescription("Calls in flight, by door."))
	if err != nil {
		return err
	}
	return t.m.observePair(g, "door", "rest", "grpc", f)
}

// ObserveReloads reports f's counts as portico_reloads_total{outcome}
// (success, failure). A no-op when metrics are off.
func (t *Telemetry) ObserveReloads(f func() (tried, failed int)) error {
	if t.m == nil {
		return nil
	}
	c, err := t.m.meter.Int64ObservableCounter("portico.reloads",
		metric.WithDescription("Snapshot reloads tried, by outcome."))
	if err != nil {
		return err
	}
	return t.m.observePair(c, "outcome", "success", "failure", func() (int64, int64) {
		tried, failed := f()
		return int64(tried - failed), int64(failed)
	})
}

// observePair reports f's two counts as inst, labelled key=a and key=b,
// at each collection.
func (m *instruments) observePair(inst metric.Int64Observable, key, a, b string, f func() (int64, int64)) error {
	attrA := metric.WithAttributes(attribute.String(key, a))
	attrB := metric.WithAttributes(attribute.String(key, b))
	_, err := m.meter.RegisterCallback(func(_ context.Context, o metric.Observer) error {
		va, vb := f()
		o.ObserveInt64(inst, va, attrA)
		o.ObserveInt64(inst, vb, attrB)
		return nil
	}, inst)
	return err
}

// attrKey identifies one label set.
type attrKey struct {
	a, b, c, d, e string
}

// attrCache keeps the measurement options of each label set seen, so a
// call neither builds and sorts its attribute set again nor allocates the
// options' slice. It is bounded: past maxCached sets (more than any
// catalog should make) sets are built per call.
type attrCache struct {
	m sync.Map // attrKey -> *measureOpts
	n atomic.Int64
}

// measureOpts are one label set's options, for Record and for Add.
type measureOpts struct {
	record []metric.RecordOption
	add    []metric.AddOption
}

const maxCached = 10_000

func (c *attrCache) get(k attrKey, build func() attribute.Set) *measureOpts {
	if v, ok := c.m.Load(k); ok {
		return v.(*measureOpts)
	}
	opt := metric.WithAttributeSet(build())
	mo := &measureOpts{record: []metric.RecordOption{opt}, add: []metric.AddOption{opt}}
	if c.n.Load() < maxCached {
		if _, loaded := c.m.LoadOrStore(k, mo); !loaded {
			c.n.Add(1)
		}
	}
	return mo
}

// httpStatuses are the status labels of REST calls, made once.
var httpStatuses = func() []string {
	s := make([]string, 600)
	for c := 100; c < 600; c++ {
		s[c] = strconv.Itoa(c)
	}
	return s
}()

// statusLabel is the status label of a REST call: its HTTP status.
func statusLabel(code int) string {
	if code >= 100 && code < 600 {
		return httpStatuses[code]
	}
	return "other"
}
