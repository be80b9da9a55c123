package server

import (
	"context"
	"errors"
	"sync"
	"time"

	"github.com/portico-gw/portico/admin"
	"github.com/portico-gw/portico/auth"
	"github.com/portico-gw/portico/integrations"
	"github.com/portico-gw/portico/ratelimit"
)

// gatewayView is the Server as the admin API sees it.
type gatewayView struct {
	s *Server

	mu      sync.Mutex
	started time.Time // when the admin API started the drain
}

var _ admin.Gateway = (*gatewayView)(nil)

// Current describes the snapshot being served.
func (g *gatewayView) Current() admin.State {
	snap := g.s.Snapshot()
	st := admin.State{Config: snap.Config(), Catalog: snap.Catalog()}
	for _, p := range snap.Policies() {
		if kp, ok := p.(interface{ KeyProviders() []auth.KeyProvider }); ok {
			st.Keys = kp.KeyProviders()
		}
		if l, ok := p.(interface{ Limiter() *ratelimit.Limiter }); ok {
			st.Limiter = l.Limiter()
		}
		if c, ok := p.(admin.Purger); ok {
			st.Cache = c
		}
	}
	kinds := map[string]string{}
	for _, in := range snap.Config().Config.GetIntegrations() {
		kinds[in.GetName()] = integrations.Kind(in)
	}
	for _, nb := range snap.Integrations() {
		in := admin.Integration{Name: nb.Name, Kind: kinds[nb.Name]}
		if r, ok := nb.Backend.(ready); ok {
			v := r.Ready()
			in.Ready = &v
		}
		if sr, ok := nb.Backend.(interface{ State() string }); ok {
			in.State = sr.State()
		}
		if es, ok := nb.Backend.(integrations.Endpoints); ok {
			for _, e := range es.Endpoints() {
				in.Endpoints = append(in.Endpoints, admin.Endpoint{Name: e.Name, Circuit: e.Circuit, State: e.State})
			}
		}
		st.Integrations = append(st.Integrations, in)
	}
	return st
}

// Reload is Server.Reload.
func (g *gatewayView) Reload(ctx context.Context) error {
	err := g.s.Reload(WithTrigger(ctx, "admin API"))
	if errors.Is(err, errNoRebuild) {
		return admin.ErrNoReload
	}
	return err
}

// LastReload is Server.LastReload.
func (g *gatewayView) LastReload() admin.Reload {
	r := g.s.LastReload()
	return admin.Reload{At: r.At, Err: r.Err, Count: r.Count, Failed: r.Failed}
}

// Drain starts Server.Shutdown — the same drain as SIGTERM — with the
// running config's shutdown.grace_period, unless the gateway is draining
// already. The process's Serve returns once it is done.
func (g *gatewayView) Drain() {
	g.mu.Lock()
	defer g.mu.Unlock()
	if !g.started.IsZero() || g.s.Draining() {
		return // started already, by this API or by a signal
	}
	g.started = time.Now()
	// Readiness and gRPC health turn first, before Drain returns, so the
	// answer is true of the gateway (Shutdown does the same again).
	g.s.draining.Store(true)
	g.s.health.drain()
	grace := g.s.Snapshot().Limits().ShutdownGrace
	go func() {
		ctx, cancel := context.WithTimeout(WithTrigger(context.Background(), "admin API"), grace)
		defer cancel()
		if err := g.s.Shutdown(ctx); err != nil {
			g.s.log.Warn("drain", "err", err)
		}
	}()
}

// DrainStatus reports the drain's progress.
func (g *gatewayView) DrainStatus() admin.Drain {
	g.mu.Lock()
	started := g.started
	g.mu.Unlock()
	rest, grpc := g.s.InFlight()
	return admin.Drain{
		Draining:     g.s.Draining(),
		Started:      started,
		Grace:        g.s.Snapshot().Limits().ShutdownGrace,
		InFlightREST: rest,
		InFlightGRPC: grpc,
	}
}
