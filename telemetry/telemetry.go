// Package telemetry observes every call through both doors: a server span
// per call (W3C trace context taken from the client and passed to the
// backend, exported over OTLP), metrics through OpenTelemetry with a
// Prometheus exporter, and a JSON access log line per call.
//
// It hooks in at the edges, so calls refused before the pipeline (unknown
// routes, wrong methods, oversized requests, gate refusals) are seen too:
// Middleware wraps the REST door's HTTP handler (outermost), ServerHandler
// is a grpc-go stats.Handler for the gRPC door (otelgrpc's, with Portico's
// own record of the call around it), and BackendDialOptions are the
// interceptors of the integrations' gRPC clients (client spans, trace
// context to the backend, backend latency).
//
// What a call is (its door, route template, gRPC method, client address,
// principal, refusal) comes from the call.Info the doors fill; labels are
// route templates and method names from the catalog, never raw paths, so
// the number of series stays bounded whatever clients send.
package telemetry

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"
	"go.opentelemetry.io/contrib/instrumentation/google.golang.org/grpc/otelgrpc"
	otelruntime "go.opentelemetry.io/contrib/instrumentation/runtime"
	"go.opentelemetry.io/otel/exporters/otlp/otlptrace/otlptracegrpc"
	otelprom "go.opentelemetry.io/otel/exporters/prometheus"
	metricnoop "go.opentelemetry.io/otel/metric/noop"
	"go.opentelemetry.io/otel/propagation"
	sdkmetric "go.opentelemetry.io/otel/sdk/metric"
	"go.opentelemetry.io/otel/sdk/resource"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	semconv "go.opentelemetry.io/otel/semconv/v1.43.0"
	"go.opentelemetry.io/otel/trace"
	"google.golang.org/grpc/credentials"
	"google.golang.org/grpc/stats"
)

// Config says what to observe. The zero Config observes nothing.
type Config struct {
	// ServiceName is service.name on traces and metrics. Default portico.
	ServiceName string
	// OTLPEndpoint is the host:port of an OTLP/gRPC trace receiver; empty:
	// no spans are recorded (trace context is still passed on).
	OTLPEndpoint string
	// OTLPTLS uses TLS (system roots) to the receiver.
	OTLPTLS bool
	// SamplingRatio is the share of new traces sampled; a client's sampled
	// flag is followed (parent-based).
	SamplingRatio float64
	// Prometheus turns metrics on; MetricsHandler serves them.
	Prometheus bool
	// AccessLog receives one JSON line per call; nil: no access log.
	AccessLog io.Writer
	// BatchTimeout is the longest a finished span waits before it is
	// exported. Default 5s (the OpenTelemetry default).
	BatchTimeout time.Duration
}

// Enabled reports whether c observes anything.
func (c Config) Enabled() bool {
	return c.OTLPEndpoint != "" || c.Prometheus || c.AccessLog != nil
}

// Telemetry is one gateway's telemetry. Its hooks are safe for concurrent
// use; Close flushes and stops the exporters.
type Telemetry struct {
	cfg  Config
	prop propagation.TextMapPropagator
	// tracer records spans; nil without export: then the trace context a
	// client sent is passed on as it is, and no span is made.
	tracer trace.Tracer
	tp     *sdktrace.TracerProvider // nil without export
	// sampleRoots is false at sampling_ratio 0: a call that brings no
	// trace context would make spans that are never sampled, so none is
	// made (a client's sampled context is still followed).
	sampleRoots bool
	mp          *sdkmetric.MeterProvider // nil without metrics
	reg         *prometheus.Registry
	m           *instruments // nil without metrics
	access      *slog.Logger // nil without access log

	grpcServer stats.Handler // otelgrpc's, inside ours; nil without export

	closeOnce sync.Once
	closeErr  error
}

