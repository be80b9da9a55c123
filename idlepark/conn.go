package idlepark

import (
	"errors"
	"io"
	"net"
	"net/http"
	"os"
	"sync"
	"time"
)

// step is where a connection is on its way to being parked (see the
// package comment); any call out of order sets it back to serving.
type step uint8

const (
	serving      step = iota
	idle              // ConnState(StateIdle) came
	idleDeadline      // then its SetReadDeadline
	parking           // then the 4096-byte Read, failed: the next Close parks
)

// conn is a connection of a Listener.
type conn struct {
	net.Conn
	l *Listener

	mu      sync.Mutex
	step    step
	first   [3]byte // the connection's first bytes, for look
	nfirst  int
	checked bool // the first bytes were looked at
	never   bool // not an HTTP/1 connection, or hijacked: never parked
	// replay is what the parked goroutine read, served before the socket.
	replay []byte
	peek   [4]byte
	// idleUntil is the idle deadline net/http set before its idle wait.
	idleUntil time.Time
	// watched (under the Listener's mu): parked in the poller, with timer
	// closing it at idleUntil.
	watched bool
	timer   *time.Timer
}

func (c *conn) onState(s http.ConnState) {
	c.mu.Lock()
	defer c.mu.Unlock()
	switch {
	case s == http.StateIdle && !c.never:
		c.step = idle
	case s == http.StateHijacked:
		c.never = true
		c.step = serving
	default:
		c.step = serving
	}
}

func (c *conn) Read(p []byte) (int, error) {
	c.mu.Lock()
	if len(c.replay) > 0 {
		n := copy(p, c.replay)
		c.replay = c.replay[n:]
		c.mu.Unlock()
		return n, nil
	}
	if c.step == idleDeadline && len(p) == bufSize && c.checked && !c.never {
		until := c.idleUntil
		if grace := time.Duration(c.l.after.Load()); grace > 0 {
			// Wait as net/http would, for at most the grace period (or
			// its own idle deadline, if sooner): a request that comes
			// is net/http's at once; only a connection still idle then
			// is parked. Serving meanwhile: a Close (Shutdown closing
			// idle connections) closes it.
			c.step = serving
			c.mu.Unlock()
			if n, err, done := c.graceRead(p, until, grace); done {
				return n, err
			}
			c.mu.Lock()
		}
		c.step = parking
		c.mu.Unlock()
		return 0, errParked
	}
	c.step = serving
	check := !c.checked && !c.never
	c.mu.Unlock()
	n, err := c.Conn.Read(p)
	if check && n > 0 {
		c.look(p[:n])
	}
	return n, err
}

// graceRead reads p for at most grace (or until net/http's idle deadline
// until, if sooner). done is false when nothing came within grace: the
// connection is to be parked. Either way net/http's deadline is set again
// (the parked wait keeps it; net/http replaces it once Peek has its
// bytes), and otherwise n, err are the read's.
func (c *conn) graceRead(p []byte, until time.Time, grace time.Duration) (n int, err error, done bool) {
	end := time.Now().Add(grace)
	if !until.IsZero() && !end.Before(until) {
		return 0, nil, false // net/http's own deadline comes first: park now
	}
	_ = c.Conn.SetReadDeadline(end)
	n, err = c.Conn.Read(p)
	_ = c.Conn.SetReadDeadline(until)
	if n == 0 && errors.Is(err, os.ErrDeadlineExceeded) {
		return 0, nil, false
	}
	return n, err, true
}

// look gathers a connection's first 3 bytes and decides whether it may
// ever be parked: not when the first is not an ASCII capital letter (a
// TLS handshake, anything but a request line) or they are "PRI" (the
// HTTP/2 preface).
func (c *conn) look(got []byte) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.nfirst += copy(c.first[c.nfirst:], got)
	if c.first[0] < 'A' || c.first[0] > 'Z' {
		c.never = true
	}
	if c.nfirst == len(c.first) {
		c.checked = true
		if string(c.first[:]) == "PRI" {
			c.never = true
		}
	}
}

func (c *conn) SetReadDeadline(t time.Time) error {
	c.mu.Lock()
	if c.step == idle {
		c.step = idleDeadline
		c.idleUntil = t
	} else if c.step != parking {
		c.step = serving
	}
	c.mu.Unlock()
	return c.Conn.SetReadDeadline(t)
}

func (c *conn) SetDeadline(t time.Time) error {
	c.disarm()
	return c.Conn.SetDeadline(t)
}

func (c *conn) Write(p []byte) (int, error) {
	c.disarm()
	return c.Conn.Write(p)
}

// ReadFrom keeps net/http's sendfile path when the connection has one.
func (c *conn) ReadFrom(r io.Reader) (int64, error) {
	c.disarm()
	if rf, ok := c.Conn.(io.ReaderFrom); ok {
		return rf.ReadFrom(r)
	}
	return io.Copy(struct{ io.Writer }{c.Conn}, r)
}

// CloseWrite keeps net/http's half-close (closeWriteAndWait) when the
// connection has one.
func (c *conn) CloseWrite() error {
	c.disarm()
	if cw, ok := c.Conn.(interface{ CloseWrite() error }); ok {
		return cw.CloseWrite()
	}
	return nil
}

func (c *conn) disarm() {
	c.mu.Lock()
	if c.step != parking {
		c.step = serving
	}
	c.mu.Unlock()
}

// Close parks the connection when net/http lets it go because of the
// parking read; it closes it otherwise.
func (c *conn) Close() error {
	c.mu.Lock()
	park := c.step == parking
	c.step = serving
	c.mu.Unlock()
	if park {
		c.l.park(c)
		return nil
	}
	return c.Conn.Close()
}

// woken is c as a new connection for net/http (a new value: net/http's
// hooks may still report the old one closed), its first n peeked bytes
// served first. The idle deadline goes: net/http sets its own.
func (c *conn) woken(n int) *conn {
	_ = c.Conn.SetReadDeadline(time.Time{})
	w := &conn{Conn: c.Conn, l: c.l, checked: true, peek: c.peek}
	w.replay = w.peek[:n]
	return w
}
