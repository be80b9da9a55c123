package pipeline

import (
	"context"
	"log/slog"

	"github.com/portico-gw/portico/call"
	"github.com/portico-gw/portico/catalog"
)

// gates are one method's or route's compiled gates: the early ones, then
// the others, each in policy order.
type gates struct {
	early, late []Gate
}

func (g *gates) add(st Stage) {
	if st.Early != nil {
		g.early = append(g.early, st.Early)
	}
	if st.Gate != nil {
		g.late = append(g.late, st.Gate)
	}
}

func (g *gates) any() bool { return len(g.early)+len(g.late) > 0 }

// run runs the gates in order; the first refusal ends the call.
func (g *gates) run(ctx context.Context, c *call.Info) (context.Context, error) {
	var err error
	for _, list := range [2][]Gate{g.early, g.late} {
		for _, gate := range list {
			if ctx, err = gate(ctx, c); err != nil {
				return nil, err
			}
		}
	}
	return ctx, nil
}

// Route is one plain HTTP route with its compiled gates.
type Route struct {
	*catalog.PlainRoute
	gates gates
	log   *slog.Logger
}

// HasGate reports whether any policy gates the route.
func (r *Route) HasGate() bool { return r.gates.any() }

// Gate runs the route's gates in order (the early ones first); the first
// refusal ends the call. A panic in a gate is an INTERNAL status.
func (r *Route) Gate(ctx context.Context, c *call.Info) (_ context.Context, err error) {
	defer func() {
		if v := recover(); v != nil {
			err = Panicked(r.log, r.Where, v)
		}
	}()
	return r.gates.run(ctx, c)
}
