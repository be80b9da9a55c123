package transcoder

import (
	"bytes"
	"context"
	"errors"
	"io"
	"net/http"
	"strings"
	"sync"
	"time"
	"unicode/utf8"

	"github.com/coder/websocket"
	"github.com/portico-gw/portico/call"
	"github.com/portico-gw/portico/crossorigin"
	"github.com/portico-gw/portico/transcoder/router"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/metadata"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/proto"
)

// A streaming method's route also serves WebSocket (RFC 6455, through
// github.com/coder/websocket) when the request asks to upgrade: browsers
// can stream both ways, which fetch cannot. The protocol:
//
//   - the handshake is a GET on the method's route whatever its HTTP
//     method, and runs after the gate (a refused call gets the usual JSON
//     error and no upgrade);
//   - each message is one JSON text frame, both ways (the message as the
//     REST door writes it; response_body applies; a google.api.HttpBody
//     response is a binary frame of its data);
//   - the request of a server-streaming call is the first frame; the
//     fields the route's path and query set win over it; an empty frame
//     there means "no body";
//   - the client half-closes its side with an empty text frame (a close
//     frame ends the whole connection and cancels the call); the server's
//     remaining messages follow;
//   - the call's gRPC status ends the connection in the close frame: 1000
//     for OK, 4000 + the code otherwise (4003 INVALID_ARGUMENT, 4005
//     NOT_FOUND, ...), the status message as the reason (cut to 123 bytes);
//   - the door's limits hold per message: MaxBodyBytes, the JSON depth and
//     value limits, the budget for large messages; the first message must
//     arrive within BodyTimeout, and each message, once started, must be
//     read whole within it;
//   - origins: crossorigin.Origins.WebSocket decides, from
//     Options.WebSocketOrigins (the config's cors.allowed_origins): the
//     request's own origin, no Origin at all (not a browser) and the
//     origins listed by name are accepted; with "*", any other origin
//     only without ambient credentials (cookies, Authorization, a client
//     certificate), so a foreign page cannot stream as the browser's user
//     (cross-site WebSocket hijacking). A refusal is 403 in JSON.

// isWebSocket reports whether r asks for a WebSocket: a GET with
// "Upgrade: websocket". The rest of the handshake is checked by Accept.
func isWebSocket(r *http.Request) bool {
	if r.Method != http.MethodGet {
		return false
	}
	for _, v := range r.Header["Upgrade"] {
		for _, tok := range strings.Split(v, ",") {
			if strings.EqualFold(strings.TrimSpace(tok), "websocket") {
				return true
			}
		}
	}
	return false
}

// lookupWebSocket finds a streaming method's route for a WebSocket
// handshake on path when no GET route matched: allowed are the methods
// that match path (Lookup's). A WebSocket always opens with a GET, so a
// stream bound to POST is reached on its own route.
func lookupWebSocket(routes hostView, path string, allowed []string) (router.Match[*route], bool) {
	for _, m := range allowed {
		if match, _, found := routes.Lookup(m, path); found && match.Value.m.Streaming() {
			return match, true
		}
	}
	return router.Match[*route]{}, false
}

// wsAccept is how handshakes are accepted: the origin is decided by
// crossorigin (coder/websocket's own check compares hosts only and lets
// every origin in for "*"), the rest of the handshake by Accept.
type wsAccept struct {
	origins *crossorigin.Origins
	opts    *websocket.AcceptOptions
}

// acceptOptions reads origins written as cors.allowed_origins.
func acceptOptions(origins []string) *wsAccept {
	return &wsAccept{
		origins: crossorigin.NewOrigins(origins),
		opts:    &websocket.AcceptOptions{InsecureSkipVerify: true}, // checked by origins
	}
}