// New builds the telemetry cfg asks for. Nothing it starts blocks or fails
// calls: the OTLP exporter connects in the background and drops spans it
// cannot send.
func New(cfg Config) (*Telemetry, error) {
	if cfg.ServiceName == "" {
		cfg.ServiceName = "portico"
	}
	if cfg.SamplingRatio < 0 || cfg.SamplingRatio > 1 {
		return nil, fmt.Errorf("sampling ratio %v is not between 0 and 1", cfg.SamplingRatio)
	}
	if cfg.BatchTimeout <= 0 {
		cfg.BatchTimeout = 5 * time.Second
	}
	t := &Telemetry{
		cfg:  cfg,
		prop: propagation.TraceContext{}, // traceparent, tracestate
	}
	res := resource.NewWithAttributes(semconv.SchemaURL, semconv.ServiceName(cfg.ServiceName))

	if cfg.OTLPEndpoint != "" {
		opts := []otlptracegrpc.Option{otlptracegrpc.WithEndpoint(cfg.OTLPEndpoint)}
		if cfg.OTLPTLS {
			opts = append(opts, otlptracegrpc.WithTLSCredentials(credentials.NewClientTLSFromCert(nil, "")))
		} else {
			opts = append(opts, otlptracegrpc.WithInsecure())
		}
		// New does not dial: the connection is made in the background.
		exp, err := otlptracegrpc.New(context.Background(), opts...)
		if err != nil {
			return nil, fmt.Errorf("traces: %v", err)
		}
		t.tp = sdktrace.NewTracerProvider(
			sdktrace.WithResource(res),
			sdktrace.WithSampler(sdktrace.ParentBased(sdktrace.TraceIDRatioBased(cfg.SamplingRatio))),
			// The batcher drops spans when its queue is full rather than
			// making calls wait for a slow or absent receiver.
			sdktrace.WithBatcher(exp, sdktrace.WithBatchTimeout(cfg.BatchTimeout)),
		)
		t.tracer = t.tp.Tracer(scopeName)
		t.sampleRoots = cfg.SamplingRatio > 0
		// otelgrpc makes the gRPC door's spans (and reads the trace
		// context from metadata); its own metrics are off: they would be
		// labelled with raw method names, unbounded for unknown methods.
		// Ours are recorded from the call's Info instead.
		t.grpcServer = otelgrpc.NewServerHandler(otelgrpc.WithTracerProvider(t.tp), otelgrpc.WithPropagators(t.prop),
			otelgrpc.WithMeterProvider(metricnoop.NewMeterProvider()))
	}

	if cfg.Prometheus {
		t.reg = prometheus.NewRegistry()
		exp, err := otelprom.New(otelprom.WithRegisterer(t.reg), otelprom.WithoutScopeInfo())
		if err != nil {
			return nil, fmt.Errorf("metrics: %v", err)
		}
		t.mp = sdkmetric.NewMeterProvider(sdkmetric.WithResource(res), sdkmetric.WithReader(exp))
		if err := otelruntime.Start(otelruntime.WithMeterProvider(t.mp)); err != nil {
			_ = t.Close()
			return nil, fmt.Errorf("runtime metrics: %v", err)
		}
		if t.m, err = newInstruments(t.mp.Meter(scopeName)); err != nil {
			_ = t.Close()
			return nil, fmt.Errorf("metrics: %v", err)
		}
	}
	if cfg.AccessLog != nil {
		t.access = slog.New(slog.NewJSONHandler(cfg.AccessLog, nil))
	}
	return t, nil
}

// scopeName is the instrumentation scope of Portico's spans and metrics.
const scopeName = "github.com/portico-gw/portico/telemetry"

// MetricsHandler serves the metrics in Prometheus' text format; nil when
// metrics are off.
func (t *Telemetry) MetricsHandler() http.Handler {
	if t.reg == nil {
		return nil
	}
	return promhttp.HandlerFor(t.reg, promhttp.HandlerOpts{})
}

// closeTimeout bounds the final flush: a receiver that is down must not
// hold a shutdown up.
const closeTimeout = 3 * time.Second

// Close exports what is buffered (bounded in time) and stops the
// exporters. Closing twice is a no-op.
func (t *Telemetry) Close() error {
	t.closeOnce.Do(func() {
		ctx, cancel := context.WithTimeout(context.Background(), closeTimeout)
		defer cancel()
		var errs []error
		if t.tp != nil {
			if err := t.tp.Shutdown(ctx); err != nil && !errors.Is(err, context.DeadlineExceeded) {
				errs = append(errs, fmt.Errorf("traces: %v", err))
			}
		}
		if t.mp != nil {
			if err := t.mp.Shutdown(ctx); err != nil && !errors.Is(err, context.DeadlineExceeded) {
				errs = append(errs, fmt.Errorf("metrics: %v", err))
			}
		}
		t.closeErr = errors.Join(errs...)
	})
	return t.closeErr
}
