package main

import (
	"context"
	"fmt"
	"net"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/portico-gw/portico/bench/scalegen"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/types/known/emptypb"
)

// The catalog targets (issue 19, target 4).
const (
	scaleSection = "catalog scale"
	wantLoad     = 5 * time.Second
	wantRouteKB  = 1.0
	wantLookup   = 1.2
	// scaleSmall is the small catalog the large one is compared with.
	scaleSmall = 10
	// scaleReloads is how many reloads the reload round asks for.
	scaleReloads = 2
)

// runScale starts two Porticos in front of the same answer-anything
// backend: one with scaleSmall generated routes, one with -scale-routes.
// It reports the large one's load time (process start to listening), its
// RSS per route beyond the small one's, the gateway CPU per GET against
// the small one's (each client GETs a route of its own, spread over the
// catalog), and one round on the large one during which it reloads its
// catalog scaleReloads times: no call may fail.
func (b *bench) runScale() error {
	n := b.o.scaleRoutes
	backend, stopBackend, err := startEchoBackend()
	if err != nil {
		return err
	}
	defer stopBackend()
	s := &stack{}
	defer s.procs.stopAll()
	fmt.Fprintf(b.w, "\n== catalog scale: %d generated HTTP routes against %d ==\n", n, scaleSmall)

	type started struct {
		g    *gateway
		load time.Duration
		rss  int64
	}
	start := func(name string, n int, flags ...string) (started, error) {
		set := fmt.Sprintf("scale-%d.binpb", n)
		t0 := time.Now()
		if err := writeScaleSet(filepath.Join(b.dir, set), n); err != nil {
			return started{}, err
		}
		genTime := time.Since(t0)
		cfg := filepath.Join(b.dir, name+".yaml")
		if err := os.WriteFile(cfg, []byte(scalegen.Config(set, n, backend)), 0o600); err != nil {
			return started{}, err
		}
		t0 = time.Now()
		bin, args := b.bins.gateway, append([]string{"-c", cfg}, flags...)
		if bin == "" { // -generated: cmd/portico
			bin, args = b.bins.portico, []string{"serve", "-c", cfg}
		}
		p, m, err := startProc(b.ctx, name, bin, args, porticoReady, 10*time.Minute)
		if err != nil {
			return started{}, err
		}
		st := started{g: &gateway{proc: p, url: "http://" + m[1], grpcAddr: m[2], admin: m[3]}, load: time.Since(t0)}
		s.procs = append(s.procs, p)
		if err := waitReady(b.ctx, name, startTimeout, func(ctx context.Context) error {
			_, err := get(ctx, st.g.url+scalegen.Route(n-1, "x"))
			return err
		}); err != nil {
			return started{}, err
		}
		if st.rss, err = settledRSS(b.ctx, p); err != nil {
			return started{}, err
		}
		fmt.Fprintf(b.w, "%-14s %8d routes: descriptor set written in %v; listening %v after start; RSS %d KB (pid %d)\n",
			name, n, genTime.Round(time.Millisecond), st.load.Round(time.Millisecond), st.rss>>10, p.pid())
		return st, nil
	}
	small, err := start("scale-small", scaleSmall)
	if err != nil {
		return err
	}
	large, err := start("scale-large", n)
	if err != nil {
		return err
	}
	var variant *started
	if b.o.variant != "" && b.bins.gateway != "" { // the large catalog again, with the -variant's flags
		name, flags, _ := strings.Cut(b.o.variant, "=")
		v, err := start("scale-large-"+name, n, strings.Fields(flags)...)
		if err != nil {
			return err
		}
		variant = &v
	}

	spread := func(t *target, routes int) {
		for i, c := range t.callers {
			hc := c.(*httpCaller)
			u, _ := url.Parse(hc.req.URL.Scheme + "://" + hc.req.URL.Host + scalegen.Route((i*7919+routes/2)%routes, "x"))
			hc.req.URL = u
		}
	}
	smallT, err := newHTTPTarget(b.ctx, "scale small", small.g.proc, small.g.url+"/", b.o.concurrency)
	if err != nil {
		return err
	}
	defer smallT.close()
	spread(smallT, scaleSmall)
	smallT.admin = small.g.admin
	largeT, err := newHTTPTarget(b.ctx, "scale large", large.g.proc, large.g.url+"/", b.o.concurrency)
	if err != nil {
		return err
	}
	defer largeT.close()
	spread(largeT, n)
	largeT.admin = large.g.admin
	fmt.Fprintf(b.w, "GET a route of its own per connection, %d connections, %d rounds of %v each, alternating\n", b.o.concurrency, b.o.rounds, b.o.duration)
	targets := []*target{smallT, largeT}
	if variant != nil {
		name, _, _ := strings.Cut(b.o.variant, "=")
		vt, err := newHTTPTarget(b.ctx, "scale large ["+name+"]", variant.g.proc, variant.g.url+"/", b.o.concurrency)
		if err != nil {
			return err
		}
		defer vt.close()
		spread(vt, n)
		vt.admin = variant.g.admin
		targets = append(targets, vt)
	}
	rounds, err := b.compare(s, targets)
	if err != nil {
		return err
	}
	smallSum, largeSum := summarize(smallT.name, rounds), summarize(largeT.name, rounds)
	if variant != nil {
		varSum := summarize(targets[2].name, rounds)
		printSummary(b.w, smallSum, largeSum, varSum)
		fmt.Fprintf(b.w, "%s / %s: gateway CPU per request %.3fx; load %.2f s vs %.2f s; RSS %d vs %d KB\n", largeT.name, targets[2].name,
			cpuRatio(largeSum, varSum), large.load.Seconds(), variant.load.Seconds(), large.rss>>10, variant.rss>>10)
	} else {
		printSummary(b.w, smallSum, largeSum)
	}

	fmt.Fprintf(b.w, "reload of the %d-route catalog under load (%d reloads in one round):\n", n, scaleReloads)
	reloaded, r, err := b.reloadUnderLoad(s, largeT, large.g.admin, b.o.duration+scaleReloads*3*large.load/2)
	if err != nil {
		return err
	}
	fmt.Fprintf(b.w, "  %d calls, %d failed; %d of %d reloads answered 200\n", r.ok, r.errs, reloaded, scaleReloads)
	if r.errs > 0 {
		fmt.Fprintf(b.w, "  first failure: %v\n", r.firstErr)
	}

	perRoute := float64(large.rss-small.rss) / float64(n-scaleSmall) / 1024
	lookup := cpuRatio(largeSum, smallSum)
	fmt.Fprintln(b.w)
	// The goal is a million routes in wantLoad: per route, whatever n ran.
	perRouteLoad := float64(large.load.Microseconds()) / float64(n)
	goalLoad := float64(wantLoad.Microseconds()) / 1e6
	fmt.Fprintf(b.w, "  %-48s %7.2f s\n", fmt.Sprintf("%d routes: load time (start to listening)", n), large.load.Seconds())
	b.v.figure(b.w, scaleSection, "load time per route (1M routes in < 5 s)", perRouteLoad, "µs", perRouteLoad < goalLoad, fmt.Sprintf("< %.0f µs", goalLoad))
	b.v.figure(b.w, scaleSection, "RSS per route beyond the small catalog", perRoute, "KB", perRoute < wantRouteKB, fmt.Sprintf("< %.0f KB", wantRouteKB))
	b.v.check(b.w, scaleSection, fmt.Sprintf("GET: gateway CPU per request vs %d routes", scaleSmall), lookup, lookup <= wantLookup, fmt.Sprintf("<= %.2fx", wantLookup))
	b.v.figure(b.w, scaleSection, "reload under load: failed calls", float64(r.errs), "calls", r.errs == 0 && reloaded == scaleReloads, "0, every reload 200")
	return nil
}

