package transcoder

import (
	"context"
	"errors"
	"net/http"

	"github.com/grpc-ecosystem/grpc-gateway/v2/runtime"
	"github.com/portico-gw/portico/call"
	"github.com/portico-gw/portico/catalog"
	"github.com/portico-gw/portico/responsemap"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/types/known/anypb"
)

// writeError is the one place an error becomes an HTTP response: a gRPC
// status, mapped to HTTP by grpc-gateway's table and written as its JSON
// error body ({"code","message","details"}) with the call's metadata as
// Grpc-Metadata-* headers. A *runtime.HTTPStatusError overrides the HTTP
// status (405, 413, 414). Once the call is routed, its method's response
// mapping applies: its HTTP status overrides (after the door's own
// statuses: a 413 stays a 413) and its error format (RFC 9457
// problem+json).
func (t *Transcoder) writeError(ctx context.Context, w http.ResponseWriter, r *http.Request, err error) {
	writePolicyHeaders(w, ctx)
	if code, _, ok := call.HTTPStatusOf(err); ok && code == http.StatusNotModified {
		// A conditional GET the client already holds the answer to (the
		// response cache): the answer's headers, no body.
		if md, ok := runtime.ServerMetadataFromContext(ctx); ok {
			writeHeaderMD(w.Header(), md)
		}
		w.WriteHeader(code)
		return
	}
	// An error body can quote the request; the browser keeps to JSON.
	w.Header().Set("X-Content-Type-Options", "nosniff")
	// Refusals made before the edges (a full door) get them here.
	t.opts.Gateway.SetHeaders(w.Header())
	err = shutdownError(ctx, err)
	own := !call.IsFromBackend(err)
	rm := t.mappingOf(ctx)
	var rhe *runtime.HTTPStatusError
	if code, st, ok := call.HTTPStatusOf(err); ok {
		err = &runtime.HTTPStatusError{HTTPStatus: code, Err: st.Err()}
	}
	switch {
	case rm == nil, errors.As(err, &rhe):
	default:
		if code, ok := rm.HTTPStatus(status.Code(err)); ok {
			err = &runtime.HTTPStatusError{HTTPStatus: code, Err: err}
		}
	}
	if info := call.FromContext(ctx); info != nil && info.ResponseHeader().Get("WWW-Authenticate") != "" {
		// grpc-gateway sets WWW-Authenticate to the status message on
		// UNAUTHENTICATED; a policy's challenge wins.
		w = policyHeaderWriter{ResponseWriter: w, h: info.ResponseHeader()}
	}
	if own && t.writeShaped(ctx, w, err) {
		return
	}
	if rm.ProblemJSON() {
		t.writeProblem(ctx, w, r, err) // the request ID as its instance
		return
	}
	runtime.DefaultHTTPErrorHandler(ctx, t.mux, t.marshaler, w, r, withRequestID(ctx, err))
}

// writeShaped writes the gateway's own refusal err as gateway_responses
// shapes its HTTP status, and reports whether one does.
func (t *Transcoder) writeShaped(ctx context.Context, w http.ResponseWriter, err error) bool {
	code, st := httpStatusOf(err)
	body, ctype, ok := t.opts.Gateway.Body(code, st, call.FromContext(ctx).RequestID())
	if !ok {
		return false
	}
	h := w.Header()
	h.Del("Trailer")
	h.Del("Transfer-Encoding")
	h.Set("Content-Type", ctype)
	if md, ok := runtime.ServerMetadataFromContext(ctx); ok {
		writeHeaderMD(h, md)
	}
	w.WriteHeader(code)
	_, _ = w.Write(body)
	return true
}

// mappingOf returns the response mapping of the method ctx's call was
// routed to, when it changes how errors are written; nil otherwise (and
// at once when no method has one).
func (t *Transcoder) mappingOf(ctx context.Context) *responsemap.Mapping {
	if t.mappings == nil {
		return nil
	}
	if info := call.FromContext(ctx); info != nil && info.Method != nil {
		return t.mappings[info.Method]
	}
	return nil
}

// httpStatus is the HTTP status an error with code gets on the REST door
// for method m: the response mapping's, else grpc-gateway's table.
func (t *Transcoder) httpStatus(m *catalog.Method, code codes.Code) int {
	if s, ok := t.mappings[m].HTTPStatus(code); ok {
		return s
	}
	return call.HTTPStatusFromCode(code)
}

