package grpcbackend

import (
	"context"
	"net"
	"sync/atomic"
	"testing"
	"time"

	"github.com/portico-gw/portico/catalog"
	configv1 "github.com/portico-gw/portico/gen/portico/config/v1"
	"github.com/portico-gw/portico/integrations"
	"github.com/portico-gw/portico/pool"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
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

// TestFactoryCheckOpensNothing: an integration built to check a config
// (portico validate) never dials its backend, even when a call is made.
func TestFactoryCheckOpensNothing(t *testing.T) {
	lis, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	var accepted atomic.Int64
	go func() {
		for {
			c, err := lis.Accept()
			if err != nil {
				return
			}
			accepted.Add(1)
			c.Close()
		}
	}()
	t.Cleanup(func() { lis.Close() })
	env := integrations.Env{Pool: pool.New(), Check: true}
	b, err := Factory(env, grpcConfig("books", lis.Addr().String(), nil))
	if err != nil {
		t.Fatalf("Factory: %v", err)
	}
	i := b.(*Integration)
	t.Cleanup(func() { i.Close() })
	cat, err := catalog.New(catalog.Options{APIs: []catalog.API{{
		Where: "apis[0]", Services: []string{"example.bookstore.v1.BookstoreService"}, Backend: i, BackendName: "books",
	}}})
	if err != nil {
		t.Fatal(err)
	}
	for _, m := range cat.MethodList() {
		if err := i.Check(m); err != nil {
			t.Fatalf("Check(%s): %v", m.FullMethod(), err)
		}
	}
	m := bookMethod(t, cat.Methods(), "GetShelf")
	if _, err := i.Unary(context.Background(), m, m.Input().New().Interface()); status.Code(err) != codes.Unavailable {
		t.Errorf("Unary on a checked integration: got %v, want Unavailable", err)
	}
	if n := accepted.Load(); n != 0 {
		t.Errorf("the backend was dialled %d times, want 0", n)
	}
	if n := env.Pool.Len(); n != 0 {
		t.Errorf("the pool holds %d entries, want 0", n)
	}
}
