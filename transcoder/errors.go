package transcoder

import (
	"context"
	"errors"
	"net/http"

	"github.com/grpc-ecosystem/grpc-gateway/v2/runtime"
	"github.com/portico-gw/portico/call"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
)

// writeError is the one place an error becomes an HTTP response: a gRPC
// status, mapped to HTTP by grpc-gateway's table and written as its JSON
// error body ({"code","message","details"}) with the call's metadata as
// Grpc-Metadata-* headers. A *runtime.HTTPStatusError overrides the HTTP
// status (405, 413, 414).
func (t *Transcoder) writeError(ctx context.Context, w http.ResponseWriter, r *http.Request, err error) {
	writePolicyHeaders(w, ctx)
	err = shutdownError(ctx, err)
	var he *httpStatusError
	if errors.As(err, &he) {
		err = &runtime.HTTPStatusError{HTTPStatus: he.http, Err: he.st.Err()}
	}
	if info := call.FromContext(ctx); info != nil && info.ResponseHeader().Get("WWW-Authenticate") != "" {
		// grpc-gateway sets WWW-Authenticate to the status message on
		// UNAUTHENTICATED; a policy's challenge wins.
		w = policyHeaderWriter{ResponseWriter: w, h: info.ResponseHeader()}
	}
	runtime.DefaultHTTPErrorHandler(ctx, t.mux, t.marshaler, w, r, err)
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

// httpStatusError is a gRPC status that asks for a particular HTTP status
// on the REST door (413, 408). It stays a status on its way through the
// pipeline and the backend's stream code (status.FromError finds it), and
// writeError gives it its HTTP status.
type httpStatusError struct {
	http int
	st   *status.Status
}

func withHTTPStatus(code int, st *status.Status) error { return &httpStatusError{http: code, st: st} }

func (e *httpStatusError) Error() string              { return e.st.Err().Error() }
func (e *httpStatusError) GRPCStatus() *status.Status { return e.st }
