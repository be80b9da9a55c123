package telemetry_test

import (
	"bytes"
	"os"
	"strings"
	"testing"

	configv1 "github.com/portico-gw/portico/gen/portico/config/v1"
	"github.com/portico-gw/portico/telemetry"
	"google.golang.org/protobuf/proto"
)

// TestConfigFrom: telemetry reads its own section: the OTLP endpoint,
// the sampling ratio (1 unless set, 0 kept), Prometheus, and the access
// log (json writes where it is told, stdout by default; off and empty
// write nothing; anything else is an error at its key).
func TestConfigFrom(t *testing.T) {
	var log bytes.Buffer
	c := &configv1.Config{Telemetry: &configv1.Telemetry{
		ServiceName: "edge",
		Traces:      &configv1.Traces{OtlpEndpoint: "127.0.0.1:4317", SamplingRatio: proto.Float64(0)},
		Metrics:     &configv1.Metrics{Prometheus: true},
		AccessLog:   "json",
	}}
	got, err := telemetry.ConfigFrom(c, &log)
	if err != nil {
		t.Fatal(err)
	}
	if got.ServiceName != "edge" || got.OTLPEndpoint != "127.0.0.1:4317" || got.SamplingRatio != 0 || !got.Prometheus || got.AccessLog != &log || !got.Enabled() {
		t.Errorf("got %+v, want the section as written", got)
	}
	if got, _ := telemetry.ConfigFrom(&configv1.Config{Telemetry: &configv1.Telemetry{AccessLog: "json"}}, nil); got.AccessLog != os.Stdout {
		t.Errorf("access_log json without a writer: got %v, want stdout", got.AccessLog)
	}
	for _, off := range []string{"", "off"} {
		got, err := telemetry.ConfigFrom(&configv1.Config{Telemetry: &configv1.Telemetry{AccessLog: off}}, &log)
		if err != nil || got.AccessLog != nil || got.SamplingRatio != 1 || got.Enabled() {
			t.Errorf("access_log %q: got %+v, %v; want nothing on, sampling 1", off, got, err)
		}
	}
	if _, err := telemetry.ConfigFrom(&configv1.Config{Telemetry: &configv1.Telemetry{AccessLog: "xml"}}, nil); err == nil || !strings.Contains(err.Error(), "telemetry.access_log") {
		t.Errorf("access_log xml: got %v, want an error at telemetry.access_log", err)
	}
}

// TestDialOptionsFor: integrations get the backend interceptors only when
// the config asks for telemetry.
func TestDialOptionsFor(t *testing.T) {
	if got := telemetry.DialOptionsFor(&configv1.Config{}); got != nil {
		t.Errorf("no telemetry: got %d dial options, want none", len(got))
	}
	for _, tc := range []*configv1.Telemetry{
		{Traces: &configv1.Traces{OtlpEndpoint: "127.0.0.1:4317"}},
		{Metrics: &configv1.Metrics{Prometheus: true}},
		{AccessLog: "json"},
	} {
		if got := telemetry.DialOptionsFor(&configv1.Config{Telemetry: tc}); len(got) == 0 {
			t.Errorf("telemetry %v: got no dial options, want the backend interceptors", tc)
		}
	}
}
