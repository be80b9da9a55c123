package transcoder

import (
	"context"
	"net/http"
	"net/textproto"
	"strings"
	"sync"
	"time"

	"github.com/grpc-ecosystem/grpc-gateway/v2/runtime"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/reflect/protoreflect"
)

// writeResponse writes a unary response as grpc-gateway's
// ForwardResponseMessage does, with response_body and HttpBody handled from
// descriptors (grpc-gateway needs generated methods for both).
func (t *Transcoder) writeResponse(ctx context.Context, w http.ResponseWriter, r *http.Request, rt *route, md runtime.ServerMetadata, resp proto.Message) {
	writePolicyHeaders(w, ctx)
	h := w.Header()
	writeHeaderMD(h, md)
	trailers := acceptsTrailers(r)
	if trailers {
		declareTrailers(h, md)
	}
	var (
		buf         []byte
		contentType string
		err         error
	)
	if rt.respIsHTTPBody {
		hb := responseValue(rt, resp.ProtoReflect())
		contentType, buf = httpBodyParts(hb)
		t.httpBodyHeaders(h)
	} else {
		contentType = "application/json"
		if rt.respPath == nil {
			// The common case: the message itself, in protojson's output
			// with grpc-gateway's options (jsonenc, a faster encoder held
			// byte-equal to protojson), straight into a pooled buffer.
			bp := bufPool.Get().(*[]byte)
			defer putBuf(bp)
			buf, err = t.json.Append((*bp)[:0], resp.ProtoReflect())
			*bp = buf
		} else {
			buf, err = t.marshaler.Marshal(responsePayload(rt, resp))
		}
	}
	if err != nil {
		t.writeError(runtime.NewServerMetadataContext(ctx, md), w, r, err)
		return
	}
	h.Set("Content-Type", contentType)
	t.setWriteDeadline(w)
	_, _ = w.Write(buf)
	if trailers {
		writeTrailers(h, md)
	}
}

// declareTrailers announces the call's trailer metadata as Grpc-Trailer-*
// trailers (and chunks the body, which trailers need).
func declareTrailers(h http.Header, md runtime.ServerMetadata) {
	for k := range md.TrailerMD {
		h.Add("Trailer", textproto.CanonicalMIMEHeaderKey(runtime.MetadataTrailerPrefix+k))
	}
	h.Set("Transfer-Encoding", "chunked")
}

// writeTrailers sets the declared trailers' values once the body is
// written.
func writeTrailers(h http.Header, md runtime.ServerMetadata) {
	for k, vs := range md.TrailerMD {
		for _, v := range vs {
			h.Add(runtime.MetadataTrailerPrefix+k, v)
		}
	}
}

// bufPool holds response buffers between calls.
var bufPool = sync.Pool{New: func() any { b := make([]byte, 0, 1024); return &b }}

// putBuf returns a buffer to the pool unless it grew large: one big
// response should not pin its memory for good.
func putBuf(bp *[]byte) {
	if cap(*bp) <= 64<<10 {
		bufPool.Put(bp)
	}
}

// setWriteDeadline bounds the next writes by WriteTimeout: a client that
// stops reading does not hold the call (a recorder in tests cannot set
// one and is left alone).
func (t *Transcoder) setWriteDeadline(w http.ResponseWriter) {
	if t.opts.WriteTimeout > 0 {
		_ = http.NewResponseController(w).SetWriteDeadline(time.Now().Add(t.opts.WriteTimeout))
	}
}

func acceptsTrailers(r *http.Request) bool {
	return strings.Contains(strings.ToLower(r.Header.Get("TE")), "trailers")
}

// responseValue returns the message response_body selects (or the whole
// response); for a non-message field, nil.
func responseValue(rt *route, resp protoreflect.Message) protoreflect.Message {
	if rt.respPath == nil {
		return resp
	}
	m := resp
	for _, fd := range rt.respPath {
		if fd.Message() == nil || fd.IsList() || fd.IsMap() {
			return nil
		}
		m = m.Get(fd).Message()
	}
	return m
}

// responsePayload is what gets marshalled: the message, or the field that
// response_body selects in the shape grpc-gateway's generated
// XXX_ResponseBody returns (a message, a slice of messages, a scalar).
func responsePayload(rt *route, resp proto.Message) any {
	if rt.respPath == nil {
		return resp
	}
	m := resp.ProtoReflect()
	for _, fd := range rt.respPath[:len(rt.respPath)-1] {
		m = m.Get(fd).Message()
	}
	fd := rt.respPath[len(rt.respPath)-1]
	v := m.Get(fd)
	switch {
	case fd.IsList() && fd.Message() != nil:
		list := v.List()
		if list.Len() == 0 {
			return []proto.Message(nil)
		}
		out := make([]proto.Message, list.Len())
		for i := range out {
			out[i] = list.Get(i).Message().Interface()
		}
		return out
	case fd.IsList():
		list := v.List()
		out := make([]any, list.Len())
		for i := range out {
			out[i] = list.Get(i).Interface()
		}
		return out
	case fd.Message() != nil && !fd.IsMap():
		return v.Message().Interface()
	case fd.Enum() != nil:
		if ev := fd.Enum().Values().ByNumber(v.Enum()); ev != nil {
			return string(ev.Name())
		}
		return int32(v.Enum())
	default:
		return v.Interface()
	}
}

// httpBodyHeaders sets what every google.api.HttpBody answer carries
// beside the Content-Type its backend chose (text/html, image/svg+xml:
// anything, served from the API's origin): X-Content-Type-Options:
// nosniff, so the browser keeps to that type, and the configured
// Content-Security-Policy (default "sandbox": a page shown from it runs no
// script, submits no form, and has an origin of its own).
func (t *Transcoder) httpBodyHeaders(h http.Header) {
	h.Set("X-Content-Type-Options", "nosniff")
	switch csp := t.opts.HTTPBodyCSP; csp {
	case "":
		h.Set("Content-Security-Policy", "sandbox")
	case "off":
	default:
		h.Set("Content-Security-Policy", csp)
	}
}

// httpBodyParts reads google.api.HttpBody's content type and data.
func httpBodyParts(m protoreflect.Message) (string, []byte) {
	if m == nil {
		return "application/octet-stream", nil
	}
	fields := m.Descriptor().Fields()
	return m.Get(fields.ByName("content_type")).String(), m.Get(fields.ByName("data")).Bytes()
}