// serveWebSocket upgrades the call to a WebSocket and runs it over the
// method's pipeline; first is what the path and query set (server
// streaming), nil for client and bidi streams.
func (t *Transcoder) serveWebSocket(ctx context.Context, w http.ResponseWriter, r *http.Request, rt *route, first proto.Message) {
	writePolicyHeaders(w, ctx)
	if err := t.ws.origins.WebSocket(r); err != nil {
		if info := call.FromContext(ctx); info != nil {
			info.Refusal = "csrf" // cross-site WebSocket hijacking is its WebSocket form
		}
		t.writeError(ctx, w, r, status.Error(codes.PermissionDenied, err.Error()))
		return
	}
	hw := &handshakeWriter{ResponseWriter: w}
	conn, err := websocket.Accept(hw, r, t.ws.opts)
	if err != nil {
		if hw.status != 0 {
			t.writeError(ctx, w, r, handshakeError(hw.status, hw.body))
		}
		return
	}
	// Our own limit (readMessage) reports an oversized message as the
	// call's status; the library's is a backstop one byte further.
	conn.SetReadLimit(t.opts.MaxBodyBytes + 1)
	s := &wsStream{
		t: t, conn: conn, rt: rt, first: first,
		frames:   make(chan []byte),
		readDone: make(chan struct{}),
	}
	// The connection outlives the call's context (a shutdown cancels the
	// call, which then closes the connection with its status): reads and
	// writes use connCtx, which only ends with the connection.
	s.connCtx, s.connCancel = context.WithCancel(context.WithoutCancel(ctx))
	callCtx, cancel := context.WithCancelCause(ctx)
	s.cancel = cancel
	s.ctx = grpc.NewContextWithServerTransportStream(callCtx, wsTransport{method: rt.m.FullMethod()})
	go s.readLoop()
	err = rt.pm.Stream(s)
	s.end(err)
}

// handshakeWriter lets Accept write the 101 and hijack the connection,
// and keeps a refusal (a bad handshake, an origin not allowed) so the door
// writes it in JSON like every other error.
type handshakeWriter struct {
	http.ResponseWriter
	status int
	body   []byte
}

func (h *handshakeWriter) WriteHeader(code int) {
	if code == http.StatusSwitchingProtocols {
		h.ResponseWriter.WriteHeader(code)
		return
	}
	h.status = code
}

func (h *handshakeWriter) Write(b []byte) (int, error) {
	if h.status == 0 {
		return h.ResponseWriter.Write(b)
	}
	h.body = append(h.body, b...)
	return len(b), nil
}

// Unwrap lets Accept reach the server's http.Hijacker.
func (h *handshakeWriter) Unwrap() http.ResponseWriter { return h.ResponseWriter }

// handshakeError is the status for a refused handshake, with its HTTP
// status (426, 400, 403, 501) kept.
func handshakeError(httpStatus int, body []byte) error {
	c := codes.InvalidArgument
	switch httpStatus {
	case http.StatusForbidden:
		c = codes.PermissionDenied
	case http.StatusNotImplemented:
		c = codes.Unimplemented
	}
	msg := strings.TrimSpace(string(body))
	if msg == "" {
		msg = http.StatusText(httpStatus)
	}
	return call.WithHTTPStatus(httpStatus, status.New(c, msg))
}

// wsStream is a grpc.ServerStream over a WebSocket. One goroutine
// (readLoop) reads the connection for the whole call, so a close frame or
// a lost client is noticed whatever the pipeline is doing; it hands each
// message over unbuffered, so no more than one is read ahead of the
// pipeline.
type wsStream struct {
	t     *Transcoder
	conn  *websocket.Conn
	rt    *route
	first proto.Message
	ctx   context.Context
	// cancel ends the call (the pipeline and the backend call), with the
	// client's error as the cause.
	cancel     context.CancelCauseFunc
	connCtx    context.Context
	connCancel context.CancelFunc
	frames     chan []byte // messages read; an empty one half-closes
	readDone   chan struct{}
	failMu     sync.Mutex
	failure    error // the client's fault that ended the call, if any
	recvMu     sync.Mutex
	eof        bool
	held       func() // the budget taken for the message last decoded
	sendMu     sync.Mutex
	buf        []byte
}

// errClientGone ends a call whose client closed the connection or lost it.
var errClientGone = status.Error(codes.Canceled, "client went away")

