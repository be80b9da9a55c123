package compression

import (
	"bufio"
	"net"
	"net/http"
	"strings"

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
		if err := decodeRequest(r); err != nil {
			onError(w, r, err)
			return
		}
		next.ServeHTTP(trailerGuard{w}, r)
	})
	if c == nil || len(c.algorithms) == 0 {
		return decoded, nil
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
	return wrap(decoded), nil
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
type trailerGuard struct{ http.ResponseWriter }

func (t trailerGuard) declare() {
	if h := t.Header(); len(h["Trailer"]) > 0 {
		h.Set(gzhttp.HeaderNoCompression, "1")
	}
}

func (t trailerGuard) WriteHeader(code int) {
	t.declare()
	t.ResponseWriter.WriteHeader(code)
}

func (t trailerGuard) Write(b []byte) (int, error) {
	t.declare()
	return t.ResponseWriter.Write(b)
}

func (t trailerGuard) Flush() { _ = http.NewResponseController(t.ResponseWriter).Flush() }

func (t trailerGuard) Hijack() (net.Conn, *bufio.ReadWriter, error) {
	return http.NewResponseController(t.ResponseWriter).Hijack()
}

func (t trailerGuard) Unwrap() http.ResponseWriter { return t.ResponseWriter }
