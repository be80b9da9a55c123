// Package idlepark keeps idle HTTP/1.1 keep-alive connections cheap.
//
// While net/http waits for the next request on a keep-alive connection it
// holds a 4 KB bufio.Reader, a 4 KB bufio.Writer and a goroutine whose
// stack grew while it served the last request. A Listener takes such a
// connection away from net/http once it is idle ("parks" it) until the
// next request's first bytes come, and net/http frees its buffers and its
// goroutine. On Linux a parked socket holds no goroutine at all: one
// epoll set and one goroutine watch them all (poller_linux.go), a timer
// closes it at its idle deadline, and only once it is readable does a
// goroutine read it; elsewhere, and for connections that do not expose
// their socket (syscall.Conn), it waits on a goroutine of its own. When
// the bytes arrive, the connection comes back out of Accept as a new
// connection, the bytes read served first; when the idle deadline
// net/http set passes first, or the client closes, or the Listener is
// closed (http.Server.Shutdown and Close close their listeners), the
// connection is closed, as net/http would have.
//
// # When a connection is parked, and why no byte is lost
//
// The Listener sees net/http only through the connection's own methods
// and the server's ConnState hook. Go 1.26's conn.serve
// (net/http/server.go), after answering a request on a connection it
// keeps, does, on the connection's goroutine and in this order:
//
//	c.setState(c.rwc, StateIdle, runHooks)           // ConnState(StateIdle)
//	if !doKeepAlives() { return }                    // shutting down: closes
//	c.rwc.SetReadDeadline(idle deadline or zero)     // SetReadDeadline
//	if _, err := c.bufr.Peek(4); err != nil { return } // closes the conn
//
// Peek only reads from the connection when fewer than 4 bytes are
// buffered: bufio.Reader.fill first slides what is buffered to the start
// of its 4096-byte buffer and then reads into the rest, so the read it
// issues is given exactly 4096 bytes only when nothing at all is buffered
// (a pipelined request, even one byte of one, makes it shorter).
// connReader.Read passes the slice on unshortened (its read limit is
// infinite between requests) unless it holds a byte of its own background
// read, which it returns without reading the connection (the next fill is
// then 4095 bytes). So a Read of exactly 4096 bytes that follows
// ConnState(StateIdle) and then one SetReadDeadline, with no other call on
// the connection between them, is net/http waiting for the next request
// with nothing buffered. That Read, and only that one, fails with a
// private error: Peek fails, conn.serve returns and closes the connection,
// and that Close parks it instead. Any other call in between (a Read of
// another length, a Write, a second deadline, another state) disarms the
// parking, so a pipelined request is served by net/http as always. The
// parked goroutine then reads as Peek(4) would have: until 4 bytes came,
// under the idle deadline net/http set; those bytes are the new
// connection's first.
//
// Only HTTP/1 connections are parked: a connection whose first byte is
// not an ASCII capital letter (a TLS handshake, anything that is not a
// request line) or whose first bytes begin the HTTP/2 preface ("PRI") is
// never parked, nor is a hijacked one. The Listener belongs under a
// plaintext HTTP/1 http.Server: a *tls.Conn over it would hide the reads
// (and net/http does not see TLS through a wrapped connection).
package idlepark

import (
	"errors"
	"net"
	"net/http"
	"sync"
	"sync/atomic"
	"time"
)

// bufSize is the size of net/http's per-connection bufio.Reader
// (newBufioReader: bufio.NewReader's default), the length of the read a
// Peek issues on an empty buffer.
const bufSize = 4096

// errParked fails the read net/http waits on, so that it lets the
// connection go; it never reaches a client.
var errParked = errors.New("idlepark: connection parked")

// Listener parks the idle connections of the http.Server it serves. Set
// the server's ConnState to the Listener's ConnState (Serve does both).
type Listener struct {
	inner    net.Listener
	pumpOnce sync.Once
	pollOnce sync.Once
	poll     *poller       // nil: a goroutine per parked connection
	accepted chan accepted // from the inner listener
	woken    chan *conn    // parked connections with a request coming
	done     chan struct{} // closed by Close
	closeErr error

	// after is how long a connection waits idle, still net/http's, before
	// it is parked (SetParkAfter); 0: at once.
	after atomic.Int64 // a time.Duration
	parks atomic.Int64 // connections parked so far

	mu     sync.Mutex
	closed bool
	parked map[*conn]struct{}
}

// SetParkAfter makes an idle connection wait d for its next request, as
// net/http's, before it is parked. A client that keeps its connection busy
// (the next request within d) is then never parked, and never pays for
// leaving net/http and coming back: under closed-loop load, parking at
// once cost the REST door about 1.5× its CPU per call. It may be changed while the
// Listener serves; connections idle from then on follow it.
func (l *Listener) SetParkAfter(d time.Duration) { l.after.Store(int64(d)) }

type accepted struct {
	c   net.Conn
	err error
}

// New returns a Listener accepting l's connections.
func New(l net.Listener) *Listener {
	return &Listener{
		inner:    l,
		accepted: make(chan accepted),
		woken:    make(chan *conn),
		done:     make(chan struct{}),
		parked:   make(map[*conn]struct{}),
	}
}