// reloadUnderLoad drives t for one round of d while asking the gateway's
// admin listener to reload scaleReloads times, one after the other with a
// pause between them. It returns how many reloads answered 200 before the
// round ended, and the round.
func (b *bench) reloadUnderLoad(s *stack, t *target, admin string, d time.Duration) (int, *roundResult, error) {
	done := make(chan int, 1)
	end := time.Now().Add(d)
	go func() {
		ok := 0
		for i := range scaleReloads {
			select {
			case <-time.After(b.o.duration / (scaleReloads + 1)):
			case <-b.ctx.Done():
			}
			req, err := http.NewRequestWithContext(b.ctx, http.MethodPost, "http://"+admin+"/reload", nil)
			if err != nil {
				continue
			}
			req.Header.Set("Content-Type", "application/json") // the admin listener's CSRF guard
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				fmt.Fprintf(b.w, "  reload %d: %v\n", i+1, err)
				continue
			}
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK && time.Now().Before(end) {
				ok++
			} else {
				fmt.Fprintf(b.w, "  reload %d: %s (or it ended after the round)\n", i+1, resp.Status)
			}
		}
		done <- ok
	}()
	r, err := drive(b.ctx, b.clock, s, t, 1, d)
	ok := <-done
	if err != nil {
		return 0, nil, err
	}
	b.failed += r.errs
	return ok, r, nil
}

// startEchoBackend serves, on a loopback port, a gRPC server that answers
// every unary call of any method with an empty message (a valid Resp).
func startEchoBackend() (addr string, stop func(), err error) {
	lis, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", nil, err
	}
	srv := grpc.NewServer(grpc.UnknownServiceHandler(func(_ any, stream grpc.ServerStream) error {
		if err := stream.RecvMsg(new(emptypb.Empty)); err != nil {
			return status.Error(codes.InvalidArgument, err.Error())
		}
		return stream.SendMsg(new(emptypb.Empty))
	}))
	go func() { _ = srv.Serve(lis) }()
	return lis.Addr().String(), srv.Stop, nil
}
