package server

import (
	"net/http"
	"net/http/pprof"
	"strings"

	"github.com/portico-gw/portico/admin"
)

// pprofPrefix is where the admin listener serves Go's runtime profiles.
const pprofPrefix = "/debug/pprof/"

// handlePprof registers Go's runtime profiles (net/http/pprof's handlers:
// the index, each named profile, a CPU profile, an execution trace) under
// /debug/pprof/ on the admin listener's mux, behind the admin token, as
// Caddy's admin endpoint serves them: an operator profiles the running
// gateway under its real load with
//
//	curl -H "Authorization: Bearer $TOKEN" -o cpu.pprof http://ADMIN/debug/pprof/profile?seconds=30
//	go tool pprof cpu.pprof
//
// The handlers are registered here by hand, never through the package's
// side effect on http.DefaultServeMux, which nothing in Portico serves.
func handlePprof(mux *http.ServeMux, tok admin.Token) {
	mux.Handle("GET "+pprofPrefix, tok.Handler(http.HandlerFunc(pprof.Index)))
	mux.Handle("GET "+pprofPrefix+"cmdline", tok.Handler(http.HandlerFunc(pprof.Cmdline)))
	mux.Handle("GET "+pprofPrefix+"profile", tok.Handler(http.HandlerFunc(pprof.Profile)))
	mux.Handle("GET "+pprofPrefix+"symbol", tok.Handler(http.HandlerFunc(pprof.Symbol)))
	mux.Handle("GET "+pprofPrefix+"trace", tok.Handler(http.HandlerFunc(pprof.Trace)))
}

// isPprof reports whether path is one of the profiler's.
func isPprof(path string) bool { return strings.HasPrefix(path, pprofPrefix) }