// fail ends the call because of the client (a bad frame, a message too
// large or too slow, a message after the half-close, the client gone);
// the first reason is the call's status.
func (s *wsStream) fail(err error) {
	s.failMu.Lock()
	if s.failure == nil {
		s.failure = err
	}
	s.failMu.Unlock()
	s.cancel(err)
}

func (s *wsStream) failed() error {
	s.failMu.Lock()
	defer s.failMu.Unlock()
	return s.failure
}

// readLoop reads the client's frames until the connection ends or the
// client breaks the protocol.
func (s *wsStream) readLoop() {
	defer close(s.readDone)
	serverOnly := !s.rt.m.Desc().IsStreamingClient()
	halfClosed := false
	for n := 0; ; n++ {
		data, err := s.readMessage(n == 0)
		if err != nil {
			s.fail(err)
			return
		}
		if halfClosed {
			if len(data) == 0 {
				continue // half-closed again: nothing changes
			}
			if serverOnly {
				s.fail(status.Error(codes.InvalidArgument, "a server-streaming call takes one request message"))
			} else {
				s.fail(status.Error(codes.InvalidArgument, "message after the half-close (an empty frame)"))
			}
			return
		}
		halfClosed = serverOnly || len(data) == 0
		select {
		case s.frames <- data:
		case <-s.ctx.Done():
			return
		}
	}
}

// readMessage reads the next message's payload, at most MaxBodyBytes,
// within BodyTimeout once it started (and the first one within
// BodyTimeout of the upgrade). All-white-space counts as empty. An error
// is the call's status.
func (s *wsStream) readMessage(first bool) ([]byte, error) {
	timeout := s.t.opts.BodyTimeout
	var timer *time.Timer
	expired := func() {
		s.fail(call.WithHTTPStatus(http.StatusRequestTimeout, status.New(codes.DeadlineExceeded, "request message not received in time")))
	}
	if first && timeout > 0 {
		timer = time.AfterFunc(timeout, expired)
	}
	typ, rd, err := s.conn.Reader(s.connCtx)
	if err != nil {
		if timer != nil {
			timer.Stop()
		}
		return nil, errClientGone
	}
	if timer == nil && timeout > 0 {
		timer = time.AfterFunc(timeout, expired)
	}
	data, err := readAllLimited(rd, nil, s.t.opts.MaxBodyBytes)
	if timer != nil && !timer.Stop() {
		return nil, s.failed() // too slow: expired has set the status
	}
	var tooBig *http.MaxBytesError
	switch {
	case errors.As(err, &tooBig):
		return nil, tooLarge(s.t.opts.MaxBodyBytes)
	case err != nil:
		return nil, errClientGone
	case typ != websocket.MessageText:
		return nil, status.Error(codes.InvalidArgument, "binary frames are not supported: send each message as a JSON text frame")
	}
	if len(bytes.TrimSpace(data)) == 0 {
		return nil, nil
	}
	return data, nil
}

func (s *wsStream) Context() context.Context { return s.ctx }

// Header metadata cannot reach a WebSocket client: the handshake's
// response is sent before the backend is called. Trailers neither.
func (s *wsStream) SetHeader(metadata.MD) error  { return nil }
func (s *wsStream) SendHeader(metadata.MD) error { return nil }
func (s *wsStream) SetTrailer(metadata.MD)       {}

// RecvMsg decodes the client's next message (checked against the JSON
// limits, with room in the door's budget). io.EOF once the client
// half-closed; a server-streaming call receives its one request.
func (s *wsStream) RecvMsg(m any) error {
	s.recvMu.Lock()
	defer s.recvMu.Unlock()
	dst, ok := m.(proto.Message)
	if !ok {
		return status.Error(codes.Internal, "internal error")
	}
	if s.eof {
		return io.EOF
	}
	var data []byte
	select {
	case data = <-s.frames:
	case <-s.ctx.Done():
		if err := s.failed(); err != nil {
			return err
		}
		return status.FromContextError(s.ctx.Err()).Err()
	}
	serverOnly := !s.rt.m.Desc().IsStreamingClient()
	if serverOnly {
		s.eof = true
	} else if len(data) == 0 {
		s.eof = true
		return io.EOF
	}
	if len(data) > 0 {
		if err := s.decode(data, dst); err != nil {
			return err
		}
	}
	if serverOnly && s.first != nil {
		proto.Merge(dst, s.first) // the path's and query's fields win
	}
	return nil
}

