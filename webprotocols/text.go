package webprotocols

import (
	"bytes"
	"encoding/base64"
	"errors"
	"io"
	"net/http"
	"strings"
)

// gRPC-Web's text variant (application/grpc-web-text) is the binary
// protocol in base64, both ways. vanguard v0.4.0 speaks only the binary
// one, so the text is decoded on the way in and encoded on the way out
// here: the standard library's base64, in chunks, since a client may send
// (and a server sends) several separately padded chunks.

const textPrefix = "application/grpc-web-text"

func isText(r *http.Request) bool {
	return strings.HasPrefix(r.Header.Get("Content-Type"), textPrefix)
}

// textAdapter turns a gRPC-Web text request into a binary one and its
// response back into text.
func textAdapter(w http.ResponseWriter, r *http.Request) (http.ResponseWriter, *http.Request) {
	ct := r.Header.Get("Content-Type")
	r.Header.Set("Content-Type", "application/grpc-web"+strings.TrimPrefix(ct, textPrefix))
	r.Header.Del("Content-Length")
	r.ContentLength = -1
	r.Body = &textBody{src: r.Body}
	return &textWriter{ResponseWriter: w}, r
}

// errBadBase64 ends a call whose body is not base64.
var errBadBase64 = errors.New("grpc-web-text: the body is not base64")

// textBody decodes a base64 body made of one or more padded chunks.
type textBody struct {
	src io.ReadCloser
	in  []byte // encoded bytes not decoded yet (less than a group)
	out []byte // decoded bytes not read yet
	err error
	buf [4096]byte
}

func (b *textBody) Read(p []byte) (int, error) {
	for len(b.out) == 0 {
		if b.err != nil {
			return 0, b.err
		}
		n, err := b.src.Read(b.buf[:])
		b.in = append(b.in, b.buf[:n]...)
		if err := b.decode(); err != nil {
			b.err = err
			return 0, err
		}
		if err != nil {
			if err == io.EOF && len(b.in) > 0 {
				err = errBadBase64 // a partial group
			}
			b.err = err
		}
	}
	n := copy(p, b.out)
	b.out = b.out[n:]
	return n, nil
}

// decode decodes the whole groups of b.in, a padded group ending a chunk.
func (b *textBody) decode() error {
	whole := len(b.in) / 4 * 4
	chunk := b.in[:whole]
	for len(chunk) > 0 {
		end := len(chunk)
		if i := bytes.IndexByte(chunk, '='); i >= 0 {
			end = i/4*4 + 4
		}
		dst := make([]byte, base64.StdEncoding.DecodedLen(end))
		n, err := base64.StdEncoding.Decode(dst, chunk[:end])
		if err != nil {
			return errBadBase64
		}
		b.out = append(b.out, dst[:n]...)
		chunk = chunk[end:]
	}
	b.in = append(b.in[:0], b.in[whole:]...)
	return nil
}

func (b *textBody) Close() error { return b.src.Close() }

// textWriter encodes each write as its own padded base64 chunk, so a
// stream's messages reach the client as they are flushed.
type textWriter struct {
	http.ResponseWriter
	wroteHeader bool
}

func (w *textWriter) WriteHeader(code int) {
	if !w.wroteHeader {
		w.wroteHeader = true
		h := w.Header()
		if ct := h.Get("Content-Type"); strings.HasPrefix(ct, "application/grpc-web") {
			h.Set("Content-Type", textPrefix+strings.TrimPrefix(ct, "application/grpc-web"))
		}
		h.Del("Content-Length")
	}
	w.ResponseWriter.WriteHeader(code)
}

func (w *textWriter) Write(p []byte) (int, error) {
	if !w.wroteHeader {
		w.WriteHeader(http.StatusOK)
	}
	if len(p) == 0 {
		return 0, nil
	}
	enc := make([]byte, base64.StdEncoding.EncodedLen(len(p)))
	base64.StdEncoding.Encode(enc, p)
	if _, err := w.ResponseWriter.Write(enc); err != nil {
		return 0, err
	}
	return len(p), nil
}

// Flush sends what was written (a stream's message).
func (w *textWriter) Flush() {
	if f, ok := w.ResponseWriter.(http.Flusher); ok {
		f.Flush()
	}
}

// Unwrap lets http.ResponseController reach the connection's writer.
func (w *textWriter) Unwrap() http.ResponseWriter { return w.ResponseWriter }
