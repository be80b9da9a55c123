package grpcbackend

import (
	"context"
	"testing"
	"time"

	configv1 "github.com/portico-gw/portico/gen/portico/config/v1"
	"github.com/portico-gw/portico/integrations"
	"google.golang.org/protobuf/types/known/durationpb"
)

func grpcConfig(name, target string, timeout *durationpb.Duration) *configv1.Integration {
	return &configv1.Integration{Name: name, Kind: &configv1.Integration_Grpc{Grpc: &configv1.GrpcIntegration{Target: target, Timeout: timeout}}}
}

// TestFactoryTimeouts (hardening finding 3): an integration without a
// timeout let a hung backend hold a call for ever. Unset now means the
// default deadline for unary calls (none for streams, which may live
// long); 0s turns it off; any other value bounds both.
func TestFactoryTimeouts(t *testing.T) {
	for _, tc := range []struct {
		name          string
		timeout       *durationpb.Duration
		unary, stream time.Duration
	}{
		{"unset", nil, integrations.DefaultTimeout, 0},
		{"0s: off", durationpb.New(0), 0, 0},
		{"5s", durationpb.New(5 * time.Second), 5 * time.Second, 5 * time.Second},
	} {
		t.Run(tc.name, func(t *testing.T) {
			b, err := Factory(integrations.Env{}, grpcConfig("b", "passthrough:///x", tc.timeout))
			if err != nil {
				t.Fatal(err)
			}
			defer b.Close()
			i := b.(*Integration)
			if i.timeout != tc.unary || i.streamTimeout != tc.stream {
				t.Errorf("got unary %v, stream %v; want %v, %v", i.timeout, i.streamTimeout, tc.unary, tc.stream)
			}
			ctx, cancel := i.callContext(context.Background(), i.timeout)
			defer cancel()
			if _, ok := ctx.Deadline(); ok != (tc.unary > 0) {
				t.Errorf("unary call deadline set: %v, want %v", ok, tc.unary > 0)
			}
		})
	}
}
