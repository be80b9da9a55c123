// Command bench measures Portico against the grpc-gateway reference for
// the same API, on this machine:
//
//	go run ./bench [-duration 5s] [-rounds 3] [-concurrency 32] [-path /v1/shelves/1/books/1] [-grpc=true]
//
// It builds cmd/portico, bench/reference (grpc-gateway's generated handlers
// on a default runtime.ServeMux) and the example bookstore backend, starts
// the backend on a loopback port and both gateways in front of it as
// separate processes, with the bookstore and the 50-route inventory API
// registered in each. The same in-process load generator (-concurrency
// goroutines, each a keep-alive HTTP client in a loop) then drives the
// reference and Portico in turn, -rounds times each, alternating, after a
// warm-up. For each round it prints requests/s, latency quantiles and the
// CPU time (user + system, from /proc) the gateway, the backend and the
// load generator used per request; then a summary with the ratios
// Portico/reference.
//
// With -grpc it then compares a grpc-go client calling GetBook on the
// backend directly with the same client calling it through Portico's gRPC
// door and (with -nginx) through nginx's grpc_pass (bench/nginx.conf,
// started on a free port; its CPU is the master's and the workers'),
// alternating in the same way.
//
// With -routes it then compares a plain HTTP route through Portico (a
// second Portico with routes: to an http integration) with
// httputil.ReverseProxy alone (bench/revproxy), both in front of a small
// HTTP backend (bench/static).
//
// Everything listens on loopback only, and every process is stopped at the
// end, on an error and on SIGINT. It exits non-zero if any call failed.
package main

import (
	"bytes"
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"runtime"
	"strings"
	"syscall"
	"time"
)

// Target names, as printed.
const (
	referenceName = "grpc-gateway"
	porticoName   = "portico"
	directName    = "backend direct"
	doorName      = "portico gRPC door"
)

// options are the command line.
type options struct {
	duration    time.Duration
	warmup      time.Duration
	rounds      int
	concurrency int
	path        string
	book        string
	grpc        bool
	nginx       bool
	routes      bool
	generated   bool
	postPath    string
	postBody    string
	grpcMethod  string
}

func main() {
	var o options
	flag.DurationVar(&o.duration, "duration", 5*time.Second, "length of each measured round")
	flag.DurationVar(&o.warmup, "warmup", time.Second, "length of the warm-up against each target, not measured")
	flag.IntVar(&o.rounds, "rounds", 3, "measured rounds per target, alternating between targets")
	flag.IntVar(&o.concurrency, "concurrency", 32, "concurrent clients (goroutines, each with its own connection for REST)")
	flag.StringVar(&o.path, "path", "/v1/shelves/1/books/1", "REST path to GET (with query, if any)")
	flag.StringVar(&o.book, "book", "shelves/1/books/1", "book name for the gRPC GetBook comparison")
	flag.BoolVar(&o.grpc, "grpc", true, "also compare Portico's gRPC door with calling the backend directly")
	flag.BoolVar(&o.nginx, "nginx", true, "with -grpc, add nginx's grpc_pass (bench/nginx.conf) in front of the same backend")
	flag.BoolVar(&o.routes, "routes", true, "also compare a plain HTTP route through Portico with httputil.ReverseProxy alone")
	flag.BoolVar(&o.generated, "generated", false, "measure cmd/portico with the bookstore's generated code linked, instead of bench/gateway serving everything from the descriptor set")
	flag.StringVar(&o.postPath, "post-path", "/v1/shelves/1/books/1:move", "REST path to POST (body \"*\"); empty: no POST comparison")
	flag.StringVar(&o.postBody, "post-body", `{"otherShelf":"shelves/1"}`, "JSON body of the POST")
	flag.StringVar(&o.grpcMethod, "grpc-method", "GetBook", "gRPC method for the door comparisons: GetBook (validated: decoded) or GetShelfStats (no rules: forwarded zero-copy)")
	flag.Parse()
	if o.duration <= 0 || o.rounds < 1 || o.concurrency < 1 || o.warmup < 0 || !strings.HasPrefix(o.path, "/") {
		fmt.Fprintln(os.Stderr, "bench: -duration must be positive, -warmup not negative, -rounds and -concurrency at least 1, and -path must start with /")
		os.Exit(2)
	}

	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := run(ctx, o, os.Stdout); err != nil {
		if ctx.Err() != nil {
			err = fmt.Errorf("interrupted")
		}
		stop()
		fmt.Fprintf(os.Stderr, "bench: %v\n", err)
		os.Exit(1)
	}
}