// writeProblem writes err as RFC 9457 problem details
// (responsemap.Problem), with the same headers and trailers as
// grpc-gateway's error handler writes: the call's metadata as
// Grpc-Metadata-* headers, and as Grpc-Trailer-* trailers when the client
// accepts them.
func (t *Transcoder) writeProblem(ctx context.Context, w http.ResponseWriter, r *http.Request, err error) {
	code, st := httpStatusOf(err)
	problem := responsemap.NewProblem(st, code, func(a *anypb.Any) ([]byte, error) {
		return t.marshaler.Marshal(a)
	})
	if id := call.FromContext(ctx).RequestID(); id != "" {
		problem.Instance = "urn:request-id:" + id
	}
	body, merr := problem.Marshal()
	if merr != nil {
		// Only a detail's JSON could fail, and those are checked.
		code, body = http.StatusInternalServerError, []byte(`{"type":"about:blank","title":"Internal Server Error","status":500,"code":"INTERNAL","details":[]}`)
	}
	h := w.Header()
	h.Del("Trailer")
	h.Del("Transfer-Encoding")
	h.Set("Content-Type", responsemap.ProblemContentType)
	md, ok := runtime.ServerMetadataFromContext(ctx)
	trailers := ok && acceptsTrailers(r)
	if ok {
		writeHeaderMD(h, md)
		if trailers {
			declareTrailers(h, md)
		}
	}
	w.WriteHeader(code)
	_, _ = w.Write(body)
	if trailers {
		writeTrailers(h, md)
	}
}

// httpStatusOf is the HTTP status writeError settled on for err (a
// *runtime.HTTPStatusError's, else grpc-gateway's table) and its status.
func httpStatusOf(err error) (int, *status.Status) {
	code := 0
	var rhe *runtime.HTTPStatusError
	if errors.As(err, &rhe) {
		code, err = rhe.HTTPStatus, rhe.Err
	}
	st := status.Convert(err)
	if code == 0 {
		code = call.HTTPStatusFromCode(st.Code())
	}
	return code, st
}

// policyHeaderWriter writes the policy headers again just before the
// status line, over what an error handler set.
type policyHeaderWriter struct {
	http.ResponseWriter
	h http.Header
}

func (p policyHeaderWriter) WriteHeader(code int) {
	for k, vs := range p.h {
		p.ResponseWriter.Header()[k] = vs
	}
	p.ResponseWriter.WriteHeader(code)
}

// shutdownError words the error of a call the gateway cut short because
// it is shutting down (its context's cause is call.ErrShuttingDown): the
// client gets UNAVAILABLE, which it may retry elsewhere, rather than a
// cancellation it did not ask for.
func shutdownError(ctx context.Context, err error) error {
	if err != nil && errors.Is(context.Cause(ctx), call.ErrShuttingDown) {
		return status.Error(codes.Unavailable, "server shutting down")
	}
	return err
}

// withRequestID adds the call's request ID to err's status as a
// google.rpc.RequestInfo detail (in grpc-gateway's error body), keeping
// the HTTP status err asks for.
func withRequestID(ctx context.Context, err error) error {
	id := call.FromContext(ctx).RequestID()
	if id == "" {
		return err
	}
	var rhe *runtime.HTTPStatusError
	if errors.As(err, &rhe) {
		return &runtime.HTTPStatusError{HTTPStatus: rhe.HTTPStatus, Err: call.WithRequestInfo(status.Convert(rhe.Err), id).Err()}
	}
	if code, st, ok := call.HTTPStatusOf(err); ok {
		return call.WithHTTPStatus(code, call.WithRequestInfo(st, id))
	}
	return call.WithRequestInfo(status.Convert(err), id).Err()
}

// writePolicyHeaders copies the response headers policies set on the call
// (WWW-Authenticate, Retry-After, RateLimit, ...) to the response.
func writePolicyHeaders(w http.ResponseWriter, ctx context.Context) {
	info := call.FromContext(ctx)
	if info == nil {
		return
	}
	h := w.Header()
	for k, vs := range info.ResponseHeader() {
		h[k] = vs
	}
}
