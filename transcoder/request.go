package transcoder

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"strings"
	"time"

	"github.com/grpc-ecosystem/grpc-gateway/v2/runtime"
	"github.com/portico-gw/portico/call"
	"github.com/portico-gw/portico/transcoder/params"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/encoding/protojson"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/reflect/protoreflect"
)

// decodeRequest builds the request message of a unary or server-streaming
// call, in grpc-gateway's order: body, automatic update_mask, path
// variables, query parameters. form: the body is a form, whose values are
// bound with the query's (form.go).
func (t *Transcoder) decodeRequest(w http.ResponseWriter, r *http.Request, rt *route, vars []string, form bool) (proto.Message, error) {
	req := rt.m.Input().New()
	var body []byte
	var formText string
	var err error
	switch {
	case form:
		if body, err = t.readBody(w, r); err != nil {
			return nil, err
		}
		if rt.body != bodyWhole {
			formText = string(body)
		}
		body = nil // the route's body, if any, stays empty
	case rt.body != bodyNone:
		if body, err = t.readBody(w, r); err != nil {
			return nil, err
		}
	default:
		if err := t.drainBody(w, r); err != nil {
			return nil, err
		}
	}
	query := ""
	if rt.body != bodyWhole {
		// Without the parameters a policy consumed (an API key given in
		// the query is not bound into the message).
		query = call.FromContext(r.Context()).QueryForBackend(r.URL.RawQuery)
		if err := t.params.Check(formText, query); err != nil {
			return nil, err
		}
	}
	// A large request holds room in the door's budget for the rest of the
	// call: decoding (and the response) multiply its size in memory. A
	// body is charged by its bytes and its JSON values; a query (and a
	// form) by its bytes and the values it may set.
	var cost int64
	if len(body) > 0 {
		cost = int64(len(body))
		if !rt.bodyIsHTTPBody {
			_, values, err := scanJSONValues(body, t.limits)
			if err != nil && !errors.Is(err, io.EOF) {
				return nil, err
			}
			cost = decodedCost(body, values)
		}
	}
	if formText != "" || query != "" {
		cost += int64(len(formText)+len(query)) + int64(params.Values(formText)+params.Values(query))*decodedValueCost
	}
	if cost > 0 {
		release, err := call.FromContext(r.Context()).Admit(r.Context(), cost)
		if err != nil {
			return nil, err
		}
		context.AfterFunc(r.Context(), release)
	}
	if rt.body != bodyNone {
		if err := t.decodeBody(req, rt, body, r.Header.Get("Content-Type")); err != nil {
			return nil, err
		}
	}
	for i, v := range rt.vars {
		if v.list {
			// A repeated field: comma-separated values, each decoded on
			// its own (an escaped comma, %2C, stays in its value).
			for _, part := range strings.Split(vars[i], ",") {
				val, err := unescape(part, v.multi)
				if err != nil {
					return nil, err
				}
				if err := t.params.Set(req, v.path, val); err != nil {
					return nil, err
				}
			}
			continue
		}
		val, err := unescape(vars[i], v.multi)
		if err != nil {
			return nil, err
		}
		if err := t.params.Set(req, v.path, val); err != nil {
			return nil, err
		}
	}
	if formText != "" || query != "" {
		if err := t.params.Form(req, formText, query, rt.skip); err != nil {
			return nil, err
		}
	}
	msg := req.Interface()
	// The backend must get what the client sent: an encoded message over
	// the body limit (an HttpBody upload just under it, say) is 413 here,
	// not a backend's "message larger than max". JSON is never smaller
	// than its binary form by much, so only large bodies are measured.
	if r.ContentLength < 0 || r.ContentLength > t.opts.MaxBodyBytes/2 || rt.bodyIsHTTPBody {
		if n := proto.Size(msg); int64(n) > t.opts.MaxBodyBytes {
			return nil, tooLarge(t.opts.MaxBodyBytes)
		}
	}
	return msg, nil
}

// readBody reads the whole body, at most MaxBodyBytes and within
// BodyTimeout (or the call's deadline, if sooner): a client that sends its
// body a byte at a time does not hold the connection for ever.
func (t *Transcoder) readBody(w http.ResponseWriter, r *http.Request) ([]byte, error) {
	var body []byte
	err := t.withBody(w, r, func(limit int64) (err error) {
		var buf []byte
		if r.ContentLength > 0 {
			buf = make([]byte, 0, r.ContentLength+1)
		}
		body, err = readAllLimited(r.Body, buf, limit)
		return err
	})
	return body, err
}

