package main

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"sync"
	"sync/atomic"
	"time"

	bookstorev1 "github.com/portico-gw/portico/gen/example/bookstore/v1"
	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials/insecure"
)

// caller makes one call; each load-generating goroutine owns one, so a
// caller needs no locking.
type caller interface {
	call(ctx context.Context) error
}

// target is one thing the load generator drives: a gateway's REST door,
// Portico's gRPC door, or the backend directly.
type target struct {
	name string
	// gateway is the process whose CPU time is charged to the calls; nil
	// when the client calls the backend directly.
	gateway *proc
	// callers, one per goroutine, are kept across rounds so that
	// connections stay open (keep-alive) after the warm-up.
	callers []caller
	// dials counts the TCP connections the callers opened.
	dials *atomic.Int64
	// closers release the callers' connections.
	closers []func()
	// admin is the gateway's admin listener (host:port) when it is a
	// Portico with one: -profile reads its CPU profile.
	admin string
	// interval, when set, paces each caller to one call per interval
	// (open loop: a fixed offered rate), instead of calling again as soon
	// as a call returns (closed loop).
	interval time.Duration
}

// close releases the target's connections.
func (t *target) close() {
	for _, c := range t.closers {
		c()
	}
}

// newHTTPTarget makes a target that GETs url with concurrency goroutines,
// each with its own keep-alive client, so each holds one connection and
// no connection is ever opened during a round.
func newHTTPTarget(ctx context.Context, name string, gateway *proc, url string, concurrency int) (*target, error) {
	t := &target{name: name, gateway: gateway, dials: new(atomic.Int64)}
	dialer := &net.Dialer{Timeout: 5 * time.Second}
	for range concurrency {
		tr := &http.Transport{
			DialContext: func(ctx context.Context, network, addr string) (net.Conn, error) {
				t.dials.Add(1)
				return dialer.DialContext(ctx, network, addr)
			},
			MaxIdleConnsPerHost: 1,
		}
		req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
		if err != nil {
			return nil, err
		}
		t.callers = append(t.callers, &httpCaller{client: &http.Client{Transport: tr, Timeout: 10 * time.Second}, req: req})
		t.closers = append(t.closers, tr.CloseIdleConnections)
	}
	return t, nil
}

// setHeaders sets h on every request the target's HTTP callers send.
func (t *target) setHeaders(h map[string]string) {
	for _, c := range t.callers {
		if hc, ok := c.(*httpCaller); ok {
			for k, v := range h {
				hc.req.Header.Set(k, v)
			}
		}
	}
}

// httpCaller GETs one URL; anything but a 200 with a fully read body is an
// error.
type httpCaller struct {
	client *http.Client
	req    *http.Request // reused: Do does not keep it once the body is closed
	body   []byte        // sent with each request when not nil
}

func (c *httpCaller) call(context.Context) error {
	if c.body != nil {
		c.req.Body = io.NopCloser(bytes.NewReader(c.body))
		c.req.ContentLength = int64(len(c.body))
	}
	resp, err := c.client.Do(c.req)
	if err != nil {
		return err
	}
	_, err = io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("HTTP %s", resp.Status)
	}
	return err
}

// newGRPCTarget makes a target that calls method (GetBook or
// GetShelfStats) at addr with concurrency goroutines sharing one client
// connection, as a grpc-go client normally does.
func newGRPCTarget(name string, gateway *proc, addr, method, book string, concurrency int) (*target, error) {
	t := &target{name: name, gateway: gateway, dials: new(atomic.Int64)}
	dialer := &net.Dialer{Timeout: 5 * time.Second}
	conn, err := grpc.NewClient("passthrough:///"+addr,
		grpc.WithTransportCredentials(insecure.NewCredentials()),
		grpc.WithContextDialer(func(ctx context.Context, a string) (net.Conn, error) {
			t.dials.Add(1)
			return dialer.DialContext(ctx, "tcp", a)
		}))
	if err != nil {
		return nil, err
	}
	t.closers = append(t.closers, func() { conn.Close() })
	client := bookstorev1.NewBookstoreServiceClient(conn)
	for range concurrency {
		t.callers = append(t.callers, &grpcCaller{client: client, book: book, stats: method == "GetShelfStats"})
	}
	return t, nil
}

// grpcCaller calls GetBook, or GetShelfStats (no validation rules: the
// gRPC door forwards it zero-copy).
type grpcCaller struct {
	client bookstorev1.BookstoreServiceClient
	book   string
	stats  bool
}

func (c *grpcCaller) call(ctx context.Context) error {
	ctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	var err error
	if c.stats {
		_, err = c.client.GetShelfStats(ctx, &bookstorev1.GetShelfStatsRequest{Shelf: 1})
	} else {
		_, err = c.client.GetBook(ctx, &bookstorev1.GetBookRequest{Name: c.book})
	}
	return err
}

// newHTTPPostTarget makes a target that POSTs body to url, as
// newHTTPTarget GETs.
func newHTTPPostTarget(ctx context.Context, name string, gateway *proc, url, body string, concurrency int) (*target, error) {
	t, err := newHTTPTarget(ctx, name, gateway, url, concurrency)
	if err != nil {
		return nil, err
	}
	for _, c := range t.callers {
		hc := c.(*httpCaller)
		req, err := http.NewRequestWithContext(ctx, http.MethodPost, url, nil)
		if err != nil {
			return nil, err
		}
		req.Header.Set("Content-Type", "application/json")
		hc.req, hc.body = req, []byte(body)
	}
	return t, nil
}

