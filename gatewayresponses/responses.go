// Package gatewayresponses shapes the answers the gateway gives itself
// (gateway_responses): headers on every answer of both doors, and the
// body, content type and gRPC message of its own refusals by HTTP
// status. A backend's own answer (call.IsFromBackend) is never touched:
// response mapping (apis[].response) is for those.
package gatewayresponses

import (
	"fmt"
	"mime"
	"net/http"
	"slices"
	"strconv"
	"strings"

	"github.com/portico-gw/portico/config"
	configv1 "github.com/portico-gw/portico/gen/portico/config/v1"
	"google.golang.org/grpc/metadata"
)

// Responses is gateway_responses, checked and ready. A nil *Responses
// (nothing configured) changes nothing.
type Responses struct {
	headers  http.Header // canonical names
	metadata metadata.MD // the same, lower-cased
	errors   map[int]*shape
}

// shape is what one HTTP status's refusals look like.
type shape struct {
	body        template // REST body; none when hasBody is false
	hasBody     bool
	contentType string
	grpcMessage template
	hasGRPC     bool
}

// New checks c (at its key paths under gateway_responses) and builds it.
// requestIDHeader is the request ID's header, which c may not set. Nil,
// nil when c configures nothing.
func New(c *configv1.GatewayResponses, requestIDHeader string) (*Responses, error) {
	if len(c.GetHeaders()) == 0 && len(c.GetErrors()) == 0 {
		return nil, nil
	}
	var errs config.Errors
	add := func(field, format string, args ...any) {
		errs = append(errs, &config.Error{Field: field, Message: fmt.Sprintf(format, args...)})
	}
	r := &Responses{headers: http.Header{}, metadata: metadata.MD{}, errors: map[int]*shape{}}
	names := make([]string, 0, len(c.GetHeaders()))
	for k := range c.GetHeaders() {
		names = append(names, k)
	}
	slices.Sort(names) // problems in a stable order
	for _, k := range names {
		v := c.GetHeaders()[k]
		where := "gateway_responses.headers[" + strconv.Quote(k) + "]"
		if why := checkHeaderName(k, requestIDHeader); why != "" {
			add(where, "header name %q %s", k, why)
			continue
		}
		if why := checkHeaderValue(v); why != "" {
			add(where, "value %s", why)
			continue
		}
		canon := http.CanonicalHeaderKey(k)
		if _, dup := r.headers[canon]; dup {
			add(where, "header %s is set twice (names are case-insensitive)", canon)
			continue
		}
		r.headers[canon] = []string{v}
		r.metadata[strings.ToLower(k)] = []string{v}
	}
	seen := map[int]int{}
	for i, e := range c.GetErrors() {
		where := fmt.Sprintf("gateway_responses.errors[%d]", i)
		code := int(e.GetStatus())
		if first, dup := seen[code]; dup {
			add(where+".status", "status %d is already shaped by gateway_responses.errors[%d]", code, first)
			continue
		}
		seen[code] = i
		s, ok := buildShape(e, where, add)
		if ok {
			r.errors[code] = s
		}
	}
	if len(errs) > 0 {
		return nil, errs
	}
	return r, nil
}

// buildShape checks one errors[] entry.
func buildShape(e *configv1.GatewayError, where string, add func(field, format string, args ...any)) (*shape, bool) {
	s := &shape{contentType: "application/json"}
	ok := true
	if e.GetJson() == "" && e.GetGrpcMessage() == "" {
		add(where, "set json (the REST body), grpc_message, or both")
		return nil, false
	}
	if ct := e.GetContentType(); ct != "" {
		if e.GetJson() == "" {
			add(where+".content_type", "is the json body's: set json")
			ok = false
		} else if why := checkJSONType(ct); why != "" {
			add(where+".content_type", "%q %s", ct, why)
			ok = false
		}
		s.contentType = ct
	}
	if j := e.GetJson(); j != "" {
		t, err := parseTemplate(j)
		switch {
		case err != nil:
			add(where+".json", "%v", err)
			ok = false
		case !jsonValid(t.render(sample, true)):
			add(where+".json", "is not JSON once its placeholders are replaced (they go inside strings, except ${status})")
			ok = false
		default:
			s.body, s.hasBody = t, true
		}
	}
	if m := e.GetGrpcMessage(); m != "" {
		t, err := parseTemplate(m)
		if err != nil {
			add(where+".grpc_message", "%v", err)
			ok = false
		}
		s.grpcMessage, s.hasGRPC = t, true
	}
	return s, ok
}

// checkJSONType says what is wrong with a body's content type, "" when
// nothing: the body is JSON, so its type is application/json or a
// +json type (application/problem+json, ...).
func checkJSONType(ct string) string {
	mt, _, err := mime.ParseMediaType(ct)
	if err != nil {
		return "is not a media type"
	}
	if mt != "application/json" && !strings.HasSuffix(mt, "+json") {
		return "is not a JSON media type (application/json or a +json type): the body is JSON"
	}
	return ""
}

// Metadata is the configured headers as gRPC response metadata
// (lower-cased names); nil when none. The caller must not change it.
func (r *Responses) Metadata() metadata.MD {
	if r == nil || len(r.metadata) == 0 {
		return nil
	}
	return r.metadata
}
