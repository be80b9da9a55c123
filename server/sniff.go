package server

import (
	"bytes"
	"crypto/tls"
	"errors"
	"io"
	"net"
	"sync"
	"time"
)

// The gRPC listener serves gRPC-Web and Connect too. grpc-go's transport
// speaks only HTTP/2 with application/grpc, so each new plaintext
// connection is told apart by its first bytes: the HTTP/2 client preface
// goes to grpc-go as before (its zero-copy path unchanged), anything else
// is HTTP/1.1 and goes to an http.Server with the listener's limits that
// serves gRPC-Web and Connect (and a 404 for the rest). A connection that
// sends no byte within the read-header timeout is closed. Hand-written: it
// is one comparison of at most 24 bytes, and cmux (the library for it)
// is unmaintained and reads more than it needs.
//
// With tls: set, the listener does the handshake itself (within the same
// timeout) and the protocol the client chose by ALPN decides: "h2" goes
// to grpc-go, which takes the connection as it is (handshaken, below),
// anything else (http/1.1, or no ALPN) to the HTTP server, which sees the
// *tls.Conn and so the client's certificate. A browser that chooses h2
// reaches grpc-go, which answers only application/grpc: over TLS,
// browsers use the REST listener (docs/protocols.md).

// h2Preface is what every HTTP/2 connection starts with (RFC 9113 §3.4).
const h2Preface = "PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n"

// splitListener sorts the connections l accepts into HTTP/2 (grpc) and
// the rest (web). l is closed once both halves are: each server stops its
// own half, in any order.
type splitListener struct {
	l        net.Listener
	timeout  time.Duration
	tls      *tls.Config // nil: plaintext, sorted by the preface
	h2, web  *half
	done     chan struct{} // closed when l fails or both halves are closed
	mu       sync.Mutex
	open     int
	err      error
	doneOnce sync.Once
}

func newSplitListener(l net.Listener, timeout time.Duration, conf *tls.Config) *splitListener {
	s := &splitListener{l: l, timeout: timeout, tls: conf, done: make(chan struct{}), open: 2}
	s.h2 = &half{s: s, ch: make(chan net.Conn), closed: make(chan struct{})}
	s.web = &half{s: s, ch: make(chan net.Conn), closed: make(chan struct{})}
	go s.run()
	return s
}

func (s *splitListener) run() {
	for {
		c, err := s.l.Accept()
		if err != nil {
			var ne net.Error
			if errors.As(err, &ne) && ne.Timeout() {
				continue
			}
			s.mu.Lock()
			s.err = err
			s.mu.Unlock()
			s.finish()
			return
		}
		go s.sort(c)
	}
}

// sort reads c's first bytes as long as they match the HTTP/2 preface,
// or with TLS does the handshake and reads the protocol it chose.
func (s *splitListener) sort(c net.Conn) {
	if s.timeout > 0 {
		_ = c.SetReadDeadline(time.Now().Add(s.timeout))
	}
	if s.tls != nil {
		s.sortTLS(c)
		return
	}
	buf := make([]byte, 0, len(h2Preface))
	for len(buf) < len(h2Preface) && bytes.HasPrefix([]byte(h2Preface), buf) {
		n, err := c.Read(buf[len(buf):cap(buf)][:1])
		buf = buf[:len(buf)+n]
		if err != nil {
			_ = c.Close()
			return
		}
	}
	_ = c.SetReadDeadline(time.Time{})
	to := s.web
	if string(buf) == h2Preface {
		to = s.h2
	} else if tc, ok := c.(*net.TCPConn); ok {
		c = &lingerConn{TCPConn: tc} // as the REST listener's (restconn.go)
	}
	s.hand(to, &prefixedConn{Conn: c, r: io.MultiReader(bytes.NewReader(buf), c)})
}

// sortTLS does c's handshake and sorts it by the protocol chosen by ALPN.
// Every TLS connection lingers on close, as the REST listener's do: which
// server gets it is known only after the handshake.
func (s *splitListener) sortTLS(c net.Conn) {
	if tc, ok := c.(*net.TCPConn); ok {
		c = &lingerConn{TCPConn: tc}
	}
	tc := tls.Server(c, s.tls)
	if err := tc.Handshake(); err != nil {
		_ = tc.Close()
		return
	}
	_ = c.SetReadDeadline(time.Time{})
	to := s.web
	if tc.ConnectionState().NegotiatedProtocol == "h2" {
		to = s.h2
	}
	s.hand(to, tc)
}

// hand gives c to one half, or closes it when that half or l is closed.
func (s *splitListener) hand(to *half, c net.Conn) {
	select {
	case to.ch <- c:
	case <-to.closed:
		_ = c.Close()
	case <-s.done:
		_ = c.Close()
	}
}

// finish closes l and ends both halves' Accept.
func (s *splitListener) finish() {
	s.doneOnce.Do(func() {
		close(s.done)
		_ = s.l.Close()
	})
}

// half is one side of a splitListener.
type half struct {
	s         *splitListener
	ch        chan net.Conn
	closed    chan struct{}
	closeOnce sync.Once
}

func (h *half) Accept() (net.Conn, error) {
	select {
	case c := <-h.ch:
		return c, nil
	case <-h.closed:
		return nil, net.ErrClosed
	case <-h.s.done:
		h.s.mu.Lock()
		defer h.s.mu.Unlock()
		if h.s.err != nil && !errors.Is(h.s.err, net.ErrClosed) {
			return nil, h.s.err
		}
		return nil, net.ErrClosed
	}
}

func (h *half) Close() error {
	h.closeOnce.Do(func() {
		close(h.closed)
		h.s.mu.Lock()
		h.s.open--
		last := h.s.open == 0
		h.s.mu.Unlock()
		if last {
			h.s.finish()
		}
	})
	return nil
}

func (h *half) Addr() net.Addr { return h.s.l.Addr() }

// prefixedConn is a connection whose first bytes were read already.
type prefixedConn struct {
	net.Conn
	r io.Reader
}

func (c *prefixedConn) Read(p []byte) (int, error) { return c.r.Read(p) }
