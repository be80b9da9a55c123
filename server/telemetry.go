package server

import (
	"io"
	"log/slog"

	"github.com/portico-gw/portico/config"
	"google.golang.org/grpc"
)

// serverTelemetry is the listener-level observability of a Server.
type serverTelemetry struct{}

// newTelemetry builds the telemetry the config asks for.
func newTelemetry(cfg *config.File, listen Listen, log *slog.Logger, accessLog io.Writer) (*serverTelemetry, error) {
	return &serverTelemetry{}, nil
}

// hooks are the telemetry's middleware and gRPC options.
func (t *serverTelemetry) hooks() Options { return Options{} }

// watch observes s for gauges.
func (t *serverTelemetry) watch(s *Server) {}

// Close flushes and stops the exporters.
func (t *serverTelemetry) Close() error { return nil }

// telemetryDialOptions are added to the integrations' gRPC clients.
func telemetryDialOptions(cfg *config.File) []grpc.DialOption { return nil }
