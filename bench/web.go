package main

import (
	"encoding/binary"
	"fmt"

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
// the same Portico, in alternating rounds.
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
	for _, t := range []*target{rest, conn, web} {
		t.admin = s.porticoAdmin
	}
	rounds, err := b.compare(s, []*target{rest, conn, web})
	if err != nil {
		return err
	}
	restSum, connSum, webSum := summarize(restUnary, rounds), summarize(connectUnary, rounds), summarize(grpcWebUnary, rounds)
	printSummary(b.w, restSum, connSum, webSum)
	c := cpuRatio(connSum, restSum)
	b.v.check(b.w, webSection, "connect_json_cpu / rest_cpu (gateway CPU per call)", c, c <= wantWebCPU, fmt.Sprintf("<= %.2fx", wantWebCPU))
	g := cpuRatio(webSum, restSum)
	b.v.check(b.w, webSection, "grpcweb_cpu / rest_cpu (gateway CPU per call)", g, g <= wantWebCPU, fmt.Sprintf("<= %.2fx", wantWebCPU))
	return nil
}
