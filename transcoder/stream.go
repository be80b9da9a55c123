package transcoder

import (
	"context"
	"io"
	"net/http"
	"sync"

	"github.com/grpc-ecosystem/grpc-gateway/v2/runtime"
	"github.com/portico-gw/portico/catalog"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/metadata"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/proto"
)

// serveStream runs a streaming method over HTTP, as grpc-gateway does:
// client messages are the request (server streaming) or newline-delimited
// JSON objects from the body (client and bidi streaming); a server stream
// answers with newline-delimited {"result": …} objects ({"error": …} when
// it fails), a client stream with one JSON message. A response stream is
// Server-Sent Events instead when the client asks for text/event-stream
// (sse.go); a WebSocket handshake runs the call over WebSocket
// (websocket.go).
func (t *Transcoder) serveStream(ctx context.Context, w http.ResponseWriter, r *http.Request, rt *route, first proto.Message) {
	if isWebSocket(r) {
		t.serveWebSocket(ctx, w, r, rt, first)
		return
	}
	s := &httpStream{t: t, w: w, r: r, rt: rt}
	s.sse = rt.m.Desc().IsStreamingServer() && !rt.respIsHTTPBody && wantsEventStream(r)
	if first != nil {
		s.pending = first
	}
	if rt.m.Desc().IsStreamingClient() {
		// The body's messages are decoded one at a time as the pipeline
		// asks for them, so a long body is never held whole; the first one
		// is read (and validated) before the backend stream is opened.
		if rt.m.Desc().IsStreamingServer() {
			// Bidi: read the request body while writing the response.
			_ = http.NewResponseController(w).EnableFullDuplex()
		}
		s.dec = t.newJSONDecoder(ctx, w, r.Body)
	}
	ctx = catalog.WithStreamOpened(ctx, func() {
		s.mu.Lock()
		s.opened = true
		s.mu.Unlock()
	})
	s.ctx = grpc.NewContextWithServerTransportStream(ctx, &streamTransport{s: s, method: rt.m.FullMethod()})
	err := rt.pm.Stream(s)
	s.finish(err)
	if s.dec != nil {
		s.dec.close()
	}
}

// httpStream is a grpc.ServerStream over an HTTP exchange.
type httpStream struct {
	t   *Transcoder
	w   http.ResponseWriter
	r   *http.Request
	rt  *route
	ctx context.Context
	// pending is the decoded request of a server-streaming call, until the
	// pipeline receives it; dec, for client and bidi streams, decodes the
	// body's messages as they are asked for.
	pending proto.Message
	dec     *jsonDecoder

	recvMu sync.Mutex

	mu      sync.Mutex
	header  metadata.MD
	trailer metadata.MD
	wrote   bool          // response started (NDJSON)
	ended   bool          // finish ran: the response is net/http's again
	opened  bool          // the backend stream was opened
	buf     []byte        // reused for each NDJSON line
	single  proto.Message // the one response of a client-streaming call
	sse     bool          // answer with Server-Sent Events, not NDJSON
	event   []byte        // reused for each event
}

func (s *httpStream) Context() context.Context { return s.ctx }

func (s *httpStream) SetHeader(md metadata.MD) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.header = metadata.Join(s.header, md)
	return nil
}

func (s *httpStream) SendHeader(md metadata.MD) error { return s.SetHeader(md) }

func (s *httpStream) SetTrailer(md metadata.MD) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.trailer = metadata.Join(s.trailer, md)
}

func (s *httpStream) RecvMsg(m any) error {
	s.recvMu.Lock()
	defer s.recvMu.Unlock()
	dst, ok := m.(proto.Message)
	if !ok {
		return status.Error(codes.Internal, "internal error")
	}
	if s.pending != nil {
		proto.Merge(dst, s.pending)
		s.pending = nil
		return nil
	}
	if s.dec == nil {
		return io.EOF
	}
	err := s.dec.Decode(dst)
	if s.dec.broken {
		s.mu.Lock()
		// A read that ends after finish (a backend stream's pump still
		// reading when the client went away) must not touch the headers:
		// net/http and the edges write them once the handler returned.
		if !s.wrote && !s.ended {
			closeAfter(s.w, s.r) // see withBody
		}
		s.mu.Unlock()
	}
	return err
}