// run builds, starts, measures and stops everything.
func run(ctx context.Context, o options, w io.Writer) error {
	root, err := moduleRoot(ctx)
	if err != nil {
		return err
	}
	dir, err := os.MkdirTemp("", "portico-bench-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(dir)

	fmt.Fprintf(w, "building portico, reference and bookstore in %s ...\n", dir)
	t0 := time.Now()
	bins, err := build(ctx, root, dir)
	if err != nil {
		return err
	}
	linked, err := linksInventory(ctx, root)
	if err != nil {
		return err
	}
	fmt.Fprintf(w, "built in %v\n", time.Since(t0).Round(100*time.Millisecond))
	if !linked {
		fmt.Fprintf(w, "note: cmd/portico does not link %s; the inventory's descriptors are passed as a descriptor set\n", inventoryPkg)
	}

	withDescriptors := !linked
	if o.generated {
		bins.gateway = "" // cmd/portico, with the bookstore's generated code
		fmt.Fprintln(w, "portico: cmd/portico (the bookstore's generated types linked)")
	} else {
		if err := checkNoGenerated(ctx, root); err != nil {
			return err
		}
		withDescriptors = true
		fmt.Fprintln(w, "portico: bench/gateway, no generated code for the APIs: every message from the descriptor set (dynamicpb, hyperpb)")
	}
	s, err := startStack(ctx, bins, dir, withDescriptors, o.path, o.book)
	if err != nil {
		return err
	}
	defer s.procs.stopAll()

	hz, hzSource := clockTicks()
	clock := cpuClock{hz: hz}
	fmt.Fprintf(w, "\n%s, %s/%s, %d CPUs, GOMAXPROCS %d; CPU times from /proc at %d ticks/s (%s)\n",
		runtime.Version(), runtime.GOOS, runtime.GOARCH, runtime.NumCPU(), runtime.GOMAXPROCS(0), hz, hzSource)
	fmt.Fprintf(w, "backend %s (pid %d); portico REST %s, gRPC %s, %d methods (pid %d); grpc-gateway %s (pid %d)\n",
		s.backendAddr, s.backend.pid(), s.porticoURL, s.porticoGRPCAddr, s.porticoMethods, s.portico.pid(), s.referenceURL, s.reference.pid())

	pb, err := get(ctx, s.porticoURL+o.path)
	if err != nil {
		return err
	}
	rb, err := get(ctx, s.referenceURL+o.path)
	if err != nil {
		return err
	}
	if !sameJSON(pb, rb) {
		fmt.Fprintf(w, "warning: the gateways answer GET %s differently:\n  portico:      %s\n  grpc-gateway: %s\n", o.path, pb, rb)
	}

	var failed int64
	fmt.Fprintf(w, "\n== REST: GET %s, %d connections, %d rounds of %v each, alternating ==\n", o.path, o.concurrency, o.rounds, o.duration)
	ref, err := newHTTPTarget(ctx, referenceName, s.reference, s.referenceURL+o.path, o.concurrency)
	if err != nil {
		return err
	}
	defer ref.close()
	por, err := newHTTPTarget(ctx, porticoName, s.portico, s.porticoURL+o.path, o.concurrency)
	if err != nil {
		return err
	}
	defer por.close()
	f, err := restComparison(ctx, w, o, clock, s, []*target{ref, por}, 1.3)
	if err != nil {
		return err
	}
	failed += f
	if o.postPath != "" {
		fmt.Fprintf(w, "\n== REST: POST %s %s, %d connections, %d rounds of %v each, alternating ==\n", o.postPath, o.postBody, o.concurrency, o.rounds, o.duration)
		refPost, err := newHTTPPostTarget(ctx, referenceName, s.reference, s.referenceURL+o.postPath, o.postBody, o.concurrency)
		if err != nil {
			return err
		}
		defer refPost.close()
		porPost, err := newHTTPPostTarget(ctx, porticoName, s.portico, s.porticoURL+o.postPath, o.postBody, o.concurrency)
		if err != nil {
			return err
		}
		defer porPost.close()
		f, err := restComparison(ctx, w, o, clock, s, []*target{refPost, porPost}, 1.1)
		if err != nil {
			return err
		}
		failed += f
	}

	if o.grpc {
		fmt.Fprintf(w, "\n== gRPC: %s, %d concurrent calls on one connection, %d rounds of %v each, alternating ==\n", o.grpcCall(), o.concurrency, o.rounds, o.duration)
		direct, err := newGRPCTarget(directName, nil, s.backendAddr, o, o.concurrency)
		if err != nil {
			return err
		}
		defer direct.close()
		door, err := newGRPCTarget(doorName, s.portico, s.porticoGRPCAddr, o, o.concurrency)
		if err != nil {
			return err
		}
		defer door.close()
		targets := []*target{direct, door}
		if o.nginx {
			np, addr, err := startNginx(ctx, root, dir, s.backendAddr, o.book)
			if err != nil {
				return err
			}
			s.procs = append(s.procs, np)
			fmt.Fprintf(w, "nginx %s (pid %d, workers %v)\n", addr, np.pid(), children(np.pid()))
			ngx, err := newGRPCTarget(nginxName, np, addr, o, o.concurrency)
			if err != nil {
				return err
			}
			defer ngx.close()
			targets = append(targets, ngx)
		}
		grpcRounds, err := compare(ctx, w, o, clock, s, targets)
		if err != nil {
			return err
		}
		directSum, doorSum := summarize(directName, grpcRounds), summarize(doorName, grpcRounds)
		failed += directSum.errs + doorSum.errs
		if o.nginx {
			nginxSum := summarize(nginxName, grpcRounds)
			failed += nginxSum.errs
			printSummary(w, directSum, doorSum, nginxSum)
			fmt.Fprintln(w, "portico gRPC door / nginx grpc_pass:")
			r := ratio(doorSum.rate, nginxSum.rate)
			paired := pairedRatio(grpcRounds, doorName, nginxName)
			cpu := ratio(float64(doorSum.perCall(doorSum.gatewayCPU)), float64(nginxSum.perCall(nginxSum.gatewayCPU)))
			check(w, "throughput (median req/s)", r, r >= 1.1, ">= 1.10x")
			check(w, "throughput (median of per-round ratios)", paired, paired >= 1.1, ">= 1.10x")
			estimate(w, doorSum, nginxSum)
			check(w, "gateway CPU per request", cpu, cpu <= 1.0, "<= 1.00x")
		} else {
			printSummary(w, directSum, doorSum)
		}
		r := ratio(doorSum.rate, directSum.rate)
		paired := pairedRatio(grpcRounds, doorName, directName)
		fmt.Fprintln(w, "portico gRPC door / backend direct:")
		check(w, "throughput (median req/s)", r, r >= 0.5, ">= 0.50x (aim 0.70x)")
		check(w, "throughput (median of per-round ratios)", paired, paired >= 0.5, ">= 0.50x (aim 0.70x)")
		estimate(w, doorSum, directSum)
		noiseWarning(w, directSum, doorSum)
	}

	if o.routes {
		f, err := runRoutes(ctx, w, o, clock, root, dir, bins.portico)
		if err != nil {
			return err
		}
		failed += f
	}

	if failed > 0 {
		return fmt.Errorf("%d calls failed (see the errors column); the measurements are not valid", failed)
	}
	return nil
}

// restComparison runs the reference and Portico on the same REST call and
// prints the ratios against the targets: throughput at least want, gateway
// CPU per request at most 0.8x. It returns the failed calls.
func restComparison(ctx context.Context, w io.Writer, o options, clock cpuClock, s *stack, targets []*target, want float64) (int64, error) {
	rest, err := compare(ctx, w, o, clock, s, targets)
	if err != nil {
		return 0, err
	}
	refSum, porSum := summarize(referenceName, rest), summarize(porticoName, rest)
	printSummary(w, refSum, porSum)
	thr := ratio(porSum.rate, refSum.rate)
	cpu := ratio(float64(porSum.perCall(porSum.gatewayCPU)), float64(refSum.perCall(refSum.gatewayCPU)))
	paired := pairedRatio(rest, porticoName, referenceName)
	target := fmt.Sprintf(">= %.2fx", want)
	fmt.Fprintln(w, "portico / grpc-gateway:")
	check(w, "throughput (median req/s)", thr, thr >= want, target)
	check(w, "throughput (median of per-round ratios)", paired, paired >= want, target)
	estimate(w, porSum, refSum)
	check(w, "gateway CPU per request", cpu, cpu <= 0.8, "<= 0.80x")
	noiseWarning(w, refSum, porSum)
	return refSum.errs + porSum.errs, nil
}

// compare warms up each target, then runs o.rounds rounds on each,
// alternating in the order given, printing each round as it ends.
func compare(ctx context.Context, w io.Writer, o options, clock cpuClock, s *stack, targets []*target) ([]*roundResult, error) {
	tab := newTable(w, 26, roundHeader...)
	var results []*roundResult
	one := func(t *target, round int, d time.Duration) error {
		r, err := drive(ctx, clock, s, t, round, d)
		if err != nil {
			return err
		}
		if err := s.checkAlive(); err != nil {
			return err
		}
		tab.row(roundRow(r)...)
		if r.errs > 0 {
			fmt.Fprintf(w, "ERROR: %d of %d calls to %s failed in round %d; first: %v\n", r.errs, r.ok+r.errs, r.target, round, r.firstErr)
		}
		results = append(results, r)
		return nil
	}
	if o.warmup > 0 {
		for _, t := range targets {
			if err := one(t, 0, o.warmup); err != nil {
				return nil, err
			}
		}
	}
	for round := 1; round <= o.rounds; round++ {
		for _, t := range targets {
			if err := one(t, round, o.duration); err != nil {
				return nil, err
			}
		}
	}
	return results, nil
}

// sameJSON reports whether a and b are the same JSON text but for
// insignificant whitespace (protojson adds random spaces on purpose, and
// differently in each binary).
func sameJSON(a, b []byte) bool {
	var ca, cb bytes.Buffer
	if json.Compact(&ca, a) != nil || json.Compact(&cb, b) != nil {
		return bytes.Equal(a, b)
	}
	return bytes.Equal(ca.Bytes(), cb.Bytes())
}

// printSummary prints the summary table of a comparison.
func printSummary(w io.Writer, sums ...*summary) {
	fmt.Fprintln(w, "\nsummary (req/s: median of rounds; latencies: all rounds' calls; CPU: all rounds' total / calls):")
	tab := newTable(w, 20, summaryHeader...)
	for _, s := range sums {
		tab.row(summaryRow(s)...)
	}
}
