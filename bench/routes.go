package main

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
)

// Targets of the routes comparison, as printed.
const (
	revproxyName     = "ReverseProxy alone"
	porticoRouteName = "portico route"
)

// routesPath is what the routes comparison GETs under the route's prefix.
const routesPath = "/legacy/v1/shelves/1/books/1"

var staticReady = regexp.MustCompile(`^listening on (\S+)$`)

// runRoutes compares a plain HTTP route through Portico (routes[] to an
// http integration) with httputil.ReverseProxy alone, both in front of the
// same small HTTP backend (bench/static), driven by the same client in
// alternating rounds.
func (b *bench) runRoutes() error {
	ctx, w, o, dir := b.ctx, b.w, b.o, b.dir
	if _, err := goCmd(ctx, b.root, "build", "-o", dir+string(filepath.Separator), "./bench/static", "./bench/revproxy"); err != nil {
		return err
	}
	s := &stack{}
	defer s.procs.stopAll()
	p, m, err := startProc(ctx, "static backend", filepath.Join(dir, "static"), []string{"-listen", "127.0.0.1:0"}, staticReady, startTimeout)
	if err != nil {
		return err
	}
	s.procs = append(s.procs, p)
	s.backend, s.backendAddr = p, m[1]
	backendURL := "http://" + s.backendAddr

	cfg := filepath.Join(dir, "portico-routes.yaml")
	conf := fmt.Sprintf("# Written by go run ./bench: a plain HTTP route only.\n"+
		"listen:\n  http: 127.0.0.1:0\n  grpc: 127.0.0.1:0\n"+
		"integrations:\n  - name: static\n    http:\n      url: %s\n"+
		"routes:\n  - prefix: /legacy/\n    integration: static\n    strip_prefix: true\n", backendURL)
	if err := os.WriteFile(cfg, []byte(conf), 0o600); err != nil {
		return err
	}
	p, m, err = startProc(ctx, "portico (routes)", b.bins.portico, []string{"serve", "-c", cfg}, porticoReady, startTimeout)
	if err != nil {
		return err
	}
	s.procs = append(s.procs, p)
	s.portico, s.porticoURL = p, "http://"+m[1]

	p, m, err = startProc(ctx, "revproxy", filepath.Join(dir, "revproxy"), []string{"-backend", backendURL, "-prefix", "/legacy/", "-listen", "127.0.0.1:0"}, staticReady, startTimeout)
	if err != nil {
		return err
	}
	s.procs = append(s.procs, p)
	s.reference, s.referenceURL = p, "http://"+m[1]

	for _, g := range []struct{ name, url string }{{porticoRouteName, s.porticoURL}, {revproxyName, s.referenceURL}} {
		if err := waitReady(ctx, g.name, startTimeout, func(ctx context.Context) error {
			_, err := get(ctx, g.url+routesPath)
			return err
		}); err != nil {
			return err
		}
	}

	fmt.Fprintf(w, "\n== HTTP route: GET %s, %d connections, %d rounds of %v each, alternating ==\n", routesPath, o.concurrency, o.rounds, o.duration)
	fmt.Fprintf(w, "static backend %s (pid %d); portico %s (pid %d); ReverseProxy %s (pid %d)\n",
		s.backendAddr, s.backend.pid(), s.porticoURL, s.portico.pid(), s.referenceURL, s.reference.pid())
	rp, err := newHTTPTarget(ctx, revproxyName, s.reference, s.referenceURL+routesPath, o.concurrency)
	if err != nil {
		return err
	}
	defer rp.close()
	pr, err := newHTTPTarget(ctx, porticoRouteName, s.portico, s.porticoURL+routesPath, o.concurrency)
	if err != nil {
		return err
	}
	defer pr.close()
	rounds, err := b.compare(s, []*target{rp, pr})
	if err != nil {
		return err
	}
	rpSum, prSum := summarize(revproxyName, rounds), summarize(porticoRouteName, rounds)
	printSummary(w, rpSum, prSum)
	thr := ratio(prSum.rate, rpSum.rate)
	paired := pairedRatio(rounds, porticoRouteName, revproxyName)
	fmt.Fprintln(w, "portico route / ReverseProxy alone (an earlier issue's target):")
	b.v.check(w, "plain HTTP route", "throughput vs ReverseProxy (median req/s)", thr, thr >= 0.9, ">= 0.90x")
	b.v.check(w, "plain HTTP route", "throughput vs ReverseProxy (per-round)", paired, paired >= 0.9, ">= 0.90x")
	estimate(w, prSum, rpSum)
	fmt.Fprintf(w, "  %-48s %8.2fx\n", "gateway CPU per request", cpuRatio(prSum, rpSum))
	noiseWarning(w, rpSum, prSum)
	return nil
}
