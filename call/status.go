package call

import (
	"errors"
	"net/http"

	"github.com/grpc-ecosystem/grpc-gateway/v2/runtime"
	"google.golang.org/genproto/googleapis/rpc/errdetails"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
)

// Errors are gRPC statuses on both doors. The REST door gives a status
// its HTTP status from grpc-gateway's table (HTTPStatusFromCode), unless
// the status says otherwise with WithHTTPStatus: what only HTTP can say
// (405, 408, 413, 414, 431, 503 for a full door). Policies and edges use
// these, so none of them needs a door.

// WithHTTPStatus returns st as an error that asks the REST door for the
// HTTP status code instead of the one its gRPC code maps to. It stays a
// status on its way through the pipeline (status.FromError finds it);
// the gRPC door sends st as it is.
func WithHTTPStatus(code int, st *status.Status) error { return &httpStatusError{http: code, st: st} }

// HTTPStatusOf returns the HTTP status an error asked for with
// WithHTTPStatus, and its gRPC status.
func HTTPStatusOf(err error) (code int, st *status.Status, ok bool) {
	var he *httpStatusError
	if errors.As(err, &he) {
		return he.http, he.st, true
	}
	return 0, nil, false
}

// HTTPStatusFromCode is the HTTP status of a gRPC code on the REST door
// (grpc-gateway's table).
func HTTPStatusFromCode(c codes.Code) int { return runtime.HTTPStatusFromCode(c) }

// httpStatusError is a gRPC status with the HTTP status it asks for.
type httpStatusError struct {
	http int
	st   *status.Status
}

func (e *httpStatusError) Error() string              { return e.st.Err().Error() }
func (e *httpStatusError) GRPCStatus() *status.Status { return e.st }

// Refuse is a common shape: an error with an HTTP status and a gRPC code
// and message.
func Refuse(httpCode int, c codes.Code, msg string) error {
	return WithHTTPStatus(httpCode, status.New(c, msg))
}

// WithRequestInfo returns st with a google.rpc.RequestInfo detail that
// carries the call's request ID (what a user quotes when reporting the
// error); st itself when id is empty or st is OK.
func WithRequestInfo(st *status.Status, id string) *status.Status {
	if id == "" || st.Code() == codes.OK {
		return st
	}
	for _, d := range st.Proto().GetDetails() {
		if d.MessageName() == requestInfoName {
			return st // a backend's own, or already added
		}
	}
	if withID, err := st.WithDetails(&errdetails.RequestInfo{RequestId: id}); err == nil {
		return withID
	}
	return st
}

const requestInfoName = "google.rpc.RequestInfo"

// NotModified is the answer to a conditional request whose validator
// matches what the client holds (If-None-Match and a cached answer's
// ETag): the REST door writes 304 with the policies' headers and no body.
// Only the REST door's calls get it.
func NotModified() error {
	return WithHTTPStatus(http.StatusNotModified, status.New(codes.FailedPrecondition, "not modified"))
}
