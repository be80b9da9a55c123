package telemetry

import (
	"context"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/metric"
)

// resilience are the metrics of the integrations' guards. In
// Prometheus' terms:
//
//	portico_circuit_state{integration,endpoint}       gauge: 0 closed, 1 half_open, 2 open
//	portico_endpoint_state{integration,endpoint}      gauge: 0 healthy, 1 ejected, 2 unhealthy
//	portico_retries_total{integration}                counter: attempts sent again (http integrations)
//	portico_ejections_total{integration,endpoint}     counter: outlier ejections (http integrations)
//	portico_mirror_total{integration,outcome}         counter: shadow copies: ok, error, dropped
//
// Refusals of the guards are counted with the others, in
// portico_refusals_total{reason="overload"|"circuit_open"}.
type resilience struct {
	circuit   metric.Int64Gauge
	endpoint  metric.Int64Gauge
	retries   metric.Int64Counter
	ejections metric.Int64Counter
	mirror    metric.Int64Counter
	attrs     attrCache
}

func newResilience(meter metric.Meter) (*resilience, error) {
	r := &resilience{}
	var err error
	if r.circuit, err = meter.Int64Gauge("portico.circuit.state",
		metric.WithDescription("Circuit breaker state per integration endpoint: 0 closed, 1 half_open, 2 open (as last seen by a call).")); err != nil {
		return nil, err
	}
	if r.endpoint, err = meter.Int64Gauge("portico.endpoint.state",
		metric.WithDescription("An http integration URL's state: 0 healthy, 1 ejected (outlier), 2 unhealthy (health check), as last seen by a call.")); err != nil {
		return nil, err
	}
	if r.retries, err = meter.Int64Counter("portico.retries",
		metric.WithDescription("Attempts an http integration sent again (retry).")); err != nil {
		return nil, err
	}
	if r.ejections, err = meter.Int64Counter("portico.ejections",
		metric.WithDescription("Outlier ejections of an http integration's URLs.")); err != nil {
		return nil, err
	}
	if r.mirror, err = meter.Int64Counter("portico.mirror",
		metric.WithDescription("Shadow copies of calls (mirror) by outcome: ok, error (the mirror failed), dropped (no room).")); err != nil {
		return nil, err
	}
	return r, nil
}

// endpointValues are the endpoint state gauge's values by state name.
var endpointValues = map[string]int64{"healthy": 0, "ejected": 1, "unhealthy": 2}

// EndpointState records that an http integration's endpoint is now
// healthy, ejected or unhealthy (as CircuitState).
func EndpointState(ctx context.Context, integration, endpoint, state string) {
	if m := metricsFrom(ctx); m != nil {
		m.res.endpoint.Record(ctx, endpointValues[state], m.res.pair("endpoint", integration, endpoint).record...)
	}
}

// Retry counts an attempt sent again to an integration.
func Retry(ctx context.Context, integration string) {
	if m := metricsFrom(ctx); m != nil {
		m.res.retries.Add(ctx, 1, m.res.attrs.get(attrKey{"retry", integration, "", "", ""}, func() attribute.Set {
			return attribute.NewSet(attribute.String("integration", integration))
		}).add...)
	}
}

// Ejection counts an outlier ejection of an integration's endpoint.
func Ejection(ctx context.Context, integration, endpoint string) {
	if m := metricsFrom(ctx); m != nil {
		m.res.ejections.Add(ctx, 1, m.res.pair("ejection", integration, endpoint).add...)
	}
}

// Mirror counts a shadow copy of a call to integration by outcome: ok,
// error or dropped. ctx is the real call's (the copy's own outlives it).
func Mirror(ctx context.Context, integration, outcome string) {
	if m := metricsFrom(ctx); m != nil {
		m.res.mirror.Add(ctx, 1, m.res.attrs.get(attrKey{"mirror", integration, outcome, "", ""}, func() attribute.Set {
			return attribute.NewSet(attribute.String("integration", integration), attribute.String("outcome", outcome))
		}).add...)
	}
}

// pair is the label set {integration, endpoint} of instrument kind.
func (r *resilience) pair(kind, integration, endpoint string) *measureOpts {
	return r.attrs.get(attrKey{kind, integration, endpoint, "", ""}, func() attribute.Set {
		return attribute.NewSet(attribute.String("integration", integration), attribute.String("endpoint", endpoint))
	})
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
	m.res.circuit.Record(ctx, circuitValues[state], m.res.pair("circuit", integration, endpoint).record...)
}

func metricsFrom(ctx context.Context) *instruments {
	if r := recordFrom(ctx); r != nil {
		return r.t.m
	}
	return nil
}
