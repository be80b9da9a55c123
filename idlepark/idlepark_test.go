package idlepark

import (
	"context"
	"io"
	"net"
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"
)

func TestParksIdleConnectionAndServesItAgain(t *testing.T) {
	l, addr := serve(t, &http.Server{Handler: echo}, true)
	const n = 20
	cs := make([]*client, n)
	for i := range cs {
		cs[i] = dial(t, addr)
		cs[i].send(get("/a"))
		cs[i].want("GET /a 0")
	}
	parkedAre(t, l, n)
	for round := range 3 {
		for _, c := range cs {
			c.send(post("/b", strings.Repeat("x", round*100)))
		}
		for _, c := range cs {
			c.want("POST /b " + strconv.Itoa(round*100))
		}
		parkedAre(t, l, n)
	}
	for _, c := range cs {
		c.c.Close()
	}
	parkedAre(t, l, 0)
}

func TestPipelinedRequestsAreNotLost(t *testing.T) {
	l, addr := serve(t, &http.Server{Handler: echo}, true)
	c := dial(t, addr)
	// Three requests in one write: net/http has the next ones buffered
	// when it goes idle, so it must not be parked until the last.
	c.send(get("/1") + post("/2", "hello") + get("/3"))
	c.want("GET /1 0")
	c.want("POST /2 5")
	c.want("GET /3 0")
	parkedAre(t, l, 1)
	c.send(get("/4"))
	c.want("GET /4 0")
}

func TestPartialPipelinedRequestIsNotLost(t *testing.T) {
	// 1 to 3 bytes of the next request buffered: Peek reads for the rest
	// with a shorter buffer; 4 and more: it does not read at all.
	for _, k := range []int{1, 2, 3, 4, 5, 17} {
		l, addr := serve(t, &http.Server{Handler: echo}, true)
		c := dial(t, addr)
		next := get("/next")
		c.send(get("/first") + next[:k])
		c.want("GET /first 0")
		if got := l.Parked(); got != 0 {
			t.Fatalf("%d bytes of the next request buffered: got %d parked, want 0", k, got)
		}
		c.send(next[k:])
		c.want("GET /next 0")
		parkedAre(t, l, 1)
	}
}

func TestRequestBodyAndExpectContinue(t *testing.T) {
	l, addr := serve(t, &http.Server{Handler: echo}, true)
	c := dial(t, addr)
	c.send(post("/a", strings.Repeat("y", 10000)))
	c.want("POST /a 10000")
	parkedAre(t, l, 1)
	c.send("POST /c HTTP/1.1\r\nHost: x\r\nContent-Length: 3\r\nExpect: 100-continue\r\n\r\n")
	code, _ := c.answer()
	if code != http.StatusContinue {
		t.Fatalf("got %d, want 100", code)
	}
	c.send("abc")
	c.want("POST /c 3")
	parkedAre(t, l, 1)
	// A body left unread by the handler: net/http reads it out (or
	// closes); the connection still answers or ends cleanly.
	c.send(post("/d", "zz") + get("/e"))
	c.want("POST /d 2")
	c.want("GET /e 0")
}

func TestParkedConnectionClosedAtIdleTimeout(t *testing.T) {
	l, addr := serve(t, &http.Server{Handler: echo, IdleTimeout: 300 * time.Millisecond}, true)
	c := dial(t, addr)
	start := time.Now()
	c.send(get("/a"))
	c.want("GET /a 0")
	parkedAre(t, l, 1)
	if rest := c.closed(10 * time.Second); rest != "" {
		t.Fatalf("got %q after the answer, want nothing", rest)
	}
	if d := time.Since(start); d < 300*time.Millisecond {
		t.Fatalf("closed after %v, want at least the idle timeout (300ms)", d)
	}
	parkedAre(t, l, 0)
}

func TestPartialRequestOnParkedConnectionTimesOut(t *testing.T) {
	// Fewer than 4 bytes: the idle deadline still runs, as with net/http's
	// Peek(4); 4 or more: the connection is back with net/http, whose
	// ReadHeaderTimeout ends the slow request (slowloris).
	for _, tc := range []struct {
		sent          string
		idle, headers time.Duration
	}{
		{"GE", 300 * time.Millisecond, time.Minute},
		{"GET /slow", time.Minute, 300 * time.Millisecond},
	} {
		l, addr := serve(t, &http.Server{Handler: echo, IdleTimeout: tc.idle, ReadHeaderTimeout: tc.headers}, true)
		c := dial(t, addr)
		c.send(get("/a"))
		c.want("GET /a 0")
		parkedAre(t, l, 1)
		c.send(tc.sent)
		c.closed(10 * time.Second)
	}
}

func TestShutdownClosesParkedConnections(t *testing.T) {
	srv := &http.Server{Handler: echo}
	l, addr := serve(t, srv, true)
	cs := []*client{dial(t, addr), dial(t, addr), dial(t, addr)}
	for _, c := range cs {
		c.send(get("/a"))
		c.want("GET /a 0")
	}
	parkedAre(t, l, len(cs))
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := srv.Shutdown(ctx); err != nil {
		t.Fatalf("Shutdown: %v", err)
	}
	for _, c := range cs {
		c.closed(5 * time.Second)
	}
	if got := l.Parked(); got != 0 {
		t.Fatalf("got %d parked after Shutdown, want 0", got)
	}
}

