package main

import (
	"fmt"
	"strings"
)

// The gRPC door's targets against HAProxy (issue 19, target 1), for a
// method forwarded zero-copy and for a validated one.
const grpcSection = "gRPC door"

// grpcCase is one method the gRPC comparison measures.
type grpcCase struct {
	method, what   string
	thr, cpu       float64 // the targets against HAProxy
	requestPrinted string
}

// grpcCases are the zero-copy and the validated call.
func grpcCases(book string) []grpcCase {
	return []grpcCase{
		{method: "GetShelfStats", what: "zero-copy", thr: 0.8, cpu: 2,
			requestPrinted: "GetShelfStats(1) (no rules: forwarded zero-copy through the door)"},
		{method: "GetBook", what: "validated", thr: 0.6, cpu: 3,
			requestPrinted: fmt.Sprintf("GetBook(%s) (validated: decoded by the door)", book)},
	}
}

// runGRPC compares the gRPC door with the backend called directly and,
// with -proxies, with HAProxy, nginx and Caddy, for each grpcCase.
func (b *bench) runGRPC(s *stack) error {
	type started struct {
		px   proxy
		p    *proc
		addr string
	}
	var proxies []started
	variantAdmin := ""
	if b.o.variant != "" {
		g, name, err := b.startVariant(s, doorName)
		if err != nil {
			return err
		}
		if err := waitGRPC(b.ctx, "variant", g.grpcAddr, b.o.book); err != nil {
			return err
		}
		fmt.Fprintf(b.w, "%s %s: bench/gateway (pid %d)\n", name, g.grpcAddr, g.proc.pid())
		proxies = append(proxies, started{proxy{name: name}, g.proc, g.grpcAddr})
		variantAdmin = g.admin
	}
	if b.o.proxies {
		for _, px := range []proxy{haproxyProxy, nginxProxy, caddyProxy} {
			p, addr, err := px.start(b.ctx, b.root, b.dir, s.backendAddr, b.o.book)
			if err != nil {
				return err
			}
			s.procs = append(s.procs, p)
			fmt.Fprintf(b.w, "%s %s (pid %d)\n", px.name, addr, p.pid())
			proxies = append(proxies, started{px, p, addr})
		}
	}
	for _, c := range grpcCases(b.o.book) {
		fmt.Fprintf(b.w, "\n== gRPC: %s, %d concurrent calls on one connection, %d rounds of %v each, alternating ==\n",
			c.requestPrinted, b.o.concurrency, b.o.rounds, b.o.duration)
		var targets []*target
		for _, t := range []struct {
			name string
			p    *proc
			addr string
		}{{directName, nil, s.backendAddr}, {doorName, s.portico, s.porticoGRPCAddr}} {
			tg, err := newGRPCTarget(t.name, t.p, t.addr, c.method, b.o.book, b.o.concurrency)
			if err != nil {
				return err
			}
			defer tg.close()
			if t.p == s.portico {
				tg.admin = s.porticoAdmin
			}
			targets = append(targets, tg)
		}
		for _, st := range proxies {
			tg, err := newGRPCTarget(st.px.name, st.p, st.addr, c.method, b.o.book, b.o.concurrency)
			if err != nil {
				return err
			}
			defer tg.close()
			if st.px.bin == "" { // the -variant Portico
				tg.admin = variantAdmin
			}
			targets = append(targets, tg)
		}
		rounds, err := b.compare(s, targets)
		if err != nil {
			return err
		}
		var sums []*summary
		for _, t := range targets {
			sums = append(sums, summarize(t.name, rounds))
		}
		printSummary(b.w, sums...)
		door := sums[1]
		for _, ref := range sums[2:] {
			fmt.Fprintf(b.w, "portico gRPC door / %s (%s):\n", ref.target, c.what)
			r := ratio(door.rate, ref.rate)
			paired := pairedRatio(rounds, doorName, ref.target)
			cpu := cpuRatio(door, ref)
			if ref.target == haproxyProxy.name {
				goal := fmt.Sprintf(">= %.2fx", c.thr)
				b.v.check(b.w, grpcSection, c.what+": throughput vs HAProxy (median req/s)", r, r >= c.thr, goal)
				b.v.check(b.w, grpcSection, c.what+": throughput vs HAProxy (per-round)", paired, paired >= c.thr, goal)
				estimate(b.w, door, ref)
				b.v.check(b.w, grpcSection, c.what+": gateway CPU per call vs HAProxy", cpu, cpu <= c.cpu, fmt.Sprintf("<= %.2fx", c.cpu))
				continue
			}
			fmt.Fprintf(b.w, "  %-48s %8.2fx   (per-round %.2fx)\n", "throughput (median req/s)", r, paired)
			estimate(b.w, door, ref)
			fmt.Fprintf(b.w, "  %-48s %8.2fx\n", "gateway CPU per call", cpu)
		}
		fmt.Fprintf(b.w, "portico gRPC door / backend direct (%s):\n", c.what)
		fmt.Fprintf(b.w, "  %-48s %8.2fx   (per-round %.2fx)\n", "throughput (median req/s)", ratio(door.rate, sums[0].rate), pairedRatio(rounds, doorName, directName))
		estimate(b.w, door, sums[0])
		noiseWarning(b.w, sums...)
	}
	return nil
}

// startVariant starts the -variant's Portico (bench/gateway with its
// flags) beside the stack's; its target is named after base.
func (b *bench) startVariant(s *stack, base string) (*gateway, string, error) {
	name, flags, _ := strings.Cut(b.o.variant, "=")
	g, err := startGateway(b.ctx, b.bins, b.dir, gatewayConfig{name: "variant", descriptors: true, admin: true, flags: strings.Fields(flags)}, s.backendAddr)
	if err != nil {
		return nil, "", err
	}
	s.procs = append(s.procs, g.proc)
	return g, base + " [" + name + "]", nil
}
