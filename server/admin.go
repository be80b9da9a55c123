package server

import (
	"encoding/json"
	"net/http"
)

// adminHandler serves /healthz (the process is up) and /readyz (a snapshot
// is loaded and serving).
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
		writeJSON(w, http.StatusOK, map[string]any{"status": "ready", "methods": len(snap.Catalog.Methods)})
	})
	return mux
}

func writeJSON(w http.ResponseWriter, code int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(code)
	_ = json.NewEncoder(w).Encode(v)
}
