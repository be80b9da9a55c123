package grpcbackend

import (
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"

	"google.golang.org/grpc"

	configv1 "github.com/portico-gw/portico/gen/portico/config/v1"
	"github.com/portico-gw/portico/integrations"
	"github.com/portico-gw/portico/integrations/clienttls"
	"github.com/portico-gw/portico/integrations/guard"
	"github.com/portico-gw/portico/pool"
	"google.golang.org/grpc/codes"
	"google.golang.org/protobuf/proto"
)

// Factory builds a grpc integration from its config. Everything is
// checked here — targets, TLS files, the service config grpc-go is given —
// so a bad setting is a config error, never a failing call.
//
// Each target's connection is pooled under the settings that shape it, so
// a reload that leaves them alone keeps the connection (no reconnect
// storm); timeouts, weights and the pin header are per snapshot. The
// connections open when the snapshot is first used (served, or asked for
// its health), after every method routed here has been checked: the
// service config names the methods retries apply to.
//
// With env.Check the settings are checked the same way and nothing is
// opened, ever: the integration's calls fail without dialling.
//
// An unset timeout means integrations.DefaultTimeout for unary calls and
// none for streams (a stream may live long); `timeout: 0s` turns the
// deadline off; any other value bounds both.
func Factory(env integrations.Env, in *configv1.Integration) (integrations.Backend, error) {
	g := in.GetGrpc()
	opts := Options{DialOptions: env.DialOptions, Logger: env.Logger}
	if g.Timeout == nil {
		opts.Timeout = integrations.DefaultTimeout
	} else {
		opts.Timeout = g.GetTimeout().AsDuration()
		opts.StreamTimeout = opts.Timeout
	}
	var targets []*configv1.WeightedTarget
	switch {
	case g.GetTarget() != "" && len(g.GetTargets()) > 0:
		return nil, errors.New("target and targets are exclusive: set one")
	case g.GetTarget() != "":
		targets = []*configv1.WeightedTarget{{Target: g.GetTarget(), Weight: 1}}
	case len(g.GetTargets()) > 0:
		targets = g.GetTargets()
	default:
		return nil, errors.New("grpc: target (or targets) is required")
	}
	seen := map[string]bool{}
	for k, t := range targets {
		if t.GetTarget() == "" || t.GetWeight() == 0 {
			return nil, fmt.Errorf("targets[%d]: target and a weight above 0 are required", k)
		}
		if seen[t.GetTarget()] {
			return nil, fmt.Errorf("targets[%d]: target %q is listed twice", k, t.GetTarget())
		}
		seen[t.GetTarget()] = true
	}
	if g.GetAllowTargetHeader() && len(g.GetTargets()) == 0 {
		return nil, errors.New("allow_target_header picks one of targets: set targets")
	}
	if g.GetRetry() != nil && g.GetHedging() != nil {
		return nil, errors.New("retry and hedging are exclusive: set one")
	}
	gs, err := guard.SettingsFrom(g)
	if err != nil {
		return nil, err
	}
	i := newIntegration(in.GetName(), opts)
	i.timeoutSet = g.Timeout != nil
	i.allowPin = g.GetAllowTargetHeader()
	if r := g.GetRetry(); r != nil {
		i.retry = &retryScope{all: r.GetAllMethods()}
	}
	if h := g.GetHedging(); h != nil {
		nonFatal, err := parseCodes("hedging.non_fatal_codes", h.GetNonFatalCodes())
		if err != nil {
			return nil, err
		}
		i.hedge = &hedging{attempts: int(h.GetMaxAttempts()), delay: h.GetDelay().AsDuration(), nonFatal: map[codes.Code]bool{}}
		if i.hedge.attempts < 2 {
			return nil, errors.New("hedging.max_attempts: at least 2")
		}
		for _, c := range nonFatal {
			i.hedge.nonFatal[c] = true
		}
	}
	if g.GetTls() != nil {
		if _, err := clienttls.New(g.GetTls(), env.Resolve); err != nil {
			return nil, err
		}
	}

	// Check the service config and every target with grpc-go itself: a
	// client is made and closed, never asked to connect. A placeholder
	// method stands for the ones Check will add.
	probe := []string{"/portico.check.Service/Method"}
	if i.retry != nil && i.retry.all {
		probe = nil
	}
	sc, err := serviceConfig(g, probe)
	if err != nil {
		return nil, err
	}
	for _, t := range targets {
		o := opts
		o.Target, o.ServiceConfig = t.GetTarget(), sc
		if err := checkClient(o); err != nil {
			return nil, err
		}
	}

	i.discoverConn = func() (*grpc.ClientConn, error) {
		o := opts
		o.Target = targets[0].GetTarget()
		if g.GetTls() != nil {
			var err error
			if o.TLS, err = clienttls.New(g.GetTls(), env.Resolve); err != nil {
				return nil, err
			}
		}
		return grpc.NewClient(o.Target, dialOptions(o)...)
	}
	names := make([]string, len(targets))
	for k, t := range targets {
		names[k] = t.GetTarget()
	}
	gp := env.Pool
	if env.Check {
		gp = nil
	}
	if i.guard, i.releaseGuard, err = guard.Acquire(gp, in.GetName(), names, gs); err != nil {
		return nil, err
	}
	if env.Check {
		// A checked integration is never served: it opens no connection,
		// whatever is asked of it (descriptor discovery, above, is the
		// build's to decide: BuildOptions.Discover).
		i.open = func([]string) ([]*target, error) { return nil, errCheckOnly }
		return i, nil
	}
	i.open = func(retryMethods []string) ([]*target, error) {
		sc, err := serviceConfig(g, retryMethods)
		if err != nil {
			return nil, err
		}
		var out []*target
		for _, wt := range targets {
			o := opts
			o.Target, o.ServiceConfig = wt.GetTarget(), sc
			if g.GetTls() != nil {
				// Read again: the files may have changed since the check.
				if o.TLS, err = clienttls.New(g.GetTls(), env.Resolve); err != nil {
					return nil, errors.Join(err, release(out))
				}
			}
			t := &target{name: wt.GetTarget(), weight: wt.GetWeight()}
			if env.Pool == nil {
				if t.client, err = newClient(o); err != nil {
					return nil, errors.Join(err, release(out))
				}
				t.release = t.client.Close
			} else {
				key, err := poolKey(in.GetName(), g, wt.GetTarget(), sc, env.Resolve)
				if err != nil {
					return nil, errors.Join(err, release(out))
				}
				c, lease, err := pool.Acquire(env.Pool, key, func() (*client, error) { return newClient(o) })
				if err != nil {
					return nil, errors.Join(err, release(out))
				}
				t.client, t.release = c, lease.Release
			}
			out = append(out, t)
		}
		return out, nil
	}
	return i, nil
}

