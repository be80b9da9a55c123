package gatewayresponses

import (
	"encoding/json"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/portico-gw/portico/call"
	"github.com/portico-gw/portico/config"
	configv1 "github.com/portico-gw/portico/gen/portico/config/v1"
	"google.golang.org/genproto/googleapis/rpc/errdetails"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
)

func mustNew(t *testing.T, c *configv1.GatewayResponses) *Responses {
	t.Helper()
	r, err := New(c, "X-Request-Id")
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	return r
}

func TestNewNothingConfigured(t *testing.T) {
	r, err := New(&configv1.GatewayResponses{}, "X-Request-Id")
	if r != nil || err != nil {
		t.Fatalf("New(empty) = %v, %v; want nil, nil", r, err)
	}
	// A nil Responses changes nothing.
	h := http.Header{}
	r.SetHeaders(h)
	if len(h) != 0 {
		t.Errorf("nil SetHeaders set %v", h)
	}
	if _, _, ok := r.Body(429, status.New(codes.ResourceExhausted, "x"), "id"); ok {
		t.Errorf("nil Body ok = true, want false")
	}
	err = status.Error(codes.NotFound, "x")
	if got := r.GRPCError(err, "id"); got != err {
		t.Errorf("nil GRPCError changed the error: %v", got)
	}
	if r.Metadata() != nil {
		t.Errorf("nil Metadata = %v, want nil", r.Metadata())
	}
}

func TestNewRefusesBadSettings(t *testing.T) {
	for _, tc := range []struct {
		name      string
		c         *configv1.GatewayResponses
		field     string
		substring string
	}{
		{"hop-by-hop", &configv1.GatewayResponses{Headers: map[string]string{"Connection": "close"}}, `gateway_responses.headers["Connection"]`, "hop-by-hop"},
		{"framing", &configv1.GatewayResponses{Headers: map[string]string{"content-length": "1"}}, `gateway_responses.headers["content-length"]`, "set for each answer"},
		{"cookie", &configv1.GatewayResponses{Headers: map[string]string{"Set-Cookie": "a=b"}}, `gateway_responses.headers["Set-Cookie"]`, "cookie"},
		{"not a token", &configv1.GatewayResponses{Headers: map[string]string{"X Frame": "DENY"}}, `gateway_responses.headers["X Frame"]`, "not a header name"},
		{"grpc", &configv1.GatewayResponses{Headers: map[string]string{"grpc-status": "0"}}, `gateway_responses.headers["grpc-status"]`, "gRPC's own"},
		{"binary", &configv1.GatewayResponses{Headers: map[string]string{"x-trace-bin": "AA"}}, `gateway_responses.headers["x-trace-bin"]`, "binary"},
		{"cors", &configv1.GatewayResponses{Headers: map[string]string{"Access-Control-Allow-Origin": "*"}}, `gateway_responses.headers["Access-Control-Allow-Origin"]`, "cors"},
		{"request id", &configv1.GatewayResponses{Headers: map[string]string{"x-request-id": "1"}}, `gateway_responses.headers["x-request-id"]`, "request ID"},
		{"control character", &configv1.GatewayResponses{Headers: map[string]string{"X-A": "a\r\nSet-Cookie: b"}}, `gateway_responses.headers["X-A"]`, "printable ASCII"},
		{"empty value", &configv1.GatewayResponses{Headers: map[string]string{"X-A": ""}}, `gateway_responses.headers["X-A"]`, "empty"},
		{"twice", &configv1.GatewayResponses{Headers: map[string]string{"X-A": "1", "x-a": "2"}}, `gateway_responses.headers["x-a"]`, "twice"},
		{"unknown placeholder", &configv1.GatewayResponses{Errors: []*configv1.GatewayError{{Status: 429, Json: `{"id":"${requestid}"}`}}}, "gateway_responses.errors[0].json", "unknown placeholder ${requestid}"},
		{"unclosed placeholder", &configv1.GatewayResponses{Errors: []*configv1.GatewayError{{Status: 429, Json: `["${request_id"]`}}}, "gateway_responses.errors[0].json", "not closed"},
		{"not JSON", &configv1.GatewayResponses{Errors: []*configv1.GatewayError{{Status: 401, Json: `{"error": sign in}`}}}, "gateway_responses.errors[0].json", "not JSON"},
		{"placeholder outside a string", &configv1.GatewayResponses{Errors: []*configv1.GatewayError{{Status: 401, Json: `{"error": ${message}}`}}}, "gateway_responses.errors[0].json", "not JSON"},
		{"grpc placeholder", &configv1.GatewayResponses{Errors: []*configv1.GatewayError{{Status: 401, GrpcMessage: "${who}"}}}, "gateway_responses.errors[0].grpc_message", "unknown placeholder ${who}"},
		{"nothing to say", &configv1.GatewayResponses{Errors: []*configv1.GatewayError{{Status: 401}}}, "gateway_responses.errors[0]", "set json"},
		{"not a JSON type", &configv1.GatewayResponses{Errors: []*configv1.GatewayError{{Status: 401, Json: `{}`, ContentType: "text/html"}}}, "gateway_responses.errors[0].content_type", "not a JSON media type"},
		{"bad media type", &configv1.GatewayResponses{Errors: []*configv1.GatewayError{{Status: 401, Json: `{}`, ContentType: "json;;"}}}, "gateway_responses.errors[0].content_type", "not a media type"},
		{"same status twice", &configv1.GatewayResponses{Errors: []*configv1.GatewayError{{Status: 429, Json: `{}`}, {Status: 429, Json: `{}`}}}, "gateway_responses.errors[1].status", "already shaped by gateway_responses.errors[0]"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r, err := New(tc.c, "X-Request-Id")
			var errs config.Errors
			if !errors.As(err, &errs) {
				t.Fatalf("New = %v, %v; want config.Errors", r, err)
			}
			for _, e := range errs {
				if e.Field == tc.field && strings.Contains(e.Message, tc.substring) {
					return
				}
			}
			t.Errorf("New errors = %v; want one at %s containing %q", errs, tc.field, tc.substring)
		})
	}
}

