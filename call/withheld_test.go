package call_test

import (
	"net/http/httptest"
	"testing"

	"github.com/portico-gw/portico/call"
)

// TestRequestForBackend: a plain route's request to its backend leaves
// out the headers, query parameters and cookies policies withheld (names
// compared as net/http reads them), keeps everything else as written, and
// changes nothing of the request policies see.
func TestRequestForBackend(t *testing.T) {
	withheld := call.Withheld{Headers: []string{"authorization", "x-api-key"}, Queries: []string{"api_key", "access token"}, Cookies: []string{"session"}}
	r := httptest.NewRequest("GET", "/legacy/x?page=2&api_key=k&access+token=t&api_keyx=1&%61pi_key=k2", nil)
	r.Header.Set("Authorization", "Bearer t")
	r.Header.Set("X-Api-Key", "k")
	r.Header.Set("Cookie", "session=t; theme=dark")
	r.Header.Set("X-Other", "o")
	info := call.NewHTTP(r)
	if out := info.RequestForBackend(r); out != r {
		t.Error("RequestForBackend with nothing withheld: got a copy, want r")
	}
	info.Withhold(withheld)
	out := info.RequestForBackend(r)
	if got, want := out.URL.RawQuery, "page=2&api_keyx=1"; got != want {
		t.Errorf("query: got %q, want %q", got, want)
	}
	if got := out.Header; got.Get("Authorization") != "" || got.Get("X-Api-Key") != "" || got.Get("Cookie") != "theme=dark" || got.Get("X-Other") != "o" {
		t.Errorf("headers: got %v, want only the credentials dropped", got)
	}
	if r.Header.Get("Authorization") == "" || r.URL.RawQuery == "page=2&api_keyx=1" || r.Header.Get("Cookie") != "session=t; theme=dark" {
		t.Error("RequestForBackend changed the request policies see")
	}
	r.Header.Set("Cookie", "session=t")
	if out := info.RequestForBackend(r); out.Header.Values("Cookie") != nil {
		t.Errorf("a Cookie header of credentials only: got %q, want it dropped", out.Header.Values("Cookie"))
	}
	if got := info.QueryForBackend("api_key=k&page=2"); got != "page=2" {
		t.Errorf("QueryForBackend: got %q, want page=2", got)
	}
}