func TestHijackedConnectionNeverParked(t *testing.T) {
	hijacked := make(chan struct{})
	srv := &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != "/ws" {
			echo(w, r)
			return
		}
		nc, brw, err := http.NewResponseController(w).Hijack()
		if err != nil {
			t.Errorf("Hijack: %v", err)
			return
		}
		_, _ = brw.WriteString("HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nws")
		_ = brw.Flush()
		close(hijacked)
		// The hijacked connection echoes one more request line itself.
		line, _ := brw.ReadString('\n')
		_, _ = nc.Write([]byte(line))
		nc.Close()
	})}
	l, addr := serve(t, srv, true)
	c := dial(t, addr)
	c.send(get("/a"))
	c.want("GET /a 0")
	parkedAre(t, l, 1)
	c.send(get("/ws"))
	c.want("ws")
	<-hijacked
	if got := l.Parked(); got != 0 {
		t.Fatalf("got %d parked with the connection hijacked, want 0", got)
	}
	c.send("ping\n")
	if got := c.closed(5 * time.Second); got != "ping\n" {
		t.Fatalf("got %q from the hijacked connection, want %q", got, "ping\n")
	}
}

func TestHTTP2ConnectionNeverParked(t *testing.T) {
	var protos http.Protocols
	protos.SetHTTP1(true)
	protos.SetUnencryptedHTTP2(true)
	srv := &http.Server{Handler: echo, Protocols: &protos}
	idle := make(chan struct{}, 10)
	srv.ConnState = func(_ net.Conn, s http.ConnState) {
		if s == http.StateIdle {
			idle <- struct{}{}
		}
	}
	l, addr := serve(t, srv, true)
	var cp http.Protocols
	cp.SetUnencryptedHTTP2(true)
	tr := &http.Transport{Protocols: &cp}
	t.Cleanup(tr.CloseIdleConnections)
	hc := &http.Client{Transport: tr}
	for i := range 3 {
		resp, err := hc.Post("http://"+addr+"/h2", "text/plain", strings.NewReader(strings.Repeat("q", 4096*i)))
		if err != nil {
			t.Fatal(err)
		}
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.ProtoMajor != 2 || string(b) != "POST /h2 "+strconv.Itoa(4096*i) {
			t.Fatalf("got HTTP/%d %q, want HTTP/2 %q", resp.ProtoMajor, b, "POST /h2 "+strconv.Itoa(4096*i))
		}
		<-idle // the HTTP/2 server reports the connection idle too
		if got := l.Parked(); got != 0 {
			t.Fatalf("got %d parked HTTP/2 connections, want 0", got)
		}
	}
}

// opaque hides the socket (no SyscallConn): such connections wait on a
// goroutine each instead of the poller.
type opaque struct{ net.Listener }

func (o opaque) Accept() (net.Conn, error) {
	c, err := o.Listener.Accept()
	if err != nil {
		return nil, err
	}
	return struct{ net.Conn }{c}, nil
}

func TestParksWithoutPoller(t *testing.T) {
	inner, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	l := New(opaque{inner})
	srv := &http.Server{Handler: echo, IdleTimeout: 300 * time.Millisecond}
	done := make(chan struct{})
	go func() { defer close(done); _ = l.Serve(srv) }()
	t.Cleanup(func() { _ = srv.Close(); <-done })
	c := dial(t, inner.Addr().String())
	c.send(get("/a"))
	c.want("GET /a 0")
	parkedAre(t, l, 1)
	c.send(get("/b"))
	c.want("GET /b 0")
	parkedAre(t, l, 1)
	c.closed(10 * time.Second) // the idle timeout
	parkedAre(t, l, 0)
}

// TestBusyConnectionNotParkedWithinGrace: with SetParkAfter, a
// connection whose next request comes within the grace period stays
// net/http's (never parked: parking at once on every request cost the
// REST door about 1.5× its CPU per call under closed-loop load), and
// one left idle longer is parked, then served again.
func TestBusyConnectionNotParkedWithinGrace(t *testing.T) {
	l, addr := serve(t, &http.Server{Handler: echo}, true)
	l.SetParkAfter(2 * time.Second)
	c := dial(t, addr)
	for i := range 50 {
		c.send(post("/busy", strings.Repeat("x", i)))
		c.want("POST /busy " + strconv.Itoa(i))
	}
	if got := l.parks.Load(); got != 0 {
		t.Fatalf("a connection busy within the grace period: parked %d times, want 0", got)
	}
	start := time.Now()
	parkedAre(t, l, 1)
	if d := time.Since(start); d < time.Second {
		t.Errorf("parked %v after its last answer, want the 2s grace period first", d)
	}
	c.send(get("/again"))
	c.want("GET /again 0")
	parkedAre(t, l, 1)
	if got := l.parks.Load(); got != 2 {
		t.Errorf("parks: got %d, want 2 (once after each idle grace period)", got)
	}
}
