package main

import (
	"encoding/binary"
	"fmt"
	"time"

	bookstorev1 "github.com/portico-gw/portico/gen/example/bookstore/v1"
	"google.golang.org/protobuf/proto"
)

// The gRPC-Web and Connect targets (issue 16): a unary call over Connect
// JSON and over gRPC-Web costs at most 1.1x the gateway CPU of the same
// call over REST.
const (
	webSection   = "gRPC-Web and Connect"
	wantWebCPU   = 1.1
	restUnary    = "rest GET"
	connectUnary = "connect json POST"
	grpcWebUnary = "grpc-web POST"
)

// runWeb compares GetBook over REST (GET), Connect JSON and gRPC-Web on
// the same Portico, in alternating rounds: first in closed loop (each
// caller calls again as soon as a call returns), to find the rates, then
// at one offered rate for all three, where the targets are checked.
//
// Why the targets are read at an equal rate: in closed loop, client,
// gateway and backend share the cores, so a client that spends more per
// call (a POST with a body against a GET) lowers the rate, and the
// gateway's CPU per call rises with a lower rate whatever the call (fewer
// calls served per wake-up: REST GET's own CPU per call was 115 µs at
// 8,100 req/s and 138 µs at 5,800 in one run). The closed-loop ratio
// charges the gateway for the client's cost; the one at an equal rate
// compares the calls. Both are printed.
func (b *bench) runWeb(s *stack) error {
	o := b.o
	fmt.Fprintf(b.w, "\n== gRPC-Web and Connect: GetBook %s over REST, Connect JSON and gRPC-Web, %d connections, %d rounds of %v each, alternating ==\n",
		o.book, o.concurrency, o.rounds, o.duration)
	rest, err := newHTTPTarget(b.ctx, restUnary, s.portico, s.porticoURL+o.path, o.concurrency)
	if err != nil {
		return err
	}
	defer rest.close()
	url := s.porticoURL + "/example.bookstore.v1.BookstoreService/GetBook"
	conn, err := newHTTPPostTarget(b.ctx, connectUnary, s.portico, url, fmt.Sprintf(`{"name":%q}`, o.book), o.concurrency)
	if err != nil {
		return err
	}
	defer conn.close()
	conn.setHeaders(map[string]string{"Connect-Protocol-Version": "1"})
	msg, err := proto.Marshal(&bookstorev1.GetBookRequest{Name: o.book})
	if err != nil {
		return err
	}
	frame := make([]byte, 5, 5+len(msg))
	binary.BigEndian.PutUint32(frame[1:], uint32(len(msg)))
	web, err := newHTTPPostTarget(b.ctx, grpcWebUnary, s.portico, url, string(append(frame, msg...)), o.concurrency)
	if err != nil {
		return err
	}
	defer web.close()
	web.setHeaders(map[string]string{"Content-Type": "application/grpc-web+proto", "X-Grpc-Web": "1"})
	targets := []*target{rest, conn, web}
	for _, t := range targets {
		t.admin = s.porticoAdmin
	}
	fmt.Fprintln(b.w, "-- closed loop --")
	rounds, err := b.compare(s, targets)
	if err != nil {
		return err
	}
	restSum, connSum, webSum := summarize(restUnary, rounds), summarize(connectUnary, rounds), summarize(grpcWebUnary, rounds)
	printSummary(b.w, restSum, connSum, webSum)
	fmt.Fprintf(b.w, "  closed loop: connect_json_cpu / rest_cpu %.3fx, grpcweb_cpu / rest_cpu %.3fx (at each one's own rate: not the targets)\n",
		cpuRatio(connSum, restSum), cpuRatio(webSum, restSum))

	rate := 0.8 * min(restSum.rate, connSum.rate, webSum.rate)
	if rate <= 0 {
		return fmt.Errorf("gRPC-Web and Connect: no calls succeeded in closed loop")
	}
	for _, t := range targets {
		t.interval = time.Duration(float64(len(t.callers)) / rate * float64(time.Second))
	}
	fmt.Fprintf(b.w, "\n-- the same calls at one offered rate: %.0f req/s each (80%% of the slowest above), open loop --\n", rate)
	if rounds, err = b.compare(s, targets); err != nil {
		return err
	}
	restSum, connSum, webSum = summarize(restUnary, rounds), summarize(connectUnary, rounds), summarize(grpcWebUnary, rounds)
	printSummary(b.w, restSum, connSum, webSum)
	c := cpuRatio(connSum, restSum)
	b.v.check(b.w, webSection, "connect_json_cpu / rest_cpu (gateway CPU per call, equal rate)", c, c <= wantWebCPU, fmt.Sprintf("<= %.2fx", wantWebCPU))
	g := cpuRatio(webSum, restSum)
	b.v.check(b.w, webSection, "grpcweb_cpu / rest_cpu (gateway CPU per call, equal rate)", g, g <= wantWebCPU, fmt.Sprintf("<= %.2fx", wantWebCPU))
	return nil
}
