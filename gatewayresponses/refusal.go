package gatewayresponses

import (
	"encoding/json"
	"strconv"

	"github.com/portico-gw/portico/call"
	"google.golang.org/genproto/googleapis/rpc/code"
	"google.golang.org/grpc/status"
)

// Body is the REST body of the gateway's own refusal with HTTP status
// httpStatus and gRPC status st, for the call with request ID id, and its
// content type; ok is false when no errors[] entry shapes httpStatus with
// a body (the door writes its usual error then). The caller has made
// sure the refusal is the gateway's (not call.IsFromBackend).
func (r *Responses) Body(httpStatus int, st *status.Status, id string) (body []byte, contentType string, ok bool) {
	if r == nil {
		return nil, "", false
	}
	s := r.errors[httpStatus]
	if s == nil || !s.hasBody {
		return nil, "", false
	}
	return s.body.render(valuesOf(httpStatus, st, id), true), s.contentType, true
}

// GRPCError returns err with its message replaced by the grpc_message of
// the errors[] entry for the HTTP status err has on the REST door
// (call.WithHTTPStatus's, else grpc-gateway's table), details kept; err
// unchanged when it is nil, a backend's (call.IsFromBackend), not a
// status, or no entry has a grpc_message for its status.
func (r *Responses) GRPCError(err error, id string) error {
	if r == nil || err == nil || len(r.errors) == 0 || call.IsFromBackend(err) {
		return err
	}
	st, ok := status.FromError(err)
	if !ok {
		return err
	}
	httpStatus, explicit, has := call.HTTPStatusOf(err)
	if has {
		st = explicit
	} else {
		httpStatus = call.HTTPStatusFromCode(st.Code())
	}
	s := r.errors[httpStatus]
	if s == nil || !s.hasGRPC {
		return err
	}
	p := st.Proto()
	p.Message = string(s.grpcMessage.render(valuesOf(httpStatus, st, id), false))
	return status.FromProto(p).Err()
}

func valuesOf(httpStatus int, st *status.Status, id string) values {
	return values{requestID: id, status: strconv.Itoa(httpStatus), code: code.Code(st.Code()).String(), message: st.Message()}
}

func jsonValid(b []byte) bool { return json.Valid(b) }
