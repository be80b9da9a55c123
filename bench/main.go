// Command bench measures Portico against the other gateways and proxies
// for the same API on this machine, and prints every performance target
// of issue 19 as a measured ratio with its goal:
//
//	go run ./bench [-duration 5s] [-rounds 3] [-concurrency 32] [-rest] [-chain] [-grpc] [-routes] [-conns] [-scale]
//
// It builds cmd/portico, bench/gateway (Portico without the APIs'
// generated code), bench/reference (grpc-gateway's generated handlers),
// bench/floor and the example bookstore backend, starts the backend on a
// loopback port and the gateways in front of it as separate processes.
// The same in-process load generator (-concurrency goroutines, each a
// keep-alive HTTP client in a loop, or sharing one gRPC connection) then
// drives the targets of each comparison in turn, -rounds times each,
// alternating, after a warm-up. For each round it prints requests/s,
// latency quantiles and the CPU time (user + system, from /proc) the
// gateway, the backend and the load generator used per request; then a
// summary with the ratios and the targets. The sections:
//
//   - -rest: GET and POST through Portico's REST door, grpc-gateway's
//     generated gateway and (GET) the floor (bench/floor: net/http, one
//     grpc-go call with the request already encoded, the response bytes
//     written as received).
//   - -chain: the same GET through a Portico with JWT (a cached token),
//     a local rate limit, validation and telemetry at sampling_ratio 0.01,
//     against a Portico with none of them (validation rules stripped from
//     its descriptors).
//   - -grpc: a grpc-go client calling the backend directly, through
//     Portico's gRPC door, HAProxy (proto h2), nginx (grpc_pass) and Caddy
//     (reverse_proxy h2c://), for a method forwarded zero-copy and for a
//     validated one.
//   - -routes: a plain HTTP route through Portico against
//     httputil.ReverseProxy alone, in front of a small HTTP backend.
//   - -scale: a generated catalog of -scale-routes HTTP routes against
//     one of 10: load time, RSS per route, gateway CPU per GET, and
//     reloads of the large catalog under load.
//   - -conns: the memory of -conns-n idle keep-alive connections on each
//     door (and, with -proxies, on nginx) and of -streams-n concurrent
//     server streams, each on a fresh gateway: VmRSS with them held minus
//     before.
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
	floorName     = "floor"
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
	rest        bool
	web         bool
	chain       bool
	grpc        bool
	proxies     bool
	routes      bool
	conns       bool
	scale       bool
	scaleRoutes int
	connsN      int
	streamsN    int
	generated   bool
	postPath    string
	postBody    string
	profile     string
	variant     string
}

