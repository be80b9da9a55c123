package main

import (
	"context"
	"fmt"
	"io"
	"strings"
	"sync"
	"time"
)

// The connection targets (issue 19, target 5): what an idle keep-alive
// connection and an open server stream cost each door, measured on a
// fresh gateway as VmRSS with them held minus VmRSS before.
const (
	connsSection   = "connections"
	wantRESTConnKB = 12
	wantGRPCConnKB = 8
	wantStreamKB   = 50
	// openers is how many connections or streams are opened at once.
	openers = 64
	// settle is how long the gateway is left alone before its RSS is read:
	// the handshakes' garbage collected, the connections' buffers idle.
	settle = 2 * time.Second
)

// held is something the measurement keeps open: a connection or a stream.
type held = io.Closer

// runConns measures, each on a fresh Portico in front of a fresh backend:
// -conns-n idle HTTP/1.1 keep-alive connections on the REST door, as many
// idle HTTP/2 connections on the gRPC door (each after one call) and, for
// reference, on nginx's grpc_pass; then -streams-n concurrent LookupBooks
// streams through the gRPC door, each after one message each way.
func (b *bench) runConns() error {
	s := &stack{}
	defer s.procs.stopAll()
	p, m, err := startProc(b.ctx, "backend", b.bins.backend, []string{"-listen", "127.0.0.1:0"}, backendReady, startTimeout)
	if err != nil {
		return err
	}
	s.procs = append(s.procs, p)
	backend := m[1]
	n := b.o.connsN
	fmt.Fprintf(b.w, "\n== connections: %d idle keep-alive connections per door, %d server streams; each on a fresh gateway, VmRSS held minus before (after %v to settle) ==\n",
		n, b.o.streamsN, settle)
	tab := newTable(b.w, 40, "what", "held", "RSS before", "RSS held", "per each")

	fresh := func(name string, flags ...string) (*gateway, error) {
		g, err := startGateway(b.ctx, b.bins, b.dir, gatewayConfig{name: name, descriptors: true, flags: flags, admin: true}, backend)
		if err != nil {
			return nil, err
		}
		s.procs = append(s.procs, g.proc)
		return g, waitGRPC(b.ctx, name, g.grpcAddr, b.o.book)
	}
	measure := func(what string, g *gateway, n int, open func(context.Context) (held, error)) (float64, error) {
		whileHeld := func() error { return nil }
		if b.o.profile != "" && g.admin != "" {
			b.profiles++
			name := fmt.Sprintf("%02d-held-%s", b.profiles, what)
			whileHeld = func() error { return saveHeld(b.ctx, g.admin, b.o.profile, name) }
		}
		r, err := heldCost(b.ctx, g.proc, n, open, whileHeld)
		if err != nil {
			return 0, fmt.Errorf("%s: %v", what, err)
		}
		tab.row(what, fmt.Sprint(n), kb(r.before), kb(r.after), fmt.Sprintf("%.2f KB", r.perKB()))
		return r.perKB(), nil
	}

	rest, err := fresh("conns-rest")
	if err != nil {
		return err
	}
	restKB, err := measure("portico REST door (HTTP/1.1)", rest, n, func(ctx context.Context) (held, error) {
		return openHTTP1(ctx, rest.url, b.o.path)
	})
	if err != nil {
		return err
	}
	rest.proc.stop()

	grpcGw, err := fresh("conns-grpc")
	if err != nil {
		return err
	}
	grpcKB, err := measure("portico gRPC door (HTTP/2)", grpcGw, n, func(ctx context.Context) (held, error) {
		return openH2(ctx, grpcGw.grpcAddr)
	})
	if err != nil {
		return err
	}
	grpcGw.proc.stop()

	if b.o.variant != "" { // the same on a Portico with the -variant's flags
		name, flags, _ := strings.Cut(b.o.variant, "=")
		v, err := fresh("conns-variant", strings.Fields(flags)...)
		if err != nil {
			return err
		}
		if _, err := measure("portico gRPC door ["+name+"]", v, n, func(ctx context.Context) (held, error) {
			return openH2(ctx, v.grpcAddr)
		}); err != nil {
			return err
		}
		v.proc.stop()
	}

	nginxKB := -1.0
	if b.o.proxies {
		np, addr, err := nginxProxy.start(b.ctx, b.root, b.dir, backend, b.o.book)
		if err != nil {
			return err
		}
		s.procs = append(s.procs, np)
		if nginxKB, err = measure("nginx grpc_pass (HTTP/2)", &gateway{proc: np}, n, func(ctx context.Context) (held, error) {
			return openH2(ctx, addr)
		}); err != nil {
			return err
		}
		np.stop()
	}

	streamGw, err := fresh("conns-streams")
	if err != nil {
		return err
	}
	streams, err := newStreamOpener(b.ctx, streamGw.grpcAddr, b.o.book, b.o.streamsN)
	if err != nil {
		return err
	}
	defer streams.close()
	streamKB, err := measure("portico gRPC door: LookupBooks streams", streamGw, b.o.streamsN, streams.open)
	if err != nil {
		return err
	}

	fmt.Fprintln(b.w)
	b.v.figure(b.w, connsSection, "REST door: idle HTTP/1.1 connection", restKB, "KB", restKB < wantRESTConnKB, fmt.Sprintf("< %d KB", wantRESTConnKB))
	b.v.figure(b.w, connsSection, "gRPC door: idle HTTP/2 connection", grpcKB, "KB", grpcKB < wantGRPCConnKB, fmt.Sprintf("< %d KB", wantGRPCConnKB))
	b.v.figure(b.w, connsSection, "gRPC door: open server stream", streamKB, "KB", streamKB < wantStreamKB, fmt.Sprintf("< %d KB", wantStreamKB))
	if nginxKB >= 0 {
		fmt.Fprintf(b.w, "  %-48s %7.2f KB   (reference: master and workers)\n", "nginx grpc_pass: idle HTTP/2 connection", nginxKB)
	}
	return nil
}

