package compression

import (
	"io"
	"net/http"
	"strconv"
	"strings"

	"github.com/klauspost/compress/gzip"
	"github.com/klauspost/compress/zstd"
	"github.com/portico-gw/portico/call"
	"google.golang.org/grpc/codes"
)

// DecodeRequest replaces r's body, sent with a Content-Encoding of gzip or
// zstd, by its decompressed stream (read as the door reads it: the door's
// body limit bounds what is decompressed) and drops the header and the
// length, which described the compressed bytes. It refuses (415) an
// encoding it does not know; identity, or none, leaves r alone.
func DecodeRequest(r *http.Request) error {
	ce := strings.ToLower(strings.TrimSpace(strings.Join(r.Header.Values("Content-Encoding"), ",")))
	switch ce {
	case "", Identity:
		return nil
	case Gzip, Zstd:
	default:
		return call.Refuse(http.StatusUnsupportedMediaType, codes.InvalidArgument,
			"unsupported Content-Encoding "+quote(ce)+" (gzip, zstd or identity)")
	}
	r.Header.Del("Content-Encoding")
	r.Header.Del("Content-Length")
	r.ContentLength = -1
	if r.Body == nil || r.Body == http.NoBody {
		return nil
	}
	r.Body = &lazyDecoder{src: r.Body, gzip: ce == Gzip}
	return nil
}

// lazyDecoder decompresses src, starting at the first read (a body left
// unread costs nothing).
type lazyDecoder struct {
	src  io.ReadCloser
	gzip bool
	r    io.Reader
	zd   *zstd.Decoder
	err  error
}

func (l *lazyDecoder) Read(p []byte) (int, error) {
	if l.r == nil && l.err == nil {
		l.start()
	}
	if l.err != nil {
		return 0, l.err
	}
	return l.r.Read(p)
}

func (l *lazyDecoder) start() {
	if l.gzip {
		gz, err := gzip.NewReader(l.src)
		l.r, l.err = gz, err
		return
	}
	zd, err := newDecoder()
	if err == nil {
		err = zd.Reset(l.src)
	}
	l.r, l.zd, l.err = zd, zd, err
}

func (l *lazyDecoder) Close() error {
	if l.zd != nil {
		l.zd.Close()
	}
	return l.src.Close()
}

// quote keeps a client's header value short in an error message.
func quote(s string) string {
	if len(s) > 32 {
		s = s[:32] + "..."
	}
	return strconv.Quote(s)
}