func main() {
	var o options
	flag.DurationVar(&o.duration, "duration", 5*time.Second, "length of each measured round")
	flag.DurationVar(&o.warmup, "warmup", time.Second, "length of the warm-up against each target, not measured")
	flag.IntVar(&o.rounds, "rounds", 3, "measured rounds per target, alternating between targets")
	flag.IntVar(&o.concurrency, "concurrency", 32, "concurrent clients (goroutines, each with its own connection for REST)")
	flag.StringVar(&o.path, "path", "/v1/shelves/1/books/1", "REST path to GET (with query, if any)")
	flag.StringVar(&o.book, "book", "shelves/1/books/1", "book name for the gRPC GetBook comparison and the floor's request")
	flag.BoolVar(&o.rest, "rest", true, "compare Portico's REST door with grpc-gateway and the floor")
	flag.BoolVar(&o.web, "web", true, "compare a unary call over Connect JSON and gRPC-Web with the same call over REST")
	flag.BoolVar(&o.chain, "chain", true, "compare the full policy chain with the bare call")
	flag.BoolVar(&o.grpc, "grpc", true, "compare Portico's gRPC door with calling the backend directly and with the proxies")
	flag.BoolVar(&o.proxies, "proxies", true, "with -grpc, add HAProxy, nginx and Caddy in front of the same backend")
	flag.BoolVar(&o.routes, "routes", true, "compare a plain HTTP route through Portico with httputil.ReverseProxy alone")
	flag.BoolVar(&o.conns, "conns", true, "measure the memory of idle connections and open server streams")
	flag.IntVar(&o.connsN, "conns-n", 10000, "idle connections held per door by -conns")
	flag.IntVar(&o.streamsN, "streams-n", 1000, "server streams held open by -conns")
	flag.BoolVar(&o.scale, "scale", true, "measure a generated catalog of -scale-routes routes")
	flag.IntVar(&o.scaleRoutes, "scale-routes", 100000, "routes in the generated catalog of -scale (the issue's target is 1000000: about 6 GB and minutes to load today; see docs/performance.md)")
	flag.BoolVar(&o.generated, "generated", false, "measure cmd/portico with the bookstore's generated code linked, instead of bench/gateway serving everything from the descriptor set")
	flag.StringVar(&o.postPath, "post-path", "/v1/shelves/1/books/1:move", "REST path to POST (body \"*\"); empty: no POST comparison")
	flag.StringVar(&o.postBody, "post-body", `{"otherShelf":"shelves/1"}`, "JSON body of the POST")
	flag.StringVar(&o.variant, "variant", "", "NAME=FLAGS: with -grpc (and -rest, on its GET), add a second Portico started with bench/gateway's FLAGS (levers, space-separated) as a target beside the door, to measure a lever in alternating rounds")
	flag.StringVar(&o.profile, "profile", "", "folder: write a CPU profile of each Portico target's first measured round there (go tool pprof reads them)")
	flag.Parse()
	if o.duration <= 0 || o.rounds < 1 || o.concurrency < 1 || o.warmup < 0 || !strings.HasPrefix(o.path, "/") ||
		o.connsN < 1 || o.streamsN < 1 || o.scaleRoutes <= scaleSmall || (o.variant != "" && !strings.Contains(o.variant, "=")) {
		fmt.Fprintf(os.Stderr, "bench: -duration must be positive, -warmup not negative, -rounds, -concurrency, -conns-n and -streams-n at least 1, -scale-routes over %d, -variant NAME=FLAGS, and -path must start with /\n", scaleSmall)
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

// bench is one run: what every section needs.
type bench struct {
	ctx       context.Context
	w         io.Writer
	o         options
	clock     cpuClock
	root, dir string
	bins      binaries
	v         verdicts
	failed    int64 // calls that failed, over all sections
	profiles  int   // CPU profiles taken so far (-profile)
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

	fmt.Fprintf(w, "building portico, gateway, reference, floor and bookstore in %s ...\n", dir)
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
	if o.profile != "" {
		if err := os.MkdirAll(o.profile, 0o755); err != nil {
			return err
		}
	}
	hz, hzSource := clockTicks()
	b := &bench{ctx: ctx, w: w, o: o, clock: cpuClock{hz: hz}, root: root, dir: dir, bins: bins}
	fmt.Fprintf(w, "\n%s, %s/%s, %d CPUs, GOMAXPROCS %d; CPU times from /proc at %d ticks/s (%s)\n",
		runtime.Version(), runtime.GOOS, runtime.GOARCH, runtime.NumCPU(), runtime.GOMAXPROCS(0), hz, hzSource)

	if o.rest || o.web || o.chain || o.grpc {
		if err := b.stackSections(withDescriptors); err != nil {
			return err
		}
	}
	if o.routes {
		if err := b.runRoutes(); err != nil {
			return err
		}
	}
	if o.conns {
		if err := b.runConns(); err != nil {
			return err
		}
	}
	if o.scale {
		if err := b.runScale(); err != nil {
			return err
		}
	}
	b.v.print(w)
	if b.failed > 0 {
		return fmt.Errorf("%d calls failed (see the errors column); the measurements are not valid", b.failed)
	}
	return nil
}

// stackSections runs the sections that share the bookstore stack: REST,
// the full chain and gRPC.
func (b *bench) stackSections(withDescriptors bool) error {
	s, err := startStack(b.ctx, b.bins, b.dir, withDescriptors, b.o.path, b.o.book)
	if err != nil {
		return err
	}
	defer s.procs.stopAll()
	fmt.Fprintf(b.w, "backend %s (pid %d); portico REST %s, gRPC %s, %d methods (pid %d); grpc-gateway %s (pid %d); floor %s (pid %d)\n",
		s.backendAddr, s.backend.pid(), s.porticoURL, s.porticoGRPCAddr, s.porticoMethods, s.portico.pid(), s.referenceURL, s.reference.pid(), s.floorURL, s.floor.pid())
	if b.o.rest {
		if err := b.runREST(s); err != nil {
			return err
		}
	}
	if b.o.web {
		if err := b.runWeb(s); err != nil {
			return err
		}
	}
	if b.o.chain {
		if err := b.runChain(s); err != nil {
			return err
		}
	}
	if b.o.grpc {
		if err := b.runGRPC(s); err != nil {
			return err
		}
	}
	return nil
}

// compare warms up each target, then runs o.rounds rounds on each,
// alternating in the order given, printing each round as it ends.
func (b *bench) compare(s *stack, targets []*target) ([]*roundResult, error) {
	tab := newTable(b.w, 26, roundHeader...)
	var results []*roundResult
	one := func(t *target, round int, d time.Duration) error {
		wait := func() error { return nil }
		if b.o.profile != "" && round == 1 && t.admin != "" {
			b.profiles++
			wait = profileRound(b.ctx, t.admin, d, b.o.profile, fmt.Sprintf("%02d-%s", b.profiles, t.name))
		}
		r, err := drive(b.ctx, b.clock, s, t, round, d)
		if err != nil {
			return err
		}
		if err := wait(); err != nil {
			return fmt.Errorf("profile of %s: %v", t.name, err)
		}
		if err := s.checkAlive(); err != nil {
			return err
		}
		tab.row(roundRow(r)...)
		if r.errs > 0 {
			fmt.Fprintf(b.w, "ERROR: %d of %d calls to %s failed in round %d; first: %v\n", r.errs, r.ok+r.errs, r.target, round, r.firstErr)
		}
		results = append(results, r)
		return nil
	}
	if b.o.warmup > 0 {
		for _, t := range targets {
			if err := one(t, 0, b.o.warmup); err != nil {
				return nil, err
			}
		}
	}
	for round := 1; round <= b.o.rounds; round++ {
		for _, t := range targets {
			if err := one(t, round, b.o.duration); err != nil {
				return nil, err
			}
		}
	}
	for _, t := range targets {
		b.failed += summarize(t.name, results).errs
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

// cpuRatio is a's gateway CPU per call over b's.
func cpuRatio(a, b *summary) float64 {
	return ratio(float64(a.perCall(a.gatewayCPU)), float64(b.perCall(b.gatewayCPU)))
}