// heldResult is one memory measurement.
type heldResult struct {
	n             int
	before, after int64 // VmRSS, bytes
}

// perKB is the RSS each held thing added, in KB (1024 bytes).
func (r heldResult) perKB() float64 { return float64(r.after-r.before) / float64(r.n) / 1024 }

// kb renders bytes as KB.
func kb(n int64) string { return fmt.Sprintf("%d KB", n>>10) }

// heldCost opens one thing and closes it (what the gateway sets up on
// first use is not counted), reads p's RSS, opens n things openers at a
// time and reads p's RSS again while they are held; then closes them.
func heldCost(ctx context.Context, p *proc, n int, open func(context.Context) (held, error), whileHeld func() error) (heldResult, error) {
	first, err := open(ctx)
	if err != nil {
		return heldResult{}, err
	}
	first.Close()
	r := heldResult{n: n}
	if r.before, err = settledRSS(ctx, p); err != nil {
		return r, err
	}
	all := make([]held, n)
	defer func() {
		for _, h := range all {
			if h != nil {
				h.Close()
			}
		}
	}()
	var (
		wg      sync.WaitGroup
		mu      sync.Mutex
		openErr error
		next    = make(chan int)
	)
	for range openers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range next {
				h, err := open(ctx)
				if err != nil {
					mu.Lock()
					if openErr == nil {
						openErr = fmt.Errorf("opening %d of %d: %v", i+1, n, err)
					}
					mu.Unlock()
					continue
				}
				all[i] = h
			}
		}()
	}
	for i := range n {
		next <- i
	}
	close(next)
	wg.Wait()
	if openErr != nil {
		return r, openErr
	}
	if !p.alive() {
		return r, fmt.Errorf("%s exited:\n%s", p.name, p.output())
	}
	if r.after, err = settledRSS(ctx, p); err != nil {
		return r, err
	}
	return r, whileHeld()
}

// settledRSS waits settle, then returns p's RSS (with its children's for a
// process tree).
func settledRSS(ctx context.Context, p *proc) (int64, error) {
	select {
	case <-time.After(settle):
	case <-ctx.Done():
		return 0, ctx.Err()
	}
	return p.rss()
}
