package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/binary"
	"fmt"
	"io"
	"net"
	"net/http"
	"strings"
	"sync"
	"time"

	bookstorev1 "github.com/portico-gw/portico/gen/example/bookstore/v1"
	"golang.org/x/net/http2"
	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/protobuf/proto"
)

// The clients of the connection measurements: each opens a connection or
// a stream, makes one real call on it, checks the answer and leaves it
// open and idle until closed.

// dialTimeout bounds each connect and first call.
const dialTimeout = 10 * time.Second

// openHTTP1 connects to the HTTP/1.1 server at baseURL (http://host:port),
// GETs path once on the connection with keep-alive and returns the
// connection, idle.
func openHTTP1(ctx context.Context, baseURL, path string) (held, error) {
	host := strings.TrimPrefix(baseURL, "http://")
	d := net.Dialer{Timeout: dialTimeout}
	c, err := d.DialContext(ctx, "tcp", host)
	if err != nil {
		return nil, err
	}
	_ = c.SetDeadline(time.Now().Add(dialTimeout))
	if _, err := fmt.Fprintf(c, "GET %s HTTP/1.1\r\nHost: %s\r\n\r\n", path, host); err != nil {
		c.Close()
		return nil, err
	}
	resp, err := http.ReadResponse(bufio.NewReader(c), nil)
	if err != nil {
		c.Close()
		return nil, err
	}
	_, err = io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	if err == nil && (resp.StatusCode != http.StatusOK || resp.Close) {
		err = fmt.Errorf("GET %s: %s (close %v)", path, resp.Status, resp.Close)
	}
	if err != nil {
		c.Close()
		return nil, err
	}
	_ = c.SetDeadline(time.Time{})
	return c, nil
}

// h2Transport makes the HTTP/2 client connections of openH2, over
// cleartext TCP (h2c with prior knowledge, as gRPC clients speak).
var h2Transport = &http2.Transport{AllowHTTP: true}

// shelfStatsCall is a gRPC GetShelfStats(1) request's body: the 5-byte
// message prefix (uncompressed, length) and the message.
func shelfStatsCall() []byte {
	msg, _ := proto.Marshal(&bookstorev1.GetShelfStatsRequest{Shelf: 1})
	body := make([]byte, 5+len(msg))
	binary.BigEndian.PutUint32(body[1:5], uint32(len(msg)))
	copy(body[5:], msg)
	return body
}

// openH2 opens an HTTP/2 connection to the gRPC server at addr, makes one
// GetShelfStats call on it (checking grpc-status 0) and returns the
// connection, idle.
func openH2(ctx context.Context, addr string) (held, error) {
	d := net.Dialer{Timeout: dialTimeout}
	c, err := d.DialContext(ctx, "tcp", addr)
	if err != nil {
		return nil, err
	}
	cc, err := h2Transport.NewClientConn(c)
	if err != nil {
		c.Close()
		return nil, err
	}
	ctx, cancel := context.WithTimeout(ctx, dialTimeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, "http://"+addr+bookstorev1.BookstoreService_GetShelfStats_FullMethodName, bytes.NewReader(shelfStatsCall()))
	if err != nil {
		cc.Close()
		return nil, err
	}
	req.Header.Set("Content-Type", "application/grpc")
	req.Header.Set("Te", "trailers")
	resp, err := cc.RoundTrip(req)
	if err == nil {
		_, err = io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		if st := resp.Trailer.Get("Grpc-Status"); err == nil && (resp.StatusCode != http.StatusOK || st != "0") {
			err = fmt.Errorf("GetShelfStats: HTTP %s, grpc-status %q (%s)", resp.Status, st, resp.Trailer.Get("Grpc-Message"))
		}
	}
	if err != nil {
		cc.Close()
		return nil, err
	}
	return cc, nil
}

// streamOpener opens LookupBooks streams on a few grpc-go connections
// (each carrying at most streamsPerConn of them, under the door's
// max_concurrent_streams).
type streamOpener struct {
	book  string
	conns []*grpc.ClientConn
	mu    sync.Mutex
	next  int
}

// streamsPerConn is how many streams the opener puts on each connection.
const streamsPerConn = 200

// newStreamOpener connects to addr with enough connections for n streams
// (plus the warm-up's), each warmed by one GetBook call.
func newStreamOpener(ctx context.Context, addr, book string, n int) (*streamOpener, error) {
	o := &streamOpener{book: book}
	for range (n+1)/streamsPerConn + 1 {
		conn, err := grpc.NewClient("passthrough:///"+addr, grpc.WithTransportCredentials(insecure.NewCredentials()))
		if err != nil {
			o.close()
			return nil, err
		}
		o.conns = append(o.conns, conn)
		cctx, cancel := context.WithTimeout(ctx, dialTimeout)
		_, err = bookstorev1.NewBookstoreServiceClient(conn).GetBook(cctx, &bookstorev1.GetBookRequest{Name: book})
		cancel()
		if err != nil {
			o.close()
			return nil, err
		}
	}
	return o, nil
}

// open opens one LookupBooks stream, sends one request and receives its
// book; the stream stays open until closed.
func (o *streamOpener) open(ctx context.Context) (held, error) {
	o.mu.Lock()
	conn := o.conns[o.next/streamsPerConn]
	o.next++
	o.mu.Unlock()
	ctx, cancel := context.WithCancel(ctx)
	stream, err := bookstorev1.NewBookstoreServiceClient(conn).LookupBooks(ctx)
	if err == nil {
		err = stream.Send(&bookstorev1.GetBookRequest{Name: o.book})
	}
	if err == nil {
		_, err = stream.Recv()
	}
	if err != nil {
		cancel()
		return nil, err
	}
	return closerFunc(func() error { cancel(); return nil }), nil
}

// close closes the opener's connections.
func (o *streamOpener) close() {
	for _, c := range o.conns {
		c.Close()
	}
}

// closerFunc is a func as an io.Closer.
type closerFunc func() error

func (f closerFunc) Close() error { return f() }