// decode decodes one frame's JSON message into dst.
func (s *wsStream) decode(data []byte, dst proto.Message) error {
	end, values, err := scanJSONValues(data, s.t.limits)
	if err != nil {
		return err
	}
	if len(bytes.TrimSpace(data[end:])) > 0 {
		return status.Error(codes.InvalidArgument, "a frame carries one JSON message, got more")
	}
	s.releaseHeld()
	release, err := call.FromContext(s.ctx).Admit(s.ctx, decodedCost(data, values))
	if err != nil {
		return err
	}
	s.held = release
	return s.t.unmarshalJSON(data[:end], data, dst)
}

func (s *wsStream) releaseHeld() {
	if s.held != nil {
		s.held()
		s.held = nil
	}
}

// SendMsg writes one response message as a frame, within WriteTimeout.
func (s *wsStream) SendMsg(m any) error {
	msg, ok := m.(proto.Message)
	if !ok {
		return status.Error(codes.Internal, "internal error")
	}
	s.sendMu.Lock()
	defer s.sendMu.Unlock()
	typ := websocket.MessageText
	var buf []byte
	var err error
	switch {
	case s.rt.respIsHTTPBody:
		typ = websocket.MessageBinary
		_, buf = httpBodyParts(responseValue(s.rt, msg.ProtoReflect()))
	case s.rt.respPath == nil:
		buf, err = s.t.json.Append(s.buf[:0], msg.ProtoReflect())
		s.buf = buf
	default:
		buf, err = s.t.marshaler.Marshal(responsePayload(s.rt, msg))
	}
	if err != nil {
		return status.Error(codes.Internal, "internal error")
	}
	ctx := s.connCtx
	if s.t.opts.WriteTimeout > 0 {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, s.t.opts.WriteTimeout)
		defer cancel()
	}
	if err := s.conn.Write(ctx, typ, buf); err != nil {
		return errClientGone
	}
	return nil
}

// end closes the connection with the call's status, once the pipeline
// returned err; the client's own fault, when there was one, explains the
// end better than what it made the backend call return.
func (s *wsStream) end(err error) {
	if f := s.failed(); f != nil {
		err = f
	}
	err = shutdownError(s.ctx, err)
	s.cancel(nil) // the reader stops handing messages over
	code, reason := closeStatus(err)
	_ = s.conn.Close(code, reason)
	s.connCancel()
	<-s.readDone
	s.recvMu.Lock()
	s.releaseHeld()
	s.recvMu.Unlock()
}

// maxCloseReason is the most a close frame's reason may hold (125 bytes
// of payload, 2 of them the code).
const maxCloseReason = 123

// closeStatus is the close frame for a call's status: 1000 for OK, 4000 +
// the gRPC code otherwise, the message as the reason, cut to fit on a
// UTF-8 boundary.
func closeStatus(err error) (websocket.StatusCode, string) {
	if err == nil {
		return websocket.StatusNormalClosure, ""
	}
	st := status.Convert(err)
	c := st.Code()
	if c > 999 {
		c = codes.Unknown
	}
	reason := strings.ToValidUTF8(st.Message(), "\uFFFD")
	if len(reason) > maxCloseReason {
		cut := maxCloseReason
		for cut > 0 && !utf8.RuneStart(reason[cut]) {
			cut--
		}
		reason = reason[:cut]
	}
	return websocket.StatusCode(4000 + int(c)), reason
}

// wsTransport lets grpc.SetHeader and friends work on the call's
// context; like the stream, it has nowhere to send metadata.
type wsTransport struct{ method string }

func (t wsTransport) Method() string               { return t.method }
func (t wsTransport) SetHeader(metadata.MD) error  { return nil }
func (t wsTransport) SendHeader(metadata.MD) error { return nil }
func (t wsTransport) SetTrailer(metadata.MD) error { return nil }