// drainBody reads the body of a request whose route takes none to its end
// and drops it, within the same bounds as a body that is used (413, 408),
// as grpc-gateway's handlers read it to the end: a body left unread would
// keep net/http from noticing that the client went away during the call
// (it watches the connection only once the body is read), and would hold
// the connection for as long as the client takes to send it.
func (t *Transcoder) drainBody(w http.ResponseWriter, r *http.Request) error {
	return t.withBody(w, r, func(limit int64) error {
		n, err := io.CopyN(io.Discard, r.Body, limit+1)
		switch {
		case n > limit:
			return &http.MaxBytesError{Limit: limit}
		case errors.Is(err, io.EOF):
			return nil
		}
		return err
	})
}

// withBody runs read, which reads r's body, within the body's bounds: a
// declared Content-Length over MaxBodyBytes is refused before anything is
// read, and the reads get BodyTimeout (or the call's deadline). A body
// that could not be read to its end is left unread: net/http would
// otherwise try to drain it before answering, waiting on the very client
// that is too slow or too large; the connection is closed instead
// (closeAfter).
func (t *Transcoder) withBody(w http.ResponseWriter, r *http.Request, read func(limit int64) error) error {
	if r.Body == nil || r.Body == http.NoBody {
		return nil
	}
	limit := t.opts.MaxBodyBytes
	if r.ContentLength > limit {
		closeAfter(w, r)
		return tooLarge(limit)
	}
	rc := http.NewResponseController(w)
	if t.setReadDeadline(r.Context(), rc) {
		// Cleared once read: a read deadline left on the connection would
		// cancel the call while the backend answers.
		defer rc.SetReadDeadline(time.Time{})
	}
	if err := read(limit); err != nil {
		closeAfter(w, r)
		return bodyError(err, limit)
	}
	return nil
}

// closeAfter asks for the connection to be closed after the response, on
// HTTP/1: the request's body is left unread. On HTTP/2 nothing is needed
// (net/http resets the stream once the handler returns, refusing the
// rest of the body, and other streams go on); a "Connection: close" there
// would make net/http end the whole connection (GOAWAY).
func closeAfter(w http.ResponseWriter, r *http.Request) {
	if r.ProtoMajor == 1 {
		w.Header().Set("Connection", "close")
	}
}

// setReadDeadline bounds the next reads from the body by BodyTimeout or
// ctx's deadline, whichever is sooner. It reports whether a deadline was
// set (a ResponseWriter that cannot set one, in tests, is left alone).
func (t *Transcoder) setReadDeadline(ctx context.Context, rc *http.ResponseController) bool {
	var dl time.Time
	if t.opts.BodyTimeout > 0 {
		dl = time.Now().Add(t.opts.BodyTimeout)
	}
	if cdl, ok := ctx.Deadline(); ok && (dl.IsZero() || cdl.Before(dl)) {
		dl = cdl
	}
	if dl.IsZero() {
		return false
	}
	return rc.SetReadDeadline(dl) == nil
}

// readAllLimited reads r to the end into buf; more than limit bytes is a
// *http.MaxBytesError.
func readAllLimited(r io.Reader, buf []byte, limit int64) ([]byte, error) {
	for {
		if len(buf) == cap(buf) {
			buf = append(buf, 0)[:len(buf)]
		}
		n, err := r.Read(buf[len(buf):cap(buf)])
		buf = buf[:len(buf)+n]
		if int64(len(buf)) > limit {
			return nil, &http.MaxBytesError{Limit: limit}
		}
		if err == io.EOF {
			return buf, nil
		}
		if err != nil {
			return nil, err
		}
	}
}

// bodyError words a failure to read a body.
func bodyError(err error, limit int64) error {
	var tooBig *http.MaxBytesError
	if errors.As(err, &tooBig) {
		return tooLarge(limit)
	}
	if errors.Is(err, os.ErrDeadlineExceeded) {
		return call.WithHTTPStatus(http.StatusRequestTimeout, status.New(codes.DeadlineExceeded, "request body not received in time"))
	}
	return status.Errorf(codes.InvalidArgument, "reading request body: %v", err)
}

