package grpcbackend

import (
	"encoding/hex"

	configv1 "github.com/portico-gw/portico/gen/portico/config/v1"
	"github.com/portico-gw/portico/integrations"
	"github.com/portico-gw/portico/pool"
	"google.golang.org/protobuf/proto"
)

// Factory builds a grpc integration from its config. The connection is
// pooled under the settings that shape it, so a reload that leaves them
// alone keeps the connection (no reconnect storm); the timeout is per
// snapshot.
//
// An unset timeout means integrations.DefaultTimeout for unary calls and
// none for streams (a stream may live long); `timeout: 0s` turns the
// deadline off; any other value bounds both.
func Factory(env integrations.Env, in *configv1.Integration) (integrations.Backend, error) {
	g := in.GetGrpc()
	opts := Options{Target: g.GetTarget(), DialOptions: env.DialOptions, Logger: env.Logger}
	if g.Timeout == nil {
		opts.Timeout = integrations.DefaultTimeout
	} else {
		opts.Timeout = g.GetTimeout().AsDuration()
		opts.StreamTimeout = opts.Timeout
	}
	if env.Pool == nil {
		return New(in.GetName(), opts)
	}
	shape := proto.Clone(g).(*configv1.GrpcIntegration)
	shape.Timeout = nil
	b, err := proto.MarshalOptions{Deterministic: true}.Marshal(shape)
	if err != nil {
		return nil, err
	}
	key := "grpc/" + in.GetName() + "/" + hex.EncodeToString(b)
	c, lease, err := pool.Acquire(env.Pool, key, func() (*client, error) { return newClient(in.GetName(), opts) })
	if err != nil {
		return nil, err
	}
	return newIntegration(in.GetName(), c, lease.Release, opts), nil
}

var _ integrations.Factory = Factory
