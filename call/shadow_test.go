package call_test

import (
	"net/http/httptest"
	"testing"

	"github.com/portico-gw/portico/call"
)

// TestShadowKeepsRequestNotResponse: a shadow copy has the call's
// request ID, headers and withheld credentials, but what is set on it
// (a refusal, a response header, a header) never reaches the call.
func TestShadowKeepsRequestNotResponse(t *testing.T) {
	r := httptest.NewRequest("GET", "/v1/x?api_key=k", nil)
	r.Header.Set("Authorization", "Bearer t")
	info := &call.Info{Door: call.REST, HTTP: r}
	info.SetRequestID("X-Request-Id", "id-1")
	info.Withhold(call.Withheld{Headers: []string{"authorization"}, Queries: []string{"api_key"}})
	s := info.Shadow()
	if s.RequestID() != "id-1" || s.RequestIDHeader() != "X-Request-Id" {
		t.Errorf("shadow request ID: got %q %q, want id-1 X-Request-Id", s.RequestIDHeader(), s.RequestID())
	}
	if got := s.RequestForBackend(s.HTTP); got.Header.Get("Authorization") != "" || got.URL.RawQuery != "" {
		t.Errorf("shadow request for the backend: got %v ?%s, want the credentials withheld", got.Header, got.URL.RawQuery)
	}
	s.Refusal = "overload"
	s.SetResponseHeader("Retry-After", "1")
	s.HTTP.Header.Set("X-Other", "1")
	s.Withhold(call.Withheld{Headers: []string{"x-more"}})
	if info.Refusal != "" || info.ResponseHeader().Get("Retry-After") != "" || r.Header.Get("X-Other") != "" {
		t.Errorf("the call changed through its shadow: refusal %q, response headers %v, request headers %v", info.Refusal, info.ResponseHeader(), r.Header)
	}
	if got := info.RequestForBackend(r); got.Header.Get("X-More") != "" || got.Header.Get("Authorization") != "" {
		t.Errorf("call's withheld headers: got %v", got.Header)
	}
	var none *call.Info
	if none.Shadow() != nil {
		t.Error("nil.Shadow(): got non-nil")
	}
}
