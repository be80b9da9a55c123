package server

import (
	"io"
	"log/slog"

	"github.com/portico-gw/portico/config"
)

// telemetryHooks are the listener-level observability hooks (telemetry:):
// HTTP middleware on the REST door, gRPC server options (a stats handler)
// on the gRPC door, dial options for integrations. The closer flushes and
// stops the exporters.
func telemetryHooks(cfg *config.File, log *slog.Logger) (Options, io.Closer, error) {
	return Options{}, nil, nil
}