func TestBodyPlaceholdersJSONEscaped(t *testing.T) {
	r := mustNew(t, &configv1.GatewayResponses{Errors: []*configv1.GatewayError{
		{Status: 429, Json: `{"error": "too many", "id": "${request_id}", "status": ${status}, "code": "${code}", "why": "${message}", "ref": "$ref"}`, ContentType: "application/problem+json"},
	}})
	msg := "quota \"gold\" used up\n<script>\\"
	body, ctype, ok := r.Body(429, status.New(codes.ResourceExhausted, msg), `id-"1"`)
	if !ok {
		t.Fatalf("Body(429) ok = false, want true")
	}
	if ctype != "application/problem+json" {
		t.Errorf("content type = %q, want application/problem+json", ctype)
	}
	var got struct {
		Error, ID, Code, Why, Ref string
		Status                    int
	}
	if err := json.Unmarshal(body, &got); err != nil {
		t.Fatalf("body %s is not JSON: %v", body, err)
	}
	if got.ID != `id-"1"` || got.Why != msg || got.Status != 429 || got.Code != "RESOURCE_EXHAUSTED" || got.Ref != "$ref" || got.Error != "too many" {
		t.Errorf("body = %+v, want id %q, why %q, status 429, code RESOURCE_EXHAUSTED, ref $ref", got, `id-"1"`, msg)
	}
	if strings.Contains(string(body), "<script>") {
		t.Errorf("body %s holds <script> unescaped", body)
	}
	if _, _, ok := r.Body(401, status.New(codes.Unauthenticated, "x"), "id"); ok {
		t.Errorf("Body(401) ok = true for a status no entry shapes")
	}
}

func TestBodyDefaultContentType(t *testing.T) {
	r := mustNew(t, &configv1.GatewayResponses{Errors: []*configv1.GatewayError{{Status: 401, Json: `{"error":"sign in first"}`}}})
	body, ctype, ok := r.Body(401, status.New(codes.Unauthenticated, "no key"), "id")
	if !ok || ctype != "application/json" || string(body) != `{"error":"sign in first"}` {
		t.Errorf("Body = %s, %q, %v; want the template, application/json, true", body, ctype, ok)
	}
}

