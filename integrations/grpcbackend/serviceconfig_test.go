package grpcbackend

import (
	"encoding/json"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/portico-gw/portico/catalog"
	configv1 "github.com/portico-gw/portico/gen/portico/config/v1"
	"github.com/portico-gw/portico/integrations"
	"github.com/portico-gw/portico/pool"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/reflect/protodesc"
	"google.golang.org/protobuf/reflect/protoreflect"
	"google.golang.org/protobuf/types/descriptorpb"
	"google.golang.org/protobuf/types/known/durationpb"
)

func TestServiceConfig(t *testing.T) {
	tests := []struct {
		name    string
		g       *configv1.GrpcIntegration
		methods []string
		want    string
	}{
		{"defaults", &configv1.GrpcIntegration{}, nil,
			`{"loadBalancingConfig":[{"pick_first":{}}]}`},
		{"round robin", &configv1.GrpcIntegration{LoadBalancing: "round_robin"}, nil,
			`{"loadBalancingConfig":[{"round_robin":{}}]}`},
		{"health check picks round_robin", &configv1.GrpcIntegration{HealthCheck: true}, nil,
			`{"loadBalancingConfig":[{"round_robin":{}}],"healthCheckConfig":{"serviceName":""}}`},
		{"outlier detection wraps the policy", &configv1.GrpcIntegration{OutlierDetection: &configv1.OutlierDetection{
			Interval: durationpb.New(time.Second), FailurePercentage: 60, MinimumRequests: 4, BaseEjectionTime: durationpb.New(time.Minute),
		}}, nil,
			`{"loadBalancingConfig":[{"outlier_detection_experimental":{"interval":"1s","baseEjectionTime":"60s","maxEjectionPercent":50,
			"failurePercentageEjection":{"threshold":60,"enforcementPercentage":100,"minimumHosts":2,"requestVolume":4},
			"childPolicy":[{"round_robin":{}}]}}]}`},
		{"outlier detection defaults", &configv1.GrpcIntegration{LoadBalancing: "pick_first", OutlierDetection: &configv1.OutlierDetection{}}, nil,
			`{"loadBalancingConfig":[{"outlier_detection_experimental":{"interval":"10s","baseEjectionTime":"30s","maxEjectionPercent":50,
			"failurePercentageEjection":{"threshold":50,"enforcementPercentage":100,"minimumHosts":2,"requestVolume":10},
			"childPolicy":[{"pick_first":{}}]}}]}`},
		{"retry on named methods", &configv1.GrpcIntegration{Retry: &configv1.Retry{MaxAttempts: 3, Codes: []string{"unavailable", " RESOURCE_EXHAUSTED"}}},
			[]string{"/a.S/Get", "/a.S/List"},
			`{"loadBalancingConfig":[{"pick_first":{}}],"methodConfig":[{"name":[{"service":"a.S","method":"Get"},{"service":"a.S","method":"List"}],
			"retryPolicy":{"maxAttempts":3,"initialBackoff":"0.1s","maxBackoff":"1s","backoffMultiplier":2,"retryableStatusCodes":["UNAVAILABLE","RESOURCE_EXHAUSTED"]}}]}`},
		{"retry on every method", &configv1.GrpcIntegration{Retry: &configv1.Retry{MaxAttempts: 2, Codes: []string{"ABORTED"},
			InitialBackoff: durationpb.New(20 * time.Millisecond), MaxBackoff: durationpb.New(500 * time.Millisecond), AllMethods: true}},
			nil,
			`{"loadBalancingConfig":[{"pick_first":{}}],"methodConfig":[{"name":[{}],
			"retryPolicy":{"maxAttempts":2,"initialBackoff":"0.02s","maxBackoff":"0.5s","backoffMultiplier":2,"retryableStatusCodes":["ABORTED"]}}]}`},
		{"retry with no idempotent method", &configv1.GrpcIntegration{Retry: &configv1.Retry{MaxAttempts: 3, Codes: []string{"UNAVAILABLE"}}},
			[]string{},
			`{"loadBalancingConfig":[{"pick_first":{}}]}`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := serviceConfig(tt.g, tt.methods)
			if err != nil {
				t.Fatal(err)
			}
			var g, w any
			if err := json.Unmarshal([]byte(got), &g); err != nil {
				t.Fatalf("not JSON: %v: %s", err, got)
			}
			if err := json.Unmarshal([]byte(tt.want), &w); err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(g, w) {
				t.Errorf("got %s\nwant %s", got, tt.want)
			}
		})
	}
}

