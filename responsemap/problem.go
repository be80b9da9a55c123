package responsemap

import (
	"encoding/json"
	"net/http"

	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/types/known/anypb"
)

// ProblemContentType is the media type of RFC 9457 problem details.
const ProblemContentType = "application/problem+json"

// Problem is the problem details object (RFC 9457) the REST door writes
// for a gRPC status when errors: problem_json. The members:
//
//   - type: "about:blank" — the problem is what the HTTP status says; the
//     gRPC code below refines it;
//   - title: the HTTP status's reason phrase ("Not Found"; for a status
//     with none, such as 499, the gRPC code name);
//   - status: the HTTP status of the response;
//   - detail: the gRPC status message (left out when empty);
//   - code: an extension member, the gRPC code's canonical name
//     ("NOT_FOUND");
//   - details: an extension member, the gRPC status details
//     (google.rpc.Status.details) in proto3 JSON, each with its "@type",
//     as grpc-gateway writes them; always present, [] when there are none;
//   - instance: the call's request ID, urn:request-id:<id>.
type Problem struct {
	Type    string            `json:"type"`
	Title   string            `json:"title"`
	Status  int               `json:"status"`
	Detail  string            `json:"detail,omitempty"`
	Code    string            `json:"code"`
	Details []json.RawMessage `json:"details"`
	// Instance names this occurrence: the call's request ID as
	// urn:request-id:<id> (left out when there is none).
	Instance string `json:"instance,omitempty"`
}

// NewProblem describes st, answered with httpStatus, as a Problem.
// marshal writes one detail as proto3 JSON; a detail it cannot write (a
// type the gateway does not know) is kept as {"@type": its type URL}, so
// the client still learns what it was.
func NewProblem(st *status.Status, httpStatus int, marshal func(*anypb.Any) ([]byte, error)) *Problem {
	p := &Problem{
		Type:    "about:blank",
		Title:   http.StatusText(httpStatus),
		Status:  httpStatus,
		Detail:  st.Message(),
		Code:    CodeName(st.Code()),
		Details: []json.RawMessage{},
	}
	if p.Title == "" {
		p.Title = p.Code
	}
	for _, d := range st.Proto().GetDetails() {
		b, err := marshal(d)
		if err != nil || !json.Valid(b) {
			b, _ = json.Marshal(map[string]string{"@type": d.GetTypeUrl()})
		}
		p.Details = append(p.Details, b)
	}
	return p
}

// Marshal writes p as JSON.
func (p *Problem) Marshal() ([]byte, error) { return json.Marshal(p) }
