package server

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/netip"
	"time"

	"github.com/portico-gw/portico/admin"
	"github.com/portico-gw/portico/config"
	"github.com/portico-gw/portico/snapshot"
)

// newAdminServer makes the admin listener's server. It serves, on one
// port:
//   - /healthz (the process is up) and /readyz (a snapshot is serving and
//     the gateway is not draining), open to all: probes carry no token
//     (/readyz's details need it);
//   - /metrics, Prometheus' text format, when telemetry.metrics.prometheus;
//   - /debug/pprof/, Go's runtime profiles (admin_pprof.go);
//   - the admin API, portico.admin.v1.Admin, through Portico's own doors
//     (admin_door.go): REST/JSON (curl) and gRPC (grpcurl, over HTTP/2
//     without TLS) on the same port.
//
// The admin API, /metrics and /debug/pprof/ need the admin token when admin.token_file
// is set; a listener that is not on a loopback address must have one, or
// the gateway refuses to start. Every request, on every path, passes
// admin.Guard first: Host naming the listener (DNS rebinding), no
// cross-site request, a JSON (or gRPC) Content-Type for POST — so a web
// page cannot drive the admin API, token or not. With admin.audit_log,
// every change made through it is written there (admin.Audit).
func (s *Server) newAdminServer(snap *snapshot.Snapshot) (*http.Server, error) {
	tok, err := adminToken(snap, s.AdminAddr)
	if err != nil {
		return nil, err
	}
	guard, err := admin.NewGuard(s.AdminAddr, tok)
	if err != nil {
		return nil, err
	}
	var audit *admin.Audit
	if path := snap.Config().Config.GetAdmin().GetAuditLog(); path != "" {
		if audit, err = admin.OpenAudit(snap.Config().Resolve(path), tok, s.log); err != nil {
			return nil, err
		}
		s.closers = append(s.closers, audit)
		s.audit = audit
	}
	door, err := s.newAdminDoor(tok, audit)
	if err != nil {
		return nil, err
	}
	mux := http.NewServeMux()
	mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, _ *http.Request) {
		writeJSON(w, http.StatusOK, map[string]any{"status": "ok"})
	})
	mux.HandleFunc("GET /readyz", func(w http.ResponseWriter, r *http.Request) {
		s.serveReadyz(w, tok.Allows(r.Header.Get("Authorization")))
	})
	mux.Handle("POST /reload", audit.Handler("Reload", tok.Handler(http.HandlerFunc(s.serveReload))))
	if h := s.tele.metricsHandler(); h != nil {
		mux.Handle("GET /metrics", tok.Handler(h))
	}
	handlePprof(mux, tok)
	var protocols http.Protocols
	protocols.SetHTTP1(true)
	protocols.SetUnencryptedHTTP2(true) // gRPC clients without TLS (prior knowledge)
	return &http.Server{
		Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if err := guard.Check(r); err != nil {
				door.refuse(w, r, err)
				return
			}
			switch r.URL.Path {
			case "/healthz", "/readyz", "/metrics", "/reload":
				mux.ServeHTTP(w, r)
			default:
				if isPprof(r.URL.Path) {
					mux.ServeHTTP(w, r)
					return
				}
				door.ServeHTTP(w, r)
			}
		}),
		Protocols:         &protocols,
		ReadHeaderTimeout: 10 * time.Second,
		IdleTimeout:       s.limits.IdleTimeout,
	}, nil
}

// adminToken reads admin.token_file, and refuses an admin listener beyond
// loopback without one: the admin API reloads and drains the gateway.
func adminToken(snap *snapshot.Snapshot, bound string) (admin.Token, error) {
	if path := snap.Config().Config.GetAdmin().GetTokenFile(); path != "" {
		tok, err := admin.ReadToken(snap.Config().Resolve(path))
		if err != nil {
			return admin.Token{}, err
		}
		return admin.NewToken(tok), nil
	}
	ap, err := netip.ParseAddrPort(bound)
	if err != nil || !ap.Addr().Unmap().IsLoopback() {
		return admin.Token{}, fmt.Errorf("listen.admin %s is not a loopback address: set admin.token_file (the admin API can reload and drain the gateway)", bound)
	}
	return admin.Token{}, nil
}

// serveReload answers POST /reload: the config is built again and swapped
// in, or the error says why not (the running config keeps serving). The
// admin API's Reload does the same over REST and gRPC.
func (s *Server) serveReload(w http.ResponseWriter, r *http.Request) {
	err := s.Reload(WithTrigger(r.Context(), "admin API"))
	snap := s.Snapshot()
	if err != nil {
		writeJSON(w, http.StatusUnprocessableEntity, map[string]any{"status": "failed", "error": config.RedactURLs(err.Error()), "config": map[string]any{"hash": snap.Hash()}})
		return
	}
	writeJSON(w, http.StatusOK, map[string]any{"status": "reloaded", "config": map[string]any{"hash": snap.Hash()}, "restart_needed": s.LastReload().RestartNeeded})
}

// serveReadyz answers /readyz: 200 once a snapshot serves, 503 while
// draining or before. Probes carry no token, and the answer is all they
// need: {"status": ...}. With details (the caller has the admin token, or
// none is set: then the whole admin API is open to the loopback
// listener's clients) it adds each integration's state, the config's
// hash, the last reload and the calls in flight while draining.
func (s *Server) serveReadyz(w http.ResponseWriter, details bool) {
	snap := s.snap.Load()
	if snap == nil {
		writeJSON(w, http.StatusServiceUnavailable, map[string]any{"status": "no snapshot"})
		return
	}
	if !details {
		if s.Draining() {
			writeJSON(w, http.StatusServiceUnavailable, map[string]any{"status": "draining"})
			return
		}
		writeJSON(w, http.StatusOK, map[string]any{"status": "ready"})
		return
	}
	body := map[string]any{
		"methods":      len(snap.Catalog().Methods()),
		"integrations": integrationStates(snap),
		"config":       map[string]any{"hash": snap.Hash(), "built_at": snap.BuiltAt().UTC().Format(time.RFC3339Nano)},
	}
	if last := s.LastReload(); last.Count > 0 {
		r := map[string]any{"at": last.At.UTC().Format(time.RFC3339Nano), "count": last.Count, "failed": last.Failed, "ok": last.Err == nil}
		if last.Err != nil {
			r["error"] = config.RedactURLs(last.Err.Error())
		}
		if len(last.RestartNeeded) > 0 {
			r["restart_needed"] = last.RestartNeeded
		}
		body["last_reload"] = r
	}
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
}

// integrationStates reports each integration's connection state, for
// integrations that know it.
func integrationStates(snap *snapshot.Snapshot) map[string]any {
	out := map[string]any{}
	for _, nb := range snap.Integrations() {
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
	w.Header().Set("X-Content-Type-Options", "nosniff")
	w.WriteHeader(code)
	_ = json.NewEncoder(w).Encode(v)
}