// TestFactoryErrors: every bad setting is a config error when the
// integration is built, with a message that says what to fix.
func TestFactoryErrors(t *testing.T) {
	dir := t.TempDir()
	tests := []struct {
		name string
		g    *configv1.GrpcIntegration
		want string
	}{
		{"no target", &configv1.GrpcIntegration{}, "target (or targets) is required"},
		{"both", &configv1.GrpcIntegration{Target: "a:1", Targets: []*configv1.WeightedTarget{{Target: "b:1", Weight: 1}}}, "exclusive"},
		{"zero weight", &configv1.GrpcIntegration{Targets: []*configv1.WeightedTarget{{Target: "b:1"}}}, "weight above 0"},
		{"duplicate target", &configv1.GrpcIntegration{Targets: []*configv1.WeightedTarget{{Target: "b:1", Weight: 1}, {Target: "b:1", Weight: 2}}}, "listed twice"},
		{"pin without targets", &configv1.GrpcIntegration{Target: "a:1", AllowTargetHeader: true}, "set targets"},
		{"health under pick_first", &configv1.GrpcIntegration{Target: "a:1", LoadBalancing: "pick_first", HealthCheck: true}, "health_check needs load_balancing: round_robin"},
		{"bad retry code", &configv1.GrpcIntegration{Target: "a:1", Retry: &configv1.Retry{MaxAttempts: 2, Codes: []string{"SOMETIMES"}}}, `retry.codes: "SOMETIMES" is not a gRPC code name`},
		{"OK is not retried", &configv1.GrpcIntegration{Target: "a:1", Retry: &configv1.Retry{MaxAttempts: 2, Codes: []string{"OK"}}}, "OK is not a failure"},
		{"backoff order", &configv1.GrpcIntegration{Target: "a:1", Retry: &configv1.Retry{MaxAttempts: 2, Codes: []string{"UNAVAILABLE"},
			InitialBackoff: durationpb.New(time.Second), MaxBackoff: durationpb.New(time.Millisecond)}}, "shorter than retry.initial_backoff"},
		{"retry and hedging", &configv1.GrpcIntegration{Target: "a:1", Retry: &configv1.Retry{MaxAttempts: 2, Codes: []string{"UNAVAILABLE"}},
			Hedging: &configv1.Hedging{MaxAttempts: 2}}, "retry and hedging are exclusive"},
		{"bad hedging code", &configv1.GrpcIntegration{Target: "a:1", Hedging: &configv1.Hedging{MaxAttempts: 2, NonFatalCodes: []string{"nope"}}}, "hedging.non_fatal_codes"},
		{"missing CA file", &configv1.GrpcIntegration{Target: "a:1", Tls: &configv1.ClientTls{CaFile: dir + "/none.pem"}}, "no such file"},
		{"cert without key", &configv1.GrpcIntegration{Target: "a:1", Tls: &configv1.ClientTls{CertFile: dir + "/c.pem"}}, "cert_file and key_file go together"},
		{"unparsable target", &configv1.GrpcIntegration{Target: "dns://a:b:c/%zz"}, "target"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := Factory(integrations.Env{Pool: pool.New()}, &configv1.Integration{Name: "x", Kind: &configv1.Integration_Grpc{Grpc: tt.g}})
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("got %v, want an error containing %q", err, tt.want)
			}
		})
	}
}

func TestIdempotent(t *testing.T) {
	// Bound to GET or not: the bookstore's rules.
	_, methods := build(t, &configv1.GrpcIntegration{Target: "passthrough:///unused"})
	for name, want := range map[string]bool{
		"GetShelf": true, "ListBooks": true, "WatchBooks": true,
		"CreateShelf": false, "DeleteShelf": false, "UpdateBook": false, "Reindex": false, "ImportBooks": false,
	} {
		if got := Idempotent(bookMethod(t, methods, name)); got != want {
			t.Errorf("%s: got %v, want %v", name, got, want)
		}
	}
	// idempotency_level, with no HTTP rule.
	level := func(l descriptorpb.MethodOptions_IdempotencyLevel) *descriptorpb.MethodOptions {
		return &descriptorpb.MethodOptions{IdempotencyLevel: l.Enum()}
	}
	fdp := &descriptorpb.FileDescriptorProto{
		Name: proto.String("idem.proto"), Package: proto.String("idem"), Syntax: proto.String("proto3"),
		MessageType: []*descriptorpb.DescriptorProto{{Name: proto.String("M")}},
		Service: []*descriptorpb.ServiceDescriptorProto{{Name: proto.String("S"), Method: []*descriptorpb.MethodDescriptorProto{
			{Name: proto.String("Pure"), InputType: proto.String(".idem.M"), OutputType: proto.String(".idem.M"), Options: level(descriptorpb.MethodOptions_NO_SIDE_EFFECTS)},
			{Name: proto.String("Put"), InputType: proto.String(".idem.M"), OutputType: proto.String(".idem.M"), Options: level(descriptorpb.MethodOptions_IDEMPOTENT)},
			{Name: proto.String("Post"), InputType: proto.String(".idem.M"), OutputType: proto.String(".idem.M"), Options: level(descriptorpb.MethodOptions_IDEMPOTENCY_UNKNOWN)},
			{Name: proto.String("Plain"), InputType: proto.String(".idem.M"), OutputType: proto.String(".idem.M")},
		}}},
	}
	fd, err := protodesc.NewFile(fdp, nil)
	if err != nil {
		t.Fatal(err)
	}
	ms := fd.Services().Get(0).Methods()
	for name, want := range map[string]bool{"Pure": true, "Put": true, "Post": false, "Plain": false} {
		m, err := catalog.NewMethod(ms.ByName(protoreflect.Name(name)), nil)
		if err != nil {
			t.Fatal(err)
		}
		if got := Idempotent(m); got != want {
			t.Errorf("%s: got %v, want %v", name, got, want)
		}
	}
}