func (s *httpStream) SendMsg(m any) error {
	msg, ok := m.(proto.Message)
	if !ok {
		return status.Error(codes.Internal, "internal error")
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if !s.rt.m.Desc().IsStreamingServer() {
		s.single = msg
		return nil
	}
	if s.sse {
		return s.sendEvent(msg)
	}
	if !s.wrote {
		writePolicyHeaders(s.w, s.ctx)
		h := s.w.Header()
		writeHeaderMD(h, runtime.ServerMetadata{HeaderMD: httpSafe(s.header)})
		h.Set("Transfer-Encoding", "chunked")
		if s.rt.respIsHTTPBody {
			ct, _ := httpBodyParts(responseValue(s.rt, msg.ProtoReflect()))
			h.Set("Content-Type", ct)
			s.t.httpBodyHeaders(h)
		} else {
			h.Set("Content-Type", "application/json")
		}
	}
	var buf []byte
	if s.rt.respIsHTTPBody {
		_, buf = httpBodyParts(responseValue(s.rt, msg.ProtoReflect()))
	} else {
		var err error
		if s.rt.respPath == nil {
			buf = append(s.buf[:0], `{"result":`...)
			buf, err = s.t.json.Append(buf, msg.ProtoReflect())
			buf = append(buf, '}')
			s.buf = buf
		} else {
			buf, err = s.t.marshaler.Marshal(map[string]any{"result": responsePayload(s.rt, msg)})
		}
		if err != nil {
			return status.Error(codes.Internal, "internal error")
		}
	}
	s.wrote = true
	s.t.setWriteDeadline(s.w)
	if _, err := s.w.Write(buf); err != nil {
		return status.Error(codes.Canceled, "client went away")
	}
	if _, err := s.w.Write([]byte("\n")); err != nil {
		return status.Error(codes.Canceled, "client went away")
	}
	if err := http.NewResponseController(s.w).Flush(); err != nil {
		return status.Error(codes.Canceled, "client went away")
	}
	return nil
}

// finish ends the exchange once the pipeline returned.
func (s *httpStream) finish(err error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.ended = true
	s.t.setWriteDeadline(s.w) // the last chunk, and the end of the body
	err = shutdownError(s.ctx, err)
	md := runtime.ServerMetadata{HeaderMD: httpSafe(s.header), TrailerMD: httpSafe(s.trailer)}
	ctx := runtime.NewServerMetadataContext(s.ctx, md)
	if !s.rt.m.Desc().IsStreamingServer() {
		// Client streaming: one response, written like a unary one.
		if err == nil && s.single == nil {
			err = status.Error(codes.Internal, "internal error")
		}
		if err != nil {
			s.t.writeError(ctx, s.w, s.r, err)
			return
		}
		s.t.writeResponse(ctx, s.w, s.r, s.rt, md, s.single)
		return
	}
	if s.sse {
		s.finishEvents(ctx, err, md)
		return
	}
	if err == nil {
		if !s.wrote {
			// No message: headers only, as grpc-gateway does.
			writePolicyHeaders(s.w, s.ctx)
			h := s.w.Header()
			writeHeaderMD(h, md)
			h.Set("Transfer-Encoding", "chunked")
		}
		return
	}
	if !s.wrote && !s.opened {
		// The call failed before the backend stream existed (a bad
		// request, the backend down): a plain error response, as
		// grpc-gateway gives. Once the backend ended the stream, the error
		// is an {"error": …} object, also as grpc-gateway gives.
		s.t.writeError(ctx, s.w, s.r, err)
		return
	}
	st := status.Convert(err)
	buf, merr := s.t.marshaler.Marshal(map[string]proto.Message{"error": st.Proto()})
	if merr != nil {
		return
	}
	if !s.wrote {
		writePolicyHeaders(s.w, s.ctx)
		h := s.w.Header()
		writeHeaderMD(h, md)
		h.Set("Transfer-Encoding", "chunked")
		h.Set("Content-Type", "application/json")
		s.w.WriteHeader(s.t.httpStatus(s.rt.m, st.Code()))
	}
	_, _ = s.w.Write(buf)
	_, _ = s.w.Write([]byte("\n"))
}

// streamTransport lets grpc.SetHeader/SetTrailer work on a REST stream's
// context, as they do on the gRPC door.
type streamTransport struct {
	s      *httpStream
	method string
}

func (t *streamTransport) Method() string                  { return t.method }
func (t *streamTransport) SetHeader(md metadata.MD) error  { return t.s.SetHeader(md) }
func (t *streamTransport) SendHeader(md metadata.MD) error { return t.s.SendHeader(md) }
func (t *streamTransport) SetTrailer(md metadata.MD) error { t.s.SetTrailer(md); return nil }