func TestGRPCError(t *testing.T) {
	r := mustNew(t, &configv1.GatewayResponses{Errors: []*configv1.GatewayError{
		{Status: 429, GrpcMessage: "slow down (${code}, request ${request_id}): ${message}"},
		{Status: 503, GrpcMessage: "busy"},
		{Status: 401, Json: `{}`}, // REST only
	}})
	st, err := status.New(codes.ResourceExhausted, "quota used").WithDetails(&errdetails.RetryInfo{})
	if err != nil {
		t.Fatal(err)
	}
	got := status.Convert(r.GRPCError(st.Err(), "abc"))
	if got.Code() != codes.ResourceExhausted || got.Message() != "slow down (RESOURCE_EXHAUSTED, request abc): quota used" {
		t.Errorf("GRPCError = %v %q, want RESOURCE_EXHAUSTED with the template", got.Code(), got.Message())
	}
	if len(got.Details()) != 1 {
		t.Errorf("GRPCError details = %v, want the RetryInfo kept", got.Details())
	}
	// A backend's status is left alone.
	backend := call.FromBackend(status.Error(codes.ResourceExhausted, "backend quota"))
	if got := r.GRPCError(backend, "abc"); got != backend {
		t.Errorf("GRPCError(backend's) = %v, want it unchanged", got)
	}
	// The HTTP status a refusal asks for picks the entry.
	full := call.Refuse(http.StatusServiceUnavailable, codes.ResourceExhausted, "too many calls")
	if got := status.Convert(r.GRPCError(full, "")); got.Message() != "busy" || got.Code() != codes.ResourceExhausted {
		t.Errorf("GRPCError(503) = %v %q, want RESOURCE_EXHAUSTED %q", got.Code(), got.Message(), "busy")
	}
	// No grpc_message for 401: unchanged.
	unauth := status.Error(codes.Unauthenticated, "no key")
	if got := r.GRPCError(unauth, "abc"); got != unauth {
		t.Errorf("GRPCError(401 without grpc_message) = %v, want it unchanged", got)
	}
	if got := r.GRPCError(nil, "abc"); got != nil {
		t.Errorf("GRPCError(nil) = %v, want nil", got)
	}
}

func TestHandlerHeaders(t *testing.T) {
	r := mustNew(t, &configv1.GatewayResponses{Headers: map[string]string{
		"strict-transport-security": "max-age=63072000",
		"X-Frame-Options":           "DENY",
	}})
	if md := r.Metadata(); md["strict-transport-security"][0] != "max-age=63072000" || md["x-frame-options"][0] != "DENY" {
		t.Errorf("Metadata = %v, want both headers lower-cased", md)
	}
	for _, tc := range []struct {
		name    string
		handler http.HandlerFunc
		frame   string
	}{
		{"write only", func(w http.ResponseWriter, _ *http.Request) { _, _ = w.Write([]byte("ok")) }, "DENY"},
		{"status", func(w http.ResponseWriter, _ *http.Request) { w.WriteHeader(http.StatusNotFound) }, "DENY"},
		{"flush", func(w http.ResponseWriter, _ *http.Request) { w.(http.Flusher).Flush() }, "DENY"},
		{"the call's own wins", func(w http.ResponseWriter, _ *http.Request) {
			w.Header().Set("X-Frame-Options", "SAMEORIGIN")
			w.WriteHeader(http.StatusOK)
		}, "SAMEORIGIN"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			rec := httptest.NewRecorder()
			r.Handler(tc.handler).ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/", nil))
			if got := rec.Result().Header.Values("X-Frame-Options"); len(got) != 1 || got[0] != tc.frame {
				t.Errorf("X-Frame-Options = %q, want [%s]", got, tc.frame)
			}
			if got := rec.Result().Header.Get("Strict-Transport-Security"); got != "max-age=63072000" {
				t.Errorf("Strict-Transport-Security = %q, want max-age=63072000", got)
			}
		})
	}
	// Nothing configured: the handler itself.
	var none *Responses
	h := http.NotFoundHandler()
	if got := none.Handler(h); got == nil {
		t.Errorf("nil Handler = nil, want next")
	}
}

func TestParseTemplate(t *testing.T) {
	tpl, err := parseTemplate("a ${status} $b ${message}")
	if err != nil {
		t.Fatal(err)
	}
	got := string(tpl.render(values{status: "404", message: "m"}, false))
	if want := "a 404 $b m"; got != want {
		t.Errorf("render = %q, want %q", got, want)
	}
}
