package server

import (
	"fmt"
	"io"
	"log/slog"
	"net/http"

	"github.com/portico-gw/portico/config"
	"github.com/portico-gw/portico/telemetry"
	"google.golang.org/grpc"
	"google.golang.org/grpc/stats"
)

// serverTelemetry is a Server's telemetry (telemetry:): built once, at
// New, and kept until the process stops — a reload does not change it.
// Nil-safe: a config without telemetry gets a serverTelemetry that adds
// nothing to the doors.
type serverTelemetry struct {
	t *telemetry.Telemetry // nil when the config asks for nothing
}

// newTelemetry builds the telemetry the config asks for. Metrics are
// served on the admin listener, so asking for them without one is an
// error.
func newTelemetry(cfg *config.File, listen Listen, _ *slog.Logger, accessLog io.Writer) (*serverTelemetry, error) {
	tc, err := telemetry.ConfigFrom(cfg.Config, accessLog)
	if err != nil {
		return nil, err
	}
	if !tc.Enabled() {
		return &serverTelemetry{}, nil
	}
	if tc.Prometheus && listen.Admin == "" {
		return nil, fmt.Errorf("telemetry.metrics.prometheus: metrics are served on the admin listener, and listen.admin is empty")
	}
	t, err := telemetry.New(tc)
	if err != nil {
		return nil, err
	}
	return &serverTelemetry{t: t}, nil
}

// hooks are the telemetry's REST middleware (outermost) and the gRPC
// door's stats handler.
func (st *serverTelemetry) hooks() Options {
	if st.t == nil {
		return Options{}
	}
	return Options{
		HTTPMiddleware: []func(http.Handler) http.Handler{st.t.Middleware},
		GRPCStats:      []stats.Handler{st.t.ServerHandler()},
		GRPCOptions: []grpc.ServerOption{
			// A call's record (span, metrics, log line) is made when the
			// stats handler sees it end, just after its status is sent:
			// the drain waits for that, so the exporters, closed after it,
			// have every call.
			grpc.WaitForHandlers(true),
		},
	}
}

// watch reports the server's calls in flight and reloads as metrics.
func (st *serverTelemetry) watch(s *Server) {
	if st.t == nil {
		return
	}
	if err := st.t.ObserveInFlight(s.InFlight); err != nil {
		s.log.Warn("telemetry: in-flight gauge", "err", err)
	}
	if err := st.t.ObserveReloads(func() (int, int) {
		r := s.LastReload()
		return r.Count, r.Failed
	}); err != nil {
		s.log.Warn("telemetry: reload counter", "err", err)
	}
}

// metricsHandler serves /metrics; nil when metrics are off.
func (st *serverTelemetry) metricsHandler() http.Handler {
	if st.t == nil {
		return nil
	}
	return st.t.MetricsHandler()
}

// Close flushes and stops the exporters.
func (st *serverTelemetry) Close() error {
	if st.t == nil {
		return nil
	}
	return st.t.Close()
}
