package idlepark

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"testing"
	"time"
)

// echo answers "METHOD PATH len(body)" (after reading the body), which
// lets a test see every request of a connection answered in order.
var echo = http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
	b, err := io.ReadAll(r.Body)
	if err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	fmt.Fprintf(w, "%s %s %d", r.Method, r.URL.Path, len(b))
})

// serve starts srv on a parking listener at :0 (park false: a plain
// listener, net/http alone) and returns the Listener (nil when not
// parking) and the address.
func serve(t *testing.T, srv *http.Server, park bool) (*Listener, string) {
	t.Helper()
	inner, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	var l *Listener
	run := func() error { return srv.Serve(inner) }
	if park {
		l = New(inner)
		run = func() error { return l.Serve(srv) }
	}
	done := make(chan struct{})
	go func() {
		defer close(done)
		_ = run()
	}()
	t.Cleanup(func() {
		_ = srv.Close()
		<-done
	})
	return l, inner.Addr().String()
}

// client is one raw HTTP/1.1 connection.
type client struct {
	t  *testing.T
	c  net.Conn
	br *bufio.Reader
}

func dial(t *testing.T, addr string) *client {
	t.Helper()
	c, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	return &client{t: t, c: c, br: bufio.NewReader(c)}
}

// send writes raw bytes.
func (c *client) send(s string) {
	c.t.Helper()
	if _, err := io.WriteString(c.c, s); err != nil {
		c.t.Fatalf("write: %v", err)
	}
}

// get is a complete GET request for path.
func get(path string) string { return "GET " + path + " HTTP/1.1\r\nHost: x\r\n\r\n" }

// post is a complete POST request for path with body.
func post(path, body string) string {
	return fmt.Sprintf("POST %s HTTP/1.1\r\nHost: x\r\nContent-Length: %d\r\n\r\n%s", path, len(body), body)
}

// answer reads one response and returns its status line's code and body.
func (c *client) answer() (int, string) {
	c.t.Helper()
	_ = c.c.SetReadDeadline(time.Now().Add(10 * time.Second))
	resp, err := http.ReadResponse(c.br, nil)
	if err != nil {
		c.t.Fatalf("reading the answer: %v", err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		c.t.Fatalf("reading the answer's body: %v", err)
	}
	return resp.StatusCode, string(b)
}

// want reads one answer and checks it is 200 with body.
func (c *client) want(body string) {
	c.t.Helper()
	code, got := c.answer()
	if code != http.StatusOK || got != body {
		c.t.Fatalf("got %d %q, want 200 %q", code, got, body)
	}
}

// closed waits (at most within) for the server to close the connection;
// it returns what was read before the end.
func (c *client) closed(within time.Duration) string {
	c.t.Helper()
	_ = c.c.SetReadDeadline(time.Now().Add(within))
	b, err := io.ReadAll(c.br)
	if ne, ok := err.(net.Error); ok && ne.Timeout() {
		c.t.Fatalf("the connection is still open after %v (read %q)", within, b)
	}
	return string(b)
}

// waitFor polls cond until it holds, failing the test after 10 s.
func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	tick := time.NewTicker(time.Millisecond)
	defer tick.Stop()
	for !cond() {
		select {
		case <-tick.C:
		case <-ctx.Done():
			t.Fatalf("timed out waiting for %s", what)
		}
	}
}

// parkedAre waits until l holds n parked connections.
func parkedAre(t *testing.T, l *Listener, n int) {
	t.Helper()
	waitFor(t, fmt.Sprintf("%d parked connections", n), func() bool { return l.Parked() == n })
}
