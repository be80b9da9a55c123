package transcoder

import (
	"context"
	"net/http"
	"strconv"
	"strings"

	"github.com/grpc-ecosystem/grpc-gateway/v2/runtime"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/proto"
)

// A method whose responses stream (server streaming, and bidi) answers
// with Server-Sent Events (the HTML standard's text/event-stream, what
// EventSource reads) when the client's Accept asks for text/event-stream;
// without it the answer is NDJSON as before. The events:
//
//   - each response message is one event with no name (EventSource's
//     "message"), its data the message's JSON on one line: what NDJSON
//     puts under "result" (response_body applies);
//   - the call's end is the last event, named "status", its data the gRPC
//     status as grpc-gateway's error body writes it:
//     {"code":0,"message":"","details":[]} for OK, the code, message and
//     details otherwise. EventSource reconnects when a stream ends: close
//     it on this event.
//
// Each event is flushed as it is written. A call that fails before the
// backend stream exists (a bad request, the backend down) gets a plain
// HTTP error, as with NDJSON; once it exists, the response is 200 and an
// error is the status event. Routes whose response is google.api.HttpBody
// stream raw bytes as before: they have no JSON to put in events.

// wantsEventStream reports whether the client's Accept lists
// text/event-stream (and not with q=0).
func wantsEventStream(r *http.Request) bool {
	for _, v := range r.Header["Accept"] {
		for _, part := range strings.Split(v, ",") {
			mt, params, _ := strings.Cut(part, ";")
			if !strings.EqualFold(strings.TrimSpace(mt), "text/event-stream") {
				continue
			}
			if q, ok := qValue(params); ok && q == 0 {
				continue
			}
			return true
		}
	}
	return false
}

// qValue reads the q parameter of an Accept entry's parameters.
func qValue(params string) (float64, bool) {
	for _, p := range strings.Split(params, ";") {
		k, v, ok := strings.Cut(strings.TrimSpace(p), "=")
		if ok && strings.EqualFold(strings.TrimSpace(k), "q") {
			q, err := strconv.ParseFloat(strings.TrimSpace(v), 64)
			return q, err == nil
		}
	}
	return 0, false
}

// startEvents writes the event stream's headers (status 200).
func (s *httpStream) startEvents(md runtime.ServerMetadata) {
	writePolicyHeaders(s.w, s.ctx)
	h := s.w.Header()
	writeHeaderMD(h, md)
	h.Set("Content-Type", "text/event-stream")
	h.Set("Cache-Control", "no-cache")
	// Proxies that buffer responses (nginx) would hold events back.
	h.Set("X-Accel-Buffering", "no")
	s.w.WriteHeader(http.StatusOK)
}

// sendEvent writes one response message as an event (s.mu held).
func (s *httpStream) sendEvent(msg proto.Message) error {
	if !s.wrote {
		s.startEvents(runtime.ServerMetadata{HeaderMD: httpSafe(s.header)})
		s.wrote = true
	}
	var buf []byte
	var err error
	if s.rt.respPath == nil {
		buf, err = s.t.json.Append(s.buf[:0], msg.ProtoReflect())
		s.buf = buf
	} else {
		buf, err = s.t.marshaler.Marshal(responsePayload(s.rt, msg))
	}
	if err != nil {
		return status.Error(codes.Internal, "internal error")
	}
	return s.writeEvent("", buf)
}

// writeEvent writes one event, named name ("" for a message), and
// flushes it. JSON from the encoders is one line; should data ever hold a
// line break, each line is a data line of its own, which the client joins
// back with "\n".
func (s *httpStream) writeEvent(name string, data []byte) error {
	ev := s.event[:0]
	if name != "" {
		ev = append(append(append(ev, "event: "...), name...), '\n')
	}
	ev = append(ev, "data: "...)
	for i := 0; i < len(data); i++ {
		switch c := data[i]; c {
		case '\r', '\n':
			if c == '\r' && i+1 < len(data) && data[i+1] == '\n' {
				i++
			}
			ev = append(ev, "\ndata: "...)
		default:
			ev = append(ev, c)
		}
	}
	ev = append(ev, "\n\n"...)
	s.event = ev
	s.t.setWriteDeadline(s.w)
	if _, err := s.w.Write(ev); err != nil {
		return errClientGone
	}
	if err := http.NewResponseController(s.w).Flush(); err != nil {
		return errClientGone
	}
	return nil
}

// finishEvents ends an event stream with the status event (s.mu held).
func (s *httpStream) finishEvents(ctx context.Context, err error, md runtime.ServerMetadata) {
	if err != nil && !s.wrote && !s.opened {
		s.t.writeError(ctx, s.w, s.r, err)
		return
	}
	if !s.wrote {
		s.startEvents(md)
		s.wrote = true
	}
	body, merr := s.t.marshaler.Marshal(status.Convert(err).Proto())
	if merr != nil {
		body = []byte(`{"code":13,"message":"failed to marshal error message","details":[]}`)
	}
	_ = s.writeEvent("status", body)
}
