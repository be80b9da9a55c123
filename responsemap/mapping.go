// Package responsemap is the method response mapping (apis[].response):
// what a client gets back from a backend, shaped by declaration. It is
// compiled once per API when the snapshot is built, and applied per call:
//
//   - forward_metadata, an allow-list of the backend's headers and
//     trailers exposed to clients (REST: Grpc-Metadata-* headers and
//     Grpc-Trailer-* trailers; gRPC: response header and trailer
//     metadata), on both doors;
//   - hide_internal_errors: INTERNAL, UNKNOWN and DATA_LOSS statuses reach
//     clients with a generic message and no details (the log keeps the
//     original), on both doors;
//   - status: gRPC code -> HTTP status overrides (REST);
//   - errors: problem_json, RFC 9457 application/problem+json error bodies
//     instead of grpc-gateway's {"code","message","details"} (REST).
//
// The part that applies on both doors is a pipeline stage (Stage); the
// REST door reads the HTTP-only choices (HTTPStatus, ProblemJSON) from the
// method's Mapping, resolved once per method when its routes are built.
package responsemap

import (
	"fmt"
	"sort"
	"strconv"
	"strings"

	"github.com/portico-gw/portico/config"
	configv1 "github.com/portico-gw/portico/gen/portico/config/v1"
	"google.golang.org/genproto/googleapis/rpc/code"
	"google.golang.org/grpc/codes"
)

// numCodes is the number of canonical gRPC codes (OK to UNAUTHENTICATED).
const numCodes = 17

// Mapping is one API's compiled response mapping. It is immutable; a nil
// *Mapping is the default (everything passes, grpc-gateway's errors).
type Mapping struct {
	// allow is the forward_metadata allow-list; nil lets every backend
	// header and trailer through.
	allow *allowList
	// hide replaces the messages of INTERNAL, UNKNOWN and DATA_LOSS.
	hide bool
	// status holds the HTTP status overrides by gRPC code; 0 keeps
	// grpc-gateway's table.
	status [numCodes]uint16
	// problem selects application/problem+json error bodies.
	problem bool
}

// Compile checks and compiles rm, the response mapping at key path field
// (e.g. "apis[0].response"). It returns nil when rm asks for nothing
// beyond the defaults, and config.Errors, each located at its key, for
// unknown code names, HTTP statuses out of range and metadata names that
// cannot be metadata keys.
func Compile(field string, rm *configv1.ResponseMapping) (*Mapping, error) {
	if rm == nil {
		return nil, nil
	}
	m := &Mapping{hide: rm.GetHideInternalErrors(), problem: rm.GetErrors() == "problem_json"}
	var errs config.Errors
	if names := rm.GetForwardMetadata(); len(names) > 0 {
		al, aerrs := newAllowList(field+".forward_metadata", names)
		m.allow = al
		errs = append(errs, aerrs...)
	}
	// Sorted, so that several problems are reported in a stable order.
	keys := make([]string, 0, len(rm.GetStatus()))
	for k := range rm.GetStatus() {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		v := rm.GetStatus()[k]
		at := field + ".status[" + strconv.Quote(k) + "]"
		c, err := parseCode(k)
		if err != nil {
			errs = append(errs, &config.Error{Field: at, Message: err.Error()})
			continue
		}
		// 1xx are interim responses: net/http would send one and then a 200
		// with the error body. 2xx (a 204 for an idempotent DELETE of what
		// is already gone, say) and 3xx are the operator's choice.
		if v < 200 || v > 599 {
			errs = append(errs, &config.Error{Field: at, Message: fmt.Sprintf("%d is not an HTTP status for an error response (200 to 599)", v)})
			continue
		}
		m.status[c] = uint16(v)
	}
	if len(errs) > 0 {
		return nil, errs
	}
	if m.allow == nil && !m.hide && !m.problem && len(keys) == 0 {
		return nil, nil
	}
	return m, nil
}

// parseCode reads a canonical gRPC code name ("NOT_FOUND"); OK is not an
// error code, so it cannot be mapped.
func parseCode(name string) (codes.Code, error) {
	v, ok := code.Code_value[name]
	if !ok {
		if u, found := code.Code_value[strings.ToUpper(name)]; found {
			return 0, fmt.Errorf("unknown gRPC code %q: did you mean %s?", name, code.Code(u))
		}
		if u, found := code.Code_value[snakeUpper(name)]; found {
			return 0, fmt.Errorf("unknown gRPC code %q: did you mean %s?", name, code.Code(u))
		}
		return 0, fmt.Errorf("unknown gRPC code %q: use a canonical name such as NOT_FOUND or UNAVAILABLE", name)
	}
	if v == 0 {
		return 0, fmt.Errorf("OK is not an error code: only errors get a mapped HTTP status")
	}
	return codes.Code(v), nil
}

// snakeUpper turns "NotFound" into "NOT_FOUND", for suggestions.
func snakeUpper(s string) string {
	var b strings.Builder
	for i, r := range s {
		if i > 0 && r >= 'A' && r <= 'Z' {
			b.WriteByte('_')
		}
		b.WriteRune(r)
	}
	return strings.ToUpper(b.String())
}

// CodeName is the canonical name of a gRPC code ("NOT_FOUND"), as the
// config and problem+json bodies spell it.
func CodeName(c codes.Code) string {
	if c < numCodes {
		return code.Code(c).String()
	}
	return "CODE_" + strconv.Itoa(int(c))
}

// HTTPStatus returns the HTTP status the config maps code to, and whether
// it maps it at all. Safe on a nil Mapping.
func (m *Mapping) HTTPStatus(c codes.Code) (int, bool) {
	if m == nil || c >= numCodes || m.status[c] == 0 {
		return 0, false
	}
	return int(m.status[c]), true
}

// ProblemJSON reports whether errors are written as RFC 9457
// application/problem+json. Safe on a nil Mapping.
func (m *Mapping) ProblemJSON() bool { return m != nil && m.problem }

// HidesInternalErrors reports whether INTERNAL, UNKNOWN and DATA_LOSS
// messages are hidden. Safe on a nil Mapping.
func (m *Mapping) HidesInternalErrors() bool { return m != nil && m.hide }

// FiltersMetadata reports whether backend metadata goes through an
// allow-list. Safe on a nil Mapping.
func (m *Mapping) FiltersMetadata() bool { return m != nil && m.allow != nil }

// REST reports whether the mapping changes how the REST door writes
// errors (HTTP statuses or their format). Safe on a nil Mapping.
func (m *Mapping) REST() bool {
	if m == nil {
		return false
	}
	if m.problem {
		return true
	}
	for _, s := range m.status {
		if s != 0 {
			return true
		}
	}
	return false
}
