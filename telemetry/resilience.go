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
//
// Refusals of the guards are counted with the others, in
// portico_refusals_total{reason="overload"|"circuit_open"}.
type resilience struct {
	circuit metric.Int64Gauge
	attrs   attrCache
}

func newResilience(meter metric.Meter) (*resilience, error) {
	r := &resilience{}
	var err error
	if r.circuit, err = meter.Int64Gauge("portico.circuit.state",
		metric.WithDescription("Circuit breaker state per integration endpoint: 0 closed, 1 half_open, 2 open (as last seen by a call).")); err != nil {
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

func metricsFrom(ctx context.Context) *instruments {
	if r := recordFrom(ctx); r != nil {
		return r.t.m
	}
	return nil
}