// tooLarge is the 413 for a body or message over the limit:
// RESOURCE_EXHAUSTED, as the gRPC door answers a message over the limit.
func tooLarge(limit int64) error {
	return call.WithHTTPStatus(http.StatusRequestEntityTooLarge, status.Newf(codes.ResourceExhausted, "request body larger than %d bytes", limit))
}

func (t *Transcoder) decodeBody(req protoreflect.Message, rt *route, body []byte, contentType string) error {
	if rt.body == bodyWhole {
		if rt.bodyIsHTTPBody {
			setHTTPBody(req, body, contentType)
			return nil
		}
		if err := t.decodeJSON(body, req.Interface()); err != nil && !errors.Is(err, io.EOF) {
			return err
		}
		return nil
	}
	parent := req
	for _, fd := range rt.bodyPath[:len(rt.bodyPath)-1] {
		parent = parent.Mutable(fd).Message()
	}
	fd := rt.bodyPath[len(rt.bodyPath)-1]
	if rt.bodyIsHTTPBody {
		sub := parent.NewField(fd).Message()
		setHTTPBody(sub, body, contentType)
		parent.Set(fd, protoreflect.ValueOfMessage(sub))
		return nil
	}
	if fd.Message() != nil && !fd.IsList() && !fd.IsMap() {
		sub := parent.NewField(fd).Message()
		err := t.decodeJSON(body, sub.Interface())
		if errors.Is(err, io.EOF) {
			// Empty body: the field stays unset, as in grpc-gateway, and a
			// PATCH gets an empty update_mask.
			if rt.patchMask != nil && !hasMaskPaths(req, rt.patchMask) {
				setMask(req, rt.patchMask, nil)
			}
			return nil
		}
		if err != nil {
			return err
		}
		parent.Set(fd, protoreflect.ValueOfMessage(sub))
		if rt.patchMask != nil && !hasMaskPaths(req, rt.patchMask) {
			fm, err := runtime.FieldMaskFromRequestBody(bytes.NewReader(body), sub.Interface())
			if err != nil {
				return status.Errorf(codes.InvalidArgument, "%v", err)
			}
			setMask(req, rt.patchMask, fm.GetPaths())
		}
		return nil
	}
	// A scalar, repeated or map field: decode it as the value of that key.
	var raw bytes.Buffer
	if len(bytes.TrimSpace(body)) == 0 {
		return nil
	}
	end, err := scanJSON(body, t.limits)
	if err != nil {
		return err
	}
	fmt.Fprintf(&raw, "{%q:%s}", fd.JSONName(), bytes.TrimSpace(body[:end]))
	tmp := parent.New()
	if err := (protojson.UnmarshalOptions{DiscardUnknown: true, RecursionLimit: t.opts.RecursionLimit, Resolver: t.types}).Unmarshal(raw.Bytes(), tmp.Interface()); err != nil {
		return status.Errorf(codes.InvalidArgument, "%v", err)
	}
	parent.Set(fd, tmp.Get(fd))
	return nil
}

// decodeJSON decodes the first JSON value of body into msg, after
// checking it against the JSON limits. io.EOF means an empty body.
func (t *Transcoder) decodeJSON(body []byte, msg proto.Message) error {
	end, err := scanJSON(body, t.limits)
	if err != nil {
		return err
	}
	return t.unmarshalJSON(body[:end], body, msg)
}

func setHTTPBody(m protoreflect.Message, data []byte, contentType string) {
	fields := m.Descriptor().Fields()
	m.Set(fields.ByName("content_type"), protoreflect.ValueOfString(contentType))
	m.Set(fields.ByName("data"), protoreflect.ValueOfBytes(data))
}

func hasMaskPaths(req protoreflect.Message, fd protoreflect.FieldDescriptor) bool {
	if !req.Has(fd) {
		return false
	}
	fm := req.Get(fd).Message()
	return fm.Get(fm.Descriptor().Fields().ByName("paths")).List().Len() > 0
}

func setMask(req protoreflect.Message, fd protoreflect.FieldDescriptor, paths []string) {
	fm := req.NewField(fd).Message()
	list := fm.Mutable(fm.Descriptor().Fields().ByName("paths")).List()
	for _, p := range paths {
		list.Append(protoreflect.ValueOfString(p))
	}
	req.Set(fd, protoreflect.ValueOfMessage(fm))
}

// noDeadline clears a read deadline.
var noDeadline time.Time
