package server

import (
	"sync"

	"github.com/portico-gw/portico/snapshot"
	"google.golang.org/grpc/health"
	healthpb "google.golang.org/grpc/health/grpc_health_v1"
)

// ready is implemented by integrations that know whether they can reach
// their backend (the grpc integration follows its connection's state).
type ready interface {
	Ready() bool
	Notify(f func()) (stop func())
}

// healthState keeps grpc.health.v1 in step with the snapshot being served:
// each exposed service is SERVING while its integration can reach its
// backend and NOT_SERVING while it cannot; the overall status ("") is
// SERVING while a snapshot serves. Draining makes everything NOT_SERVING.
type healthState struct {
	server *health.Server

	mu       sync.Mutex
	snap     *snapshot.Snapshot
	stops    []func()
	known    map[string]bool // services given a status
	draining bool
}

func newHealthState() *healthState {
	return &healthState{server: health.NewServer(), known: map[string]bool{}}
}

// follow makes snap the snapshot health reports on.
func (h *healthState) follow(snap *snapshot.Snapshot) {
	h.mu.Lock()
	for _, stop := range h.stops {
		stop()
	}
	h.stops = nil
	h.snap = snap
	for _, nb := range snap.Integrations() {
		if r, ok := nb.Backend.(ready); ok {
			h.stops = append(h.stops, r.Notify(h.refresh))
		}
	}
	h.mu.Unlock()
	h.refresh()
}

// refresh sets every service's status from its integration's readiness.
func (h *healthState) refresh() {
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.snap == nil {
		return
	}
	now := map[string]bool{}
	for _, m := range h.snap.Catalog().MethodList() {
		svc := string(m.Desc().Parent().FullName())
		if _, seen := now[svc]; seen {
			continue
		}
		ok := !h.draining
		if r, isReady := m.Backend().(ready); isReady && !r.Ready() {
			ok = false
		}
		now[svc] = ok
	}
	for _, sd := range h.snap.Catalog().Services() { // a service without methods
		if _, seen := now[string(sd.FullName())]; !seen {
			now[string(sd.FullName())] = !h.draining
		}
	}
	for svc, ok := range now {
		h.server.SetServingStatus(svc, servingStatus(ok))
	}
	for svc := range h.known {
		if _, still := now[svc]; !still {
			h.server.SetServingStatus(svc, healthpb.HealthCheckResponse_SERVICE_UNKNOWN)
		}
	}
	h.known = now
	h.server.SetServingStatus("", servingStatus(!h.draining))
}

// drain reports NOT_SERVING for everything, for good.
func (h *healthState) drain() {
	h.mu.Lock()
	h.draining = true
	h.mu.Unlock()
	h.refresh()
}

// stop ends the integration subscriptions.
func (h *healthState) stop() {
	h.mu.Lock()
	defer h.mu.Unlock()
	for _, stop := range h.stops {
		stop()
	}
	h.stops = nil
}

func servingStatus(ok bool) healthpb.HealthCheckResponse_ServingStatus {
	if ok {
		return healthpb.HealthCheckResponse_SERVING
	}
	return healthpb.HealthCheckResponse_NOT_SERVING
}
