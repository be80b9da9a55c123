package grpcbackend

import (
	"context"
	"math/rand/v2"

	"github.com/portico-gw/portico/call"
	"github.com/portico-gw/portico/integrations"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
)

// TargetHeader pins a call to one of an integration's targets, by the
// target as written in the config. It is honoured only when the
// integration sets allow_target_header, and only on calls that passed the
// method's gates (authentication included). Its name starts with
// call.ReservedPrefix, so it is never forwarded to a backend.
const TargetHeader = "x-portico-target"

// pick chooses the target of a call.
//
// Weighted targets (a canary split) are written here rather than with
// grpc-go's balancers: weighted_target takes its children from the
// hierarchical address paths that only grpc-go's internal xDS code can set,
// weighted_round_robin takes weights from the backends' ORCA load reports
// rather than from config, and ring_hash with endpoint weights could split
// but not pin a call to a named target, and would need a resolver merging
// targets of different schemes (dns:///, unix:///). Instead each target
// keeps a connection of its own — with grpc-go's load balancing, health
// checking, outlier ejection and retries inside it — and each call picks
// a target at random in proportion to the weights, among the targets whose
// connection is ready (as weighted_target picks among ready children); when
// none is, among all, so the call fails as the chosen connection says.
// A retry stays on the target chosen: a canary's call is not retried on
// the stable version.
//
// A target whose circuit breaker is open is not picked; when every
// target's is, the call is refused at once. done reports the call's
// outcome to the chosen target's breaker.
func (i *Integration) pick(ctx context.Context) (_ *target, done func(error), err error) {
	t, k, err := i.choose(ctx)
	if err != nil {
		return nil, nil, err
	}
	if done, err = i.guard.Call(ctx, k); err != nil {
		return nil, nil, err
	}
	return t, done, nil
}

// choose is pick's choice of a target and its index.
func (i *Integration) choose(ctx context.Context) (*target, int, error) {
	ts, err := i.conns()
	if err != nil {
		return nil, 0, integrations.Unavailable
	}
	if i.allowPin {
		if info := call.FromContext(ctx); info != nil {
			if want := info.Header(TargetHeader); want != "" {
				for k, t := range ts {
					if t.name == want {
						return t, k, nil
					}
				}
				return nil, 0, status.Errorf(codes.InvalidArgument, "%s: unknown target %q", TargetHeader, want)
			}
		}
	}
	if len(ts) == 1 {
		return ts[0], 0, nil
	}
	var buf [8]bool
	up := buf[:0] // each target's readiness, read once
	var total, closed uint64
	for k, t := range ts {
		usable := i.guard.Usable(k)
		r := usable && t.client.ready()
		up = append(up, r)
		if r {
			total += uint64(t.weight)
		}
		if usable {
			closed += uint64(t.weight)
		}
	}
	if closed == 0 {
		return nil, 0, i.guard.AllOpen(ctx)
	}
	anyUp := total > 0
	if !anyUp {
		// None is ready: pick among those whose breaker is not open, so
		// the call fails as the chosen connection says.
		total = closed
	}
	n := rand.Uint64N(total)
	for k, t := range ts {
		if anyUp && !up[k] || !anyUp && !i.guard.Usable(k) {
			continue
		}
		if n < uint64(t.weight) {
			return t, k, nil
		}
		n -= uint64(t.weight)
	}
	return ts[len(ts)-1], len(ts) - 1, nil // not reached: n < total
}