// Serve serves srv on l: srv's ConnState is l's (after srv's own, if it
// had one).
func (l *Listener) Serve(srv *http.Server) error {
	prev := srv.ConnState
	srv.ConnState = func(c net.Conn, s http.ConnState) {
		if prev != nil {
			prev(c, s)
		}
		l.ConnState(c, s)
	}
	return srv.Serve(l)
}

// Accept returns the next new connection or parked connection with a
// request coming.
func (l *Listener) Accept() (net.Conn, error) {
	l.pumpOnce.Do(func() { go l.pump() })
	select {
	case a := <-l.accepted:
		if a.err != nil {
			return nil, a.err
		}
		return &conn{Conn: a.c, l: l}, nil
	case c := <-l.woken:
		return c, nil
	case <-l.done:
		return nil, net.ErrClosed
	}
}

// pump accepts the inner listener's connections for Accept, which also
// waits for parked connections. Every error goes to Accept (net/http
// retries the temporary ones, such as running out of file descriptors,
// and closes the listener on the others); it ends when the inner
// listener or the Listener is closed.
func (l *Listener) pump() {
	for {
		c, err := l.inner.Accept()
		select {
		case l.accepted <- accepted{c, err}:
		case <-l.done:
			if c != nil {
				_ = c.Close()
			}
			return
		}
		if errors.Is(err, net.ErrClosed) {
			return
		}
	}
}

// Close closes the inner listener and every parked connection; a
// connection being parked or woken from now on is closed.
func (l *Listener) Close() error {
	l.mu.Lock()
	if l.closed {
		l.mu.Unlock()
		return l.closeErr
	}
	l.closed = true
	close(l.done)
	parked := l.parked
	l.parked = nil
	for c := range parked {
		c.watched = false
		if c.timer != nil {
			c.timer.Stop()
		}
	}
	l.closeErr = l.inner.Close()
	l.mu.Unlock()
	for c := range parked {
		_ = c.Conn.Close() // a goroutine reading it ends
	}
	l.pollOnce.Do(func() {}) // no poller from now on
	if l.poll != nil {
		l.poll.close()
	}
	return l.closeErr
}

// Addr is the inner listener's address.
func (l *Listener) Addr() net.Addr { return l.inner.Addr() }

// Parked is the number of connections parked now.
func (l *Listener) Parked() int {
	l.mu.Lock()
	defer l.mu.Unlock()
	return len(l.parked)
}

// ConnState follows net/http's connection states (http.Server.ConnState).
func (l *Listener) ConnState(nc net.Conn, s http.ConnState) {
	c, ok := nc.(*conn)
	if !ok || c.l != l {
		return
	}
	c.onState(s)
}

// park takes c from net/http: it waits for the next request's first
// bytes in the poller (Linux) or on a goroutine of its own, until the
// idle deadline net/http set.
func (l *Listener) park(c *conn) {
	l.pollOnce.Do(l.startPoller)
	l.mu.Lock()
	if l.closed {
		l.mu.Unlock()
		_ = c.Conn.Close()
		return
	}
	l.parked[c] = struct{}{}
	l.parks.Add(1)
	watch := l.poll != nil
	c.watched = watch
	l.mu.Unlock()
	if watch && l.poll.add(c) {
		if !c.idleUntil.IsZero() {
			l.mu.Lock()
			if c.watched {
				c.timer = time.AfterFunc(time.Until(c.idleUntil), func() { l.expire(c) })
			}
			l.mu.Unlock()
		}
		return
	}
	l.mu.Lock()
	c.watched = false
	l.mu.Unlock()
	go l.wait(c)
}

func (l *Listener) startPoller() {
	l.poll = newPoller()
	if l.poll != nil {
		go l.poll.run(l.ready)
	}
}

// ready: c's client sent something (or closed); a goroutine reads it.
func (l *Listener) ready(c *conn) {
	l.mu.Lock()
	if !c.watched {
		l.mu.Unlock()
		return
	}
	c.watched = false
	t := c.timer
	l.mu.Unlock()
	if t != nil {
		t.Stop()
	}
	go l.wait(c)
}

// expire closes c at its idle deadline when nothing came.
func (l *Listener) expire(c *conn) {
	l.mu.Lock()
	if !c.watched {
		l.mu.Unlock()
		return
	}
	c.watched = false
	delete(l.parked, c)
	l.mu.Unlock()
	l.poll.forget(c)
	_ = c.Conn.Close()
}

// wait reads as net/http's Peek(4) would have, under the idle deadline
// net/http set; then hands c back to Accept with what it read.
func (l *Listener) wait(c *conn) {
	n := 0
	var err error
	for n < len(c.peek) && err == nil {
		var k int
		k, err = c.Conn.Read(c.peek[n:])
		n += k
	}
	l.mu.Lock()
	_, mine := l.parked[c]
	delete(l.parked, c)
	l.mu.Unlock()
	if err != nil || !mine { // idle deadline, client gone, or Close
		_ = c.Conn.Close()
		return
	}
	select {
	case l.woken <- c.woken(n):
	case <-l.done:
		_ = c.Conn.Close()
	}
}
