package compression

import (
	"bufio"
	"net"
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/klauspost/compress/gzhttp"
	"github.com/klauspost/compress/gzip"
)

// Handler wraps the REST door (and whatever shares its listener and
// speaks plain HTTP content codings: Connect's unary calls): request
// bodies with a Content-Encoding are decompressed as read (onError
// answers an unknown one), and responses are compressed with the best
// algorithm the client's Accept-Encoding takes among those offered, once
// they reach MinBytes, with Vary: Accept-Encoding. A flush (each message
// of an NDJSON or SSE stream) flushes the compressor: the client gets
// every message as it is sent. Bodies of protocols that compress their
// own messages (gRPC, gRPC-Web, Connect streams) are left alone.
func (c *Compression) Handler(next http.Handler, onError func(http.ResponseWriter, *http.Request, error)) (http.Handler, error) {
	decoded := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if err := DecodeRequest(r); err != nil {
			onError(w, r, err)
			return
		}
		g := newTrailerGuard(w)
		defer g.close()
		next.ServeHTTP(g, r)
	})
	return c.answers(decoded)
}

// Answers wraps a handler whose requests are decoded elsewhere (Connect's
// unary calls, whose Content-Encoding the translator reads itself) so
// that its answers are compressed as the REST door's are. An answer that
// already has a Content-Encoding (a compressed call answered in its own
// coding) is left as it is.
func (c *Compression) Answers(next http.Handler) (http.Handler, error) {
	return c.answers(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		g := newTrailerGuard(w)
		defer g.close()
		next.ServeHTTP(g, r)
	}))
}

// answers compresses what next writes, by the client's Accept-Encoding.
func (c *Compression) answers(next http.Handler) (http.Handler, error) {
	if c == nil || len(c.algorithms) == 0 {
		return next, nil
	}
	wrap, err := gzhttp.NewWrapper(
		gzhttp.MinSize(c.minBytes),
		gzhttp.CompressionLevel(gzip.DefaultCompression),
		gzhttp.EnableGzip(c.offers(Gzip)),
		gzhttp.EnableZstd(c.offers(Zstd)),
		gzhttp.PreferZstd(c.algorithms[0] == Zstd),
		gzhttp.ContentTypeFilter(compressible),
	)
	if err != nil {
		return nil, err
	}
	return wrap(next), nil
}

// compressible reports whether a response of content type ct is
// compressed: not media that is compressed already (gzhttp's list), not
// the framed protocols, which compress message by message.
func compressible(ct string) bool {
	l := strings.ToLower(ct)
	if strings.HasPrefix(l, "application/grpc") || strings.HasPrefix(l, "application/connect+") {
		return false
	}
	return gzhttp.DefaultContentTypeFilter(ct)
}

// trailerGuard sends a response that declares trailers uncompressed:
// gzhttp holds the status line until it has min_bytes to decide, so
// trailer values set after the body would go out as headers.
//
// It also keeps a door goroutine that outlives its handler (a stream's
// reader setting a header or a read deadline as the call ends) away from
// gzhttp's writer, which is reset and pooled once the handler returns:
// the header map and the deadlines are reached without it.
type trailerGuard struct {
	http.ResponseWriter
	h     http.Header
	inner http.ResponseWriter // the writer under gzhttp's
	// mu orders the calls into gzhttp's writer before close, which runs
	// as the handler returns; after it they do nothing.
	mu     sync.RWMutex
	closed bool
}

// newTrailerGuard wraps w: one allocation per request (the guard, its
// lock and flag together; the ResponseControllers it needs are made on
// the stack when used).
func newTrailerGuard(w http.ResponseWriter) *trailerGuard {
	inner := w
	if u, ok := w.(interface{ Unwrap() http.ResponseWriter }); ok {
		inner = u.Unwrap()
	}
	return &trailerGuard{ResponseWriter: w, h: w.Header(), inner: inner}
}

// close ends the use of gzhttp's writer (the handler returned).
func (t *trailerGuard) close() {
	t.mu.Lock()
	t.closed = true
	t.mu.Unlock()
}

// open takes the read lock and reports whether the writer may be used;
// the caller unlocks.
func (t *trailerGuard) open() bool {
	t.mu.RLock()
	return !t.closed
}

func (t *trailerGuard) Header() http.Header { return t.h }

func (t *trailerGuard) declare() {
	if len(t.h["Trailer"]) > 0 {
		t.h.Set(gzhttp.HeaderNoCompression, "1")
	}
}

func (t *trailerGuard) WriteHeader(code int) {
	defer t.mu.RUnlock()
	if t.open() {
		t.declare()
		t.ResponseWriter.WriteHeader(code)
	}
}

func (t *trailerGuard) Write(b []byte) (int, error) {
	defer t.mu.RUnlock()
	if !t.open() {
		return 0, http.ErrHandlerTimeout
	}
	t.declare()
	return t.ResponseWriter.Write(b)
}

// Flush goes through gzhttp: its compressor is flushed first.
func (t *trailerGuard) Flush() {
	defer t.mu.RUnlock()
	if t.open() {
		_ = http.NewResponseController(t.ResponseWriter).Flush()
	}
}

func (t *trailerGuard) Hijack() (net.Conn, *bufio.ReadWriter, error) {
	return http.NewResponseController(t.inner).Hijack()
}

func (t *trailerGuard) SetReadDeadline(d time.Time) error {
	return http.NewResponseController(t.inner).SetReadDeadline(d)
}

func (t *trailerGuard) SetWriteDeadline(d time.Time) error {
	return http.NewResponseController(t.inner).SetWriteDeadline(d)
}

func (t *trailerGuard) EnableFullDuplex() error {
	return http.NewResponseController(t.inner).EnableFullDuplex()
}

func (t *trailerGuard) Unwrap() http.ResponseWriter { return t.ResponseWriter }
