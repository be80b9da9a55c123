package server

import (
	"encoding/json"
	"net/http"
	"time"
)

// newAdminServer makes the admin listener's server.
func (s *Server) newAdminServer(snap *Snapshot) (*http.Server, error) {
	return &http.Server{Handler: s.adminHandler(), ReadHeaderTimeout: 10 * time.Second, IdleTimeout: s.limits.IdleTimeout}, nil
}

// adminHandler serves /healthz (the process is up) and /readyz (a snapshot
// is serving and the gateway is not draining), with each integration's
// state.
func (s *Server) adminHandler() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, _ *http.Request) {
		writeJSON(w, http.StatusOK, map[string]any{"status": "ok"})
	})
	mux.HandleFunc("GET /readyz", func(w http.ResponseWriter, _ *http.Request) {
		snap := s.snap.Load()
		if snap == nil {
			writeJSON(w, http.StatusServiceUnavailable, map[string]any{"status": "no snapshot"})
			return
		}
		body := map[string]any{"methods": len(snap.Catalog.Methods), "integrations": integrationStates(snap)}
		if s.Draining() {
			rest, grpc := s.InFlight()
			body["status"] = "draining"
			body["in_flight"] = map[string]int64{"rest": rest, "grpc": grpc}
			writeJSON(w, http.StatusServiceUnavailable, body)
			return
		}
		// Ready once the snapshot serves: a gateway with one backend down
		// still serves the others (per-service gRPC health says which).
		body["status"] = "ready"
		writeJSON(w, http.StatusOK, body)
	})
	return mux
}

// integrationStates reports each integration's connection state, for
// integrations that know it.
func integrationStates(snap *Snapshot) map[string]any {
	out := map[string]any{}
	for _, nb := range snap.Integrations {
		st := map[string]any{}
		if r, ok := nb.Backend.(ready); ok {
			st["ready"] = r.Ready()
		}
		if sr, ok := nb.Backend.(interface{ State() string }); ok {
			st["state"] = sr.State()
		}
		out[nb.Name] = st
	}
	return out
}

func writeJSON(w http.ResponseWriter, code int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(code)
	_ = json.NewEncoder(w).Encode(v)
}
