package webprotocols

import (
	"bytes"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"

	"connectrpc.com/connect"
	"github.com/portico-gw/portico/catalog"
	"google.golang.org/grpc/codes"
)

// A gRPC-Web or Connect streaming request whose method takes one message
// (unary and server streaming) is read whole here, bounded, and its
// envelope checked before vanguard sees it: a truncated envelope, bad
// base64 or an oversize message is the client's error (INVALID_ARGUMENT,
// RESOURCE_EXHAUSTED) in the client's protocol, and nothing reaches the
// gRPC door. (Past vanguard, a body that ends early is an INTERNAL or
// UNAVAILABLE from grpc-go's transport, as if the server had failed.)

// errTruncated is a body that ends inside an envelope, or holds more
// than the one message the method takes.
var errTruncated = errors.New("the body is not one whole message envelope")

// oneEnvelope reads r's body (at most limit message bytes) and checks it
// is one envelope; the body is replaced by the bytes read.
func oneEnvelope(r *http.Request, limit int64) (codes.Code, error) {
	b, code, err := readEnvelope(r, limit)
	if err != nil {
		return code, err
	}
	r.Body = io.NopCloser(bytes.NewReader(b))
	return codes.OK, nil
}

// readEnvelope reads r's body (at most limit message bytes) and checks
// it is one envelope, which it returns.
func readEnvelope(r *http.Request, limit int64) ([]byte, codes.Code, error) {
	b, err := readBounded(r, limit+6)
	if err != nil {
		switch {
		case errors.Is(err, errBadBase64):
			return nil, codes.InvalidArgument, err
		case errors.Is(err, errBodyTimeout):
			return nil, codes.DeadlineExceeded, errBodyTimeout.Unwrap()
		}
		return nil, codes.Canceled, err
	}
	if int64(len(b)) > limit+5 {
		return nil, codes.ResourceExhausted, fmt.Errorf("the message is larger than %d bytes", limit)
	}
	if len(b) < 5 || b[0]&^1 != 0 || int(binary.BigEndian.Uint32(b[1:5])) != len(b)-5 {
		return nil, codes.InvalidArgument, errTruncated
	}
	return b, codes.OK, nil
}

// readBounded reads at most n bytes of r's body, in one allocation when
// the body's length is known (and its end with the last bytes: net/http
// says EOF with them).
func readBounded(r *http.Request, n int64) ([]byte, error) {
	size := int64(512)
	if r.ContentLength >= 0 && r.ContentLength < n {
		size = r.ContentLength + 1
	}
	buf := make([]byte, 0, min(size, n))
	for int64(len(buf)) < n {
		if len(buf) == cap(buf) {
			buf = append(buf, 0)[:len(buf)]
		}
		m, err := r.Body.Read(buf[len(buf):min(int64(cap(buf)), n)])
		buf = buf[:len(buf)+m]
		if errors.Is(err, io.EOF) {
			return buf, nil
		}
		if err != nil {
			return buf, err
		}
	}
	return buf, nil
}

// takesOneMessage reports whether the method at r's path takes a single
// request message.
func takesOneMessage(cat *catalog.Catalog, r *http.Request) bool {
	m := cat.Method(r.URL.Path)
	return m != nil && !m.Desc().IsStreamingClient()
}

// writeEnvelopeError answers a request refused before translation in its
// own protocol: gRPC-Web's status in the headers (a trailers-only
// response), Connect's end-of-stream message.
func writeEnvelopeError(w http.ResponseWriter, r *http.Request, code codes.Code, err error) {
	ct := r.Header.Get("Content-Type")
	h := w.Header()
	h.Set("Content-Type", ct)
	if !strings.HasPrefix(ct, "application/connect+") {
		h.Set("Grpc-Status", fmt.Sprint(uint32(code)))
		h.Set("Grpc-Message", err.Error())
		w.WriteHeader(http.StatusOK)
		return
	}
	end, _ := json.Marshal(map[string]any{"error": map[string]string{"code": connectCode(code), "message": err.Error()}})
	frame := make([]byte, 5, 5+len(end))
	frame[0] = 2 // end of stream
	binary.BigEndian.PutUint32(frame[1:], uint32(len(end)))
	w.WriteHeader(http.StatusOK)
	_, _ = w.Write(append(frame, end...))
}

// connectCode is a code's name in Connect: snake case.
func connectCode(c codes.Code) string { return connect.Code(c).String() }
