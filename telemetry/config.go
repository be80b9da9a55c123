package telemetry

import (
	"fmt"
	"io"
	"os"

	configv1 "github.com/portico-gw/portico/gen/portico/config/v1"
	"google.golang.org/grpc"
)

// ConfigFrom reads the config's telemetry section. accessLog is where
// access_log: json writes (default os.Stdout).
func ConfigFrom(c *configv1.Config, accessLog io.Writer) (Config, error) {
	tc := c.GetTelemetry()
	out := Config{
		ServiceName:   tc.GetServiceName(),
		OTLPEndpoint:  tc.GetTraces().GetOtlpEndpoint(),
		OTLPTLS:       tc.GetTraces().GetTls(),
		SamplingRatio: 1,
		Prometheus:    tc.GetMetrics().GetPrometheus(),
	}
	if tr := tc.GetTraces(); tr != nil && tr.SamplingRatio != nil {
		out.SamplingRatio = tc.GetTraces().GetSamplingRatio()
	}
	switch tc.GetAccessLog() {
	case "", "off":
	case "json":
		out.AccessLog = accessLog
		if out.AccessLog == nil {
			out.AccessLog = os.Stdout
		}
	default:
		return out, fmt.Errorf("telemetry.access_log: %q is not json or off", tc.GetAccessLog())
	}
	return out, nil
}

// DialOptionsFor are added to the integrations' gRPC clients when the
// config asks for telemetry: the backend interceptors, which find the
// calling gateway's telemetry in each call's context. A config without
// telemetry gets none and pays nothing; telemetry is read at start-up, so
// a reload that turns it on or off takes effect for connections made from
// then on.
func DialOptionsFor(c *configv1.Config) []grpc.DialOption {
	tc := c.GetTelemetry()
	if tc.GetTraces().GetOtlpEndpoint() == "" && !tc.GetMetrics().GetPrometheus() && tc.GetAccessLog() != "json" {
		return nil
	}
	return BackendDialOptions()
}
