package telemetry

import (
	"context"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/metric"
)

// cacheMetrics are the response cache's. In Prometheus' terms:
//
//	portico_cache_lookups_total{method,result}   counter: result hit, miss or stale
//	portico_cache_evictions_total{store}         counter: answers dropped to make room
//	portico_cache_bytes{store}                   gauge: bytes kept by the local store
//
// The access log line of a cached method's call says "cache": hit, miss
// or stale.
type cacheMetrics struct {
	lookups   metric.Int64Counter
	evictions metric.Int64Counter
	bytes     metric.Int64Gauge
	attrs     attrCache
}

func newCacheMetrics(meter metric.Meter) (*cacheMetrics, error) {
	c := &cacheMetrics{}
	var err error
	if c.lookups, err = meter.Int64Counter("portico.cache.lookups",
		metric.WithDescription("Response cache lookups, by gRPC method and result (hit, miss, stale).")); err != nil {
		return nil, err
	}
	if c.evictions, err = meter.Int64Counter("portico.cache.evictions",
		metric.WithDescription("Cached answers dropped to make room, by store.")); err != nil {
		return nil, err
	}
	if c.bytes, err = meter.Int64Gauge("portico.cache.bytes",
		metric.WithUnit("By"),
		metric.WithDescription("Bytes of answers the local response cache keeps (as last seen by a call).")); err != nil {
		return nil, err
	}
	return c, nil
}

// CacheLookup records how the response cache answered a call of method:
// hit, miss or stale; the call's access log line says it too. A no-op
// outside a door's call.
func CacheLookup(ctx context.Context, method, result string) {
	r := recordFrom(ctx)
	if r == nil {
		return
	}
	r.cache.Store(&result)
	if m := r.t.m; m != nil {
		m.cache.lookups.Add(ctx, 1, m.cache.attrs.get(attrKey{"lookup", method, result, "", ""}, func() attribute.Set {
			return attribute.NewSet(attribute.String("method", method), attribute.String("result", result))
		}).add...)
	}
}

// CacheStored records a store's size after a write and the answers it
// dropped to make room (bytes < 0: a store that does not know its size).
func CacheStored(ctx context.Context, store string, bytes int64, evicted int) {
	m := metricsFrom(ctx)
	if m == nil {
		return
	}
	opts := m.cache.attrs.get(attrKey{"store", store, "", "", ""}, func() attribute.Set {
		return attribute.NewSet(attribute.String("store", store))
	})
	if evicted > 0 {
		m.cache.evictions.Add(ctx, int64(evicted), opts.add...)
	}
	if bytes >= 0 {
		m.cache.bytes.Record(ctx, bytes, opts.record...)
	}
}