// roundResult is what one round against one target measured.
type roundResult struct {
	target   string
	round    int // 0 for the warm-up
	ok, errs int64
	firstErr error
	elapsed  time.Duration
	hist     *histogram
	dials    int64
	// CPU time used during the round by the gateway (0 without one), the
	// backend and this process (the load generator).
	gatewayCPU, backendCPU, clientCPU time.Duration
	// othersLoad is the CPU time used by processes other than the
	// benchmark's during the round, as a fraction of all CPUs' time:
	// noise from whatever else runs on the machine.
	othersLoad float64
}

// rate returns the successful calls per second.
func (r *roundResult) rate() float64 {
	if r.elapsed <= 0 {
		return 0
	}
	return float64(r.ok) / r.elapsed.Seconds()
}

// perCall returns d divided over the successful calls.
func (r *roundResult) perCall(d time.Duration) time.Duration {
	if r.ok == 0 {
		return 0
	}
	return d / time.Duration(r.ok)
}

// worker is one load-generating goroutine's state.
type worker struct {
	hist     histogram
	ok, errs int64
	firstErr error
}

// drive runs every caller of t in a loop for d and measures it: latency of
// each call, successes, errors, and the CPU time the gateway, the backend
// and this process used. The round ends when the last call in flight at d
// returns; the rate is over that whole time.
func drive(ctx context.Context, clock cpuClock, s *stack, t *target, round int, d time.Duration) (*roundResult, error) {
	workers := make([]*worker, len(t.callers))
	for i := range workers {
		workers[i] = new(worker)
	}
	dials0 := t.dials.Load()
	cpu0, err := sampleCPU(clock, t.gateway, s)
	if err != nil {
		return nil, err
	}
	var stop atomic.Bool
	timer := time.AfterFunc(d, func() { stop.Store(true) })
	defer timer.Stop()
	start := time.Now()
	var wg sync.WaitGroup
	for i, c := range t.callers {
		w := workers[i]
		wg.Go(func() {
			// Paced callers start staggered over one interval.
			next := start.Add(t.interval * time.Duration(i) / time.Duration(len(t.callers)))
			for !stop.Load() && ctx.Err() == nil {
				if t.interval > 0 {
					if wait := time.Until(next); wait > 0 {
						time.Sleep(wait)
					} else if -wait > t.interval {
						next = time.Now() // fallen behind: no burst to catch up
					}
					next = next.Add(t.interval)
				}
				t0 := time.Now()
				err := c.call(ctx)
				lat := time.Since(t0)
				if err != nil {
					if w.errs == 0 {
						w.firstErr = err
					}
					w.errs++
					continue
				}
				w.ok++
				w.hist.record(lat)
			}
		})
	}
	wg.Wait()
	elapsed := time.Since(start)
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	cpu1, err := sampleCPU(clock, t.gateway, s)
	if err != nil {
		return nil, err
	}
	r := &roundResult{
		target:     t.name,
		round:      round,
		elapsed:    elapsed,
		hist:       new(histogram),
		dials:      t.dials.Load() - dials0,
		gatewayCPU: cpu1.gateway - cpu0.gateway,
		backendCPU: cpu1.backend - cpu0.backend,
		clientCPU:  cpu1.client - cpu0.client,
	}
	if cpu1.cpus > 0 {
		others := (cpu1.machine - cpu0.machine) - (cpu1.ours - cpu0.ours)
		r.othersLoad = max(0, float64(others)/float64(elapsed)/float64(cpu1.cpus))
	}
	for _, w := range workers {
		r.ok += w.ok
		r.errs += w.errs
		if r.firstErr == nil {
			r.firstErr = w.firstErr
		}
		r.hist.merge(&w.hist)
	}
	return r, nil
}

// cpuSample is the CPU time used so far by the processes of a round, by
// all the benchmark's processes together, and by the whole machine.
type cpuSample struct {
	gateway, backend, client time.Duration
	ours, machine            time.Duration
	cpus                     int
}

// sampleCPU reads the gateway's (if any), the backend's and this process's
// CPU time, and the totals.
func sampleCPU(clock cpuClock, gateway *proc, s *stack) (cpuSample, error) {
	var out cpuSample
	var errs []error
	for _, p := range s.procs {
		t, err := p.cpuTime(clock)
		errs = append(errs, err)
		out.ours += t
		switch p {
		case gateway:
			out.gateway = t
		case s.backend:
			out.backend = t
		}
	}
	var err error
	out.client, err = clock.cpuTime(0)
	errs = append(errs, err)
	out.ours += out.client
	out.machine, out.cpus, err = clock.machineBusy()
	errs = append(errs, err)
	return out, errors.Join(errs...)
}

// waitReady calls check until it succeeds, at most for timeout: a bounded
// poll, since a process may print its address a moment before its
// downstream connection is up.
func waitReady(ctx context.Context, name string, timeout time.Duration, check func(ctx context.Context) error) error {
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	tick := time.NewTicker(20 * time.Millisecond)
	defer tick.Stop()
	var last error
	for {
		attempt, cancelAttempt := context.WithTimeout(ctx, time.Second)
		last = check(attempt)
		cancelAttempt()
		if last == nil {
			return nil
		}
		select {
		case <-tick.C:
		case <-ctx.Done():
			return fmt.Errorf("%s not ready after %v: %v", name, timeout, last)
		}
	}
}