// errCheckOnly is what a checked integration (integrations.Env.Check)
// answers instead of connecting.
var errCheckOnly = errors.New("built to check the config only: not connected")

// release lets go of targets already opened.
func release(ts []*target) error {
	var errs []error
	for _, t := range ts {
		errs = append(errs, t.release())
	}
	return errors.Join(errs...)
}

// poolKey encodes every setting a target's connection is made with: the
// integration, the target, TLS (its files made absolute), and the service
// config. Timeouts, weights, hedging and the pin header are per call.
func poolKey(name string, g *configv1.GrpcIntegration, target, sc string, resolve func(string) string) (string, error) {
	shape := &configv1.GrpcIntegration{}
	if g.GetTls() != nil {
		shape.Tls = proto.Clone(g.GetTls()).(*configv1.ClientTls)
	}
	if t := shape.Tls; t != nil && resolve != nil {
		for _, f := range []*string{&t.CaFile, &t.CertFile, &t.KeyFile} {
			if *f != "" {
				*f = resolve(*f)
			}
		}
	}
	b, err := proto.MarshalOptions{Deterministic: true}.Marshal(shape)
	if err != nil {
		return "", err
	}
	sum := sha256.Sum256([]byte(sc))
	return "grpc/" + name + "/" + target + "/" + hex.EncodeToString(b) + "/" + hex.EncodeToString(sum[:]), nil
}

var _ integrations.Factory = Factory
