package webprotocols

import (
	"bytes"
	"errors"
	"io"
	"net/http"
	"os"
	"time"

	"connectrpc.com/connect"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
)

// A request body must arrive within limits.body_timeout (or the call's
// deadline, if sooner), as on the REST door and the gRPC door: a client
// that sends it a byte at a time, or never, does not hold its goroutine
// and connection for as long as it likes. The bound is the connection's
// read deadline (http.ResponseController), armed before the body is read
// and cleared once it is read: left armed, it would end the call while
// the backend answers. Only the body of a method that takes one message
// (unary, server streaming) is bounded; a client stream's body lasts as
// long as the stream.

// errBodyTimeout is a body read past its deadline; a connect.Error so
// vanguard, reading a body itself, reports its code too.
var errBodyTimeout = connect.NewError(connect.CodeDeadlineExceeded, errors.New("request message not received in time"))

// timedBody is a request body read under a deadline.
type timedBody struct {
	io.ReadCloser
	rc    http.ResponseController
	w     http.ResponseWriter
	r     *http.Request
	armed bool
}

// timeBody arms w's read deadline for r's body, which it wraps, and
// returns the body, whose disarm clears the deadline (it clears it
// itself when it ends). A request without a body, or a writer that
// cannot set a deadline, is left alone: nil (whose disarm does nothing).
func (e *Edge) timeBody(w http.ResponseWriter, r *http.Request) *timedBody {
	if e.bodyTimeout <= 0 || r.Body == nil || r.Body == http.NoBody {
		return nil
	}
	dl := time.Now().Add(e.bodyTimeout)
	if cdl, ok := r.Context().Deadline(); ok && cdl.Before(dl) {
		dl = cdl
	}
	b := &timedBody{ReadCloser: r.Body, rc: *http.NewResponseController(w), w: w, r: r, armed: true}
	if b.rc.SetReadDeadline(dl) != nil {
		return nil
	}
	r.Body = b
	return b
}

func (b *timedBody) Read(p []byte) (int, error) {
	n, err := b.ReadCloser.Read(p)
	switch {
	case err == nil:
	case errors.Is(err, os.ErrDeadlineExceeded):
		// The rest of the body is left unread: on HTTP/1 the connection
		// closes after the answer (net/http would wait for it otherwise).
		b.armed = false
		if b.r.ProtoMajor == 1 {
			b.w.Header().Set("Connection", "close")
		}
		err = errBodyTimeout
	default:
		b.disarm()
	}
	return n, err
}

// disarm clears the read deadline, once.
func (b *timedBody) disarm() {
	if b != nil && b.armed {
		b.armed = false
		_ = b.rc.SetReadDeadline(time.Time{})
	}
}

// readUnary reads the body of a Connect unary call vanguard serves (a GET
// has none) within its deadline, bounded, and puts it back as bytes:
// past vanguard, a body read out of time is a cancelled call.
// Compressed, it is bounded by what a body that decompresses to at most
// the message limit can take (deflate's stored blocks add 5 bytes per
// 64 KiB, gzip 18 in all); vanguard bounds the decompressed message.
func (e *Edge) readUnary(r *http.Request) error {
	if r.Body == nil || r.Body == http.NoBody {
		return nil
	}
	limit := e.maxMessage + e.maxMessage/8192 + 64
	b, err := readBounded(r, limit+1)
	switch {
	case errors.Is(err, errBodyTimeout):
		return status.Error(codes.DeadlineExceeded, errBodyTimeout.Message())
	case err != nil:
		if ctxErr := r.Context().Err(); ctxErr != nil {
			return status.FromContextError(ctxErr).Err()
		}
		return status.Error(codes.Canceled, err.Error())
	case int64(len(b)) > limit:
		return status.Errorf(codes.ResourceExhausted, "message is larger than configured max %d", e.maxMessage)
	}
	r.Body = io.NopCloser(bytes.NewReader(b))
	return nil
}
