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
func (i *Integration) pick(ctx context.Context) (*target, error) {
	ts, err := i.conns()
	if err != nil {
		return nil, integrations.Unavailable
	}
	if i.allowPin {
		if info := call.FromContext(ctx); info != nil {
			if want := info.Header(TargetHeader); want != "" {
				for _, t := range ts {
					if t.name == want {
						return t, nil
					}
				}
				return nil, status.Errorf(codes.InvalidArgument, "%s: unknown target %q", TargetHeader, want)
			}
		}
	}
	if len(ts) == 1 {
		return ts[0], nil
	}
	var buf [8]bool
	up := buf[:0] // each target's readiness, read once
	var total uint64
	for _, t := range ts {
		r := t.client.ready()
		up = append(up, r)
		if r {
			total += uint64(t.weight)
		}
	}
	anyUp := total > 0
	if !anyUp {
		for _, t := range ts {
			total += uint64(t.weight)
		}
	}
	n := rand.Uint64N(total)
	for k, t := range ts {
		if anyUp && !up[k] {
			continue
		}
		if n < uint64(t.weight) {
			return t, nil
		}
		n -= uint64(t.weight)
	}
	return ts[len(ts)-1], nil // not reached: n < total
}
