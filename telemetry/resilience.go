package telemetry

import (
	"context"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/metric"
)

// resilience are the metrics of the integrations' guards, the response
// cache and shadow traffic. In Prometheus' terms:
//
//	portico_circuit_state{integration,endpoint}       gauge: 0 closed, 1 half_open, 2 open
//	portico_cache_lookups_total{api,method,result}    counter: hit, miss, stale, bypass, not_modified
//	portico_mirror_calls_total{integration,outcome}   counter: ok, error, dropped
//
// Refusals of the guards are counted with the others, in
// portico_refusals_total{reason="overload"|"circuit_open"}.
type resilience struct {
	circuit metric.Int64Gauge
	cache   metric.Int64Counter
	mirror  metric.Int64Counter
	attrs   attrCache
}

func newResilience(meter metric.Meter) (*resilience, error) {
	r := &resilience{}
	var err error
	if r.circuit, err = meter.Int64Gauge("portico.circuit.state",
		metric.WithDescription("Circuit breaker state per integration endpoint: 0 closed, 1 half_open, 2 open (as last seen by a call).")); err != nil {
		return nil, err
	}
	if r.cache, err = meter.Int64Counter("portico.cache.lookups",
		metric.WithDescription("Response cache lookups, by API, gRPC method and result (hit, miss, stale, bypass, not_modified).")); err != nil {
		return nil, err
	}
	if r.mirror, err = meter.Int64Counter("portico.mirror.calls",
		metric.WithDescription("Shadow calls, by integration and outcome (ok, error, dropped).")); err != nil {
		return nil, err
	}
	return r, nil
}

// circuitValues are the gauge's values by state name.
var circuitValues = map[string]int64{"closed": 0, "half_open": 1, "open": 2}

// CircuitState records that an integration endpoint's circuit breaker is
// now in state (closed, half_open, open). It finds the gateway's
// telemetry through the call's context; a no-op outside a door's call or
// without metrics.
func CircuitState(ctx context.Context, integration, endpoint, state string) {
	m := metricsFrom(ctx)
	if m == nil {
		return
	}
	m.res.circuit.Record(ctx, circuitValues[state], m.res.attrs.get(attrKey{"circuit", integration, endpoint, "", ""}, func() attribute.Set {
		return attribute.NewSet(attribute.String("integration", integration), attribute.String("endpoint", endpoint))
	}).record...)
}

// MirrorOutcome counts a shadow call to integration by its outcome (ok,
// error, dropped). ctx is the mirrored call's (or one derived from it).
func MirrorOutcome(ctx context.Context, integration, outcome string) {
	m := metricsFrom(ctx)
	if m == nil {
		return
	}
	m.res.mirror.Add(ctx, 1, m.res.attrs.get(attrKey{"mirror", integration, outcome, "", ""}, func() attribute.Set {
		return attribute.NewSet(attribute.String("integration", integration), attribute.String("outcome", outcome))
	}).add...)
}

// countCache counts a call's cache lookup.
func (m *instruments) countCache(ctx context.Context, api, method, result string) {
	m.res.cache.Add(ctx, 1, m.res.attrs.get(attrKey{"cache", api, method, result, ""}, func() attribute.Set {
		return attribute.NewSet(attribute.String("api", api), attribute.String("method", method), attribute.String("result", result))
	}).add...)
}

func metricsFrom(ctx context.Context) *instruments {
	if r := recordFrom(ctx); r != nil {
		return r.t.m
	}
	return nil
}
