package server

import (
	"io"
	"net"
	"net/http"
	"sync"
	"sync/atomic"
	"time"
)

// A refused request frees its connection. When the REST door answers an
// HTTP/1 request before reading its body to the end — a 408 or 413, a
// gate's 401/403/429, a 404 or 405, a 431, a plain route whose backend
// answered first — net/http would keep the connection and read the rest of
// the body (up to 256 KiB) after the handler returns, waiting on a client
// that may trickle it for ever. Instead the answer says "Connection: close"
// and, once the handler is done, the connection's read deadline is set to
// now, so net/http stops reading at once and closes the connection after
// the answer. Requests whose body was read to its end keep their
// connection. A full-duplex exchange (a bidi stream) whose answer starts
// before the body ends is closed after it too: what is left of the body
// cannot be told from the next request.
//
// The close itself is graceful (lingerListener): a connection closed while
// the client still sends would otherwise be reset (RST) by the kernel,
// and the client could lose the answer it had not read yet.
//
// HTTP/2 needs nothing: once the handler returns, net/http resets a stream
// whose body the client is still sending (RST_STREAM NO_ERROR after the
// answer, RFC 9113 §8.1), which refuses the rest of its DATA, and the
// connection goes on serving its other streams. (A "Connection: close"
// there would make net/http send GOAWAY for the whole connection.)

// guardConn wraps w and r for one request when it has an HTTP/1 body; it
// returns them unchanged otherwise. done must run once the handler
// returned.
func guardConn(w http.ResponseWriter, r *http.Request) (http.ResponseWriter, *http.Request, func()) {
	if r.ProtoMajor != 1 || r.Body == nil || r.Body == http.NoBody || r.Header.Get("Upgrade") != "" {
		return w, r, func() {}
	}
	body := &watchedBody{ReadCloser: r.Body}
	r.Body = body
	g := &connGuard{ResponseWriter: w, body: body}
	return g, r, g.done
}

// watchedBody is a request body that notes when it was read to its end.
// Closed before that, it only stops reads: net/http's own Close would read
// on (up to 256 KiB), waiting on the client, while the handler still runs
// (httputil.ReverseProxy closes the body it forwarded before it returns).
// net/http closes the body itself after the handler, once done has
// stopped its reads.
type watchedBody struct {
	io.ReadCloser
	eof    atomic.Bool
	closed atomic.Bool
	// reading is held during a read of the body, so that done can wait
	// for one in flight (a proxy's transport may still be reading the
	// body it forwards when the handler returns).
	reading sync.Mutex
}

func (b *watchedBody) Read(p []byte) (int, error) {
	b.reading.Lock()
	defer b.reading.Unlock()
	if b.closed.Load() {
		return 0, http.ErrBodyReadAfterClose
	}
	n, err := b.ReadCloser.Read(p)
	if err == io.EOF {
		b.eof.Store(true)
	}
	return n, err
}

func (b *watchedBody) Close() error {
	if b.eof.Load() {
		return b.ReadCloser.Close()
	}
	b.closed.Store(true)
	return nil
}

// connGuard is the ResponseWriter of an HTTP/1 request with a body: when
// the final status is written with the body unread, it asks for the
// connection to be closed. Unwrap keeps http.ResponseController working
// (deadlines, flushing, full duplex, hijacking).
type connGuard struct {
	http.ResponseWriter
	body  *watchedBody
	wrote bool // a final (non-1xx) status was written
}

func (g *connGuard) WriteHeader(code int) {
	if !g.wrote && code >= 200 {
		g.wrote = true
		if !g.body.eof.Load() {
			g.Header().Set("Connection", "close")
		}
	}
	g.ResponseWriter.WriteHeader(code)
}

func (g *connGuard) Write(p []byte) (int, error) {
	if !g.wrote {
		g.WriteHeader(http.StatusOK)
	}
	return g.ResponseWriter.Write(p)
}

// Flush is for code that type-asserts http.Flusher rather than using
// http.ResponseController.
func (g *connGuard) Flush() {
	if !g.wrote {
		g.WriteHeader(http.StatusOK)
	}
	_ = http.NewResponseController(g.ResponseWriter).Flush()
}

func (g *connGuard) Unwrap() http.ResponseWriter { return g.ResponseWriter }

// done runs after the handler: with the body still unread, net/http must
// not wait for it. The read deadline ends a read still in flight, and
// done waits for it: net/http clears the deadline again after the handler
// if it finds a read in flight (it takes it for its own background read),
// and would then wait for the body.
func (g *connGuard) done() {
	if g.body.eof.Load() {
		return
	}
	if !g.wrote {
		g.Header().Set("Connection", "close") // net/http writes the 200 itself
	}
	g.body.closed.Store(true)
	_ = http.NewResponseController(g.ResponseWriter).SetReadDeadline(time.Now())
	g.body.reading.Lock() // a read in flight holds it until the deadline ends it
	defer g.body.reading.Unlock()
}

// lingerTime is how long a closed REST connection keeps reading (and
// dropping) what the client still sends, as net/http's own
// closeWriteAndWait waits.
const lingerTime = 500 * time.Millisecond

// lingerListener closes each connection in two steps, as RFC 9112 §9.6
// asks of a server that closes while the client may still be sending:
// first the write side, so the client reads the whole answer and then EOF
// at once; then, once what the client still sends has been read and
// dropped for at most lingerTime (or the client closed its side too), the
// whole connection. Without it, closing a socket with unread data makes
// the kernel reset the connection, and a client still writing its body
// (one refused with a 413, say) can get "connection reset" instead of the
// answer.
type lingerListener struct{ net.Listener }

func (l lingerListener) Accept() (net.Conn, error) {
	c, err := l.Listener.Accept()
	if err != nil {
		return nil, err
	}
	if tc, ok := c.(*net.TCPConn); ok {
		return &lingerConn{TCPConn: tc}, nil
	}
	return c, nil
}

// lingerConn is a TCP connection whose Close lingers (see lingerListener).
type lingerConn struct {
	*net.TCPConn
	once sync.Once
	// halfClosed: net/http closed the write side and waited itself
	// (closeWriteAndWait); Close need not linger again.
	halfClosed atomic.Bool
}

func (c *lingerConn) CloseWrite() error {
	c.halfClosed.Store(true)
	return c.TCPConn.CloseWrite()
}

// Close closes the write side and returns; the connection is fully
// closed within lingerTime.
func (c *lingerConn) Close() error {
	c.once.Do(func() {
		if c.halfClosed.Load() || c.TCPConn.CloseWrite() != nil {
			_ = c.TCPConn.Close()
			return
		}
		go func() {
			_ = c.TCPConn.SetReadDeadline(time.Now().Add(lingerTime))
			_, _ = io.Copy(io.Discard, c.TCPConn)
			_ = c.TCPConn.Close()
		}()
	})
	return nil
}

// parkAfter is how long an idle keep-alive HTTP/1.1 connection stays
// net/http's before it is parked (idlepark): a client whose next request
// comes sooner is served as without parking (parking at once on every
// request cost the REST door about 1.5× its CPU per call under load);
// one idle longer costs a few KB instead of about 20 while it waits.
// Short, because connections opened in a burst each hold net/http's
// buffers and goroutine until then, and the process keeps that memory:
// 10,000 idle connections cost 12.56 KB each with 500 ms, 11.86 KB with
// 100 ms and 10.61 KB with 50 ms (go run ./bench -conns section).
const parkAfter = 50 * time.Millisecond
