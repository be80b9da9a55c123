package grpcbackend

import (
	"context"
	"testing"
	"time"

	configv1 "github.com/portico-gw/portico/gen/portico/config/v1"
	"github.com/portico-gw/portico/integrations"
	"github.com/portico-gw/portico/pool"
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

// TestFactoryPoolsConnections: a reload that leaves an integration's
// settings alone keeps its connection; a changed target opens a new one;
// the timeout is not a connection setting.
func TestFactoryPoolsConnections(t *testing.T) {
	p := pool.New()
	env := integrations.Env{Pool: p}
	a1, err := Factory(env, grpcConfig("books", "passthrough:///a", durationpb.New(time.Second)))
	if err != nil {
		t.Fatal(err)
	}
	a2, err := Factory(env, grpcConfig("books", "passthrough:///a", durationpb.New(2*time.Second)))
	if err != nil {
		t.Fatal(err)
	}
	b, err := Factory(env, grpcConfig("books", "passthrough:///b", nil))
	if err != nil {
		t.Fatal(err)
	}
	if a1.(*Integration).client != a2.(*Integration).client {
		t.Error("same settings, other timeout: got two connections, want one")
	}
	if a1.(*Integration).client == b.(*Integration).client {
		t.Error("another target: got the same connection")
	}
	if p.Len() != 2 {
		t.Errorf("pooled: got %d, want 2", p.Len())
	}
	for _, x := range []integrations.Backend{a1, a2, b} {
		if err := x.Close(); err != nil {
			t.Error(err)
		}
	}
	if p.Len() != 0 {
		t.Errorf("after every snapshot let go: %d pooled, want 0", p.Len())
	}
}
