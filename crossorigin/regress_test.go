package crossorigin

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
)

// One test per reported problem, named for it.

// Header sets as browsers send them (Chrome and Firefox agree on these).
var (
	// An HTML <form method=post> submitted from another site.
	browserForm = []string{"Sec-Fetch-Site", "cross-site", "Sec-Fetch-Mode", "navigate", "Sec-Fetch-Dest", "document",
		"Origin", "https://evil.example", "Content-Type", "application/x-www-form-urlencoded", "Cookie", "session=s"}
	// fetch(url, {method: "POST", mode: "no-cors", credentials: "include"})
	// with no body: no Content-Type at all.
	browserNoCORS = []string{"Sec-Fetch-Site", "cross-site", "Sec-Fetch-Mode", "no-cors", "Sec-Fetch-Dest", "empty",
		"Origin", "https://evil.example", "Cookie", "session=s"}
	// A fetch that needed a preflight (mode cors), without credentials.
	browserCORS = []string{"Sec-Fetch-Site", "cross-site", "Sec-Fetch-Mode", "cors", "Sec-Fetch-Dest", "empty",
		"Origin", "https://evil.example", "Content-Type", "application/json"}
)

func browserRequest(method, target, body string, kv ...[]string) *http.Request {
	r := httptest.NewRequest(method, target, strings.NewReader(body))
	for _, set := range kv {
		for i := 0; i < len(set); i += 2 {
			r.Header.Set(set[i], set[i+1])
		}
	}
	return r
}

// TestRegressCSRFEveryUnsafeMethod: the CSRF check let a cross-site
// request through when it had no body (Content-Length: 0, as an empty
// form or a bodiless no-cors fetch sends it): a POST that needs no fields
// (a custom method like :cancel, body "*") could be sent from any page
// with the user's cookies. It also left every request with a non-form
// Content-Type to CORS, even when no CORS answer could have allowed it.
// Now every unsafe method is checked, with or without a body.
func TestRegressCSRFEveryUnsafeMethod(t *testing.T) {
	listed := NewCSRF([]string{"https://app.example.com"})
	star := NewCSRF([]string{"*"})
	none := NewCSRF(nil)
	cookie := []string{"Cookie", "session=s"}
	for _, tc := range []struct {
		name   string
		c      *CSRF
		method string
		body   string
		kv     [][]string
		refuse bool
	}{
		{"empty form post", none, "POST", "", [][]string{browserForm}, true},
		{"empty form post, allowed_origins *", star, "POST", "", [][]string{browserForm}, true},
		{"bodiless no-cors fetch", none, "POST", "", [][]string{browserNoCORS}, true},
		{"bodiless no-cors fetch, allowed_origins *", star, "POST", "", [][]string{browserNoCORS}, true},
		{"bodiless no-cors fetch, without cookies, allowed_origins *", star, "POST", "", [][]string{browserNoCORS, {"Cookie", ""}}, true},
		{"old browser: foreign Origin only, empty body", listed, "POST", "", [][]string{{"Origin", "https://evil.example", "Content-Type", "text/plain"}}, true},
		{"same-site is another origin", listed, "POST", "", [][]string{browserNoCORS, {"Sec-Fetch-Site", "same-site", "Origin", "https://www.example.com"}}, true},
		{"opaque origin (sandboxed frame)", listed, "POST", "", [][]string{{"Origin", "null", "Content-Type", "text/plain"}}, true},
		{"http page to a TLS listener", listed, "POST", "", [][]string{{"Origin", "http://api.example.com", "Content-Type", "text/plain"}}, true},
		// Methods and bodies that need a preflight: nothing could have
		// allowed them without a "*" (or a listed origin).
		{"DELETE", none, "DELETE", "", [][]string{browserCORS}, true},
		{"PUT JSON", listed, "PUT", `{}`, [][]string{browserCORS}, true},
		{"PATCH", none, "PATCH", `{}`, [][]string{browserCORS}, true},
		{"non-standard method", none, "PURGE", "", [][]string{browserCORS}, true},
		{"lower-case method (fetch does not normalize patch)", none, "patch", "", [][]string{browserCORS}, true},
		{"POST JSON", none, "POST", `{}`, [][]string{browserCORS}, true},
		// "*" allows anonymous calls that went through a preflight ...
		{"DELETE, allowed_origins *", star, "DELETE", "", [][]string{browserCORS}, false},
		{"POST JSON, allowed_origins *", star, "POST", `{}`, [][]string{browserCORS}, false},
		// ... never ones that carry a cookie.
		{"DELETE with a cookie, allowed_origins *", star, "DELETE", "", [][]string{browserCORS, cookie}, true},
		// What passes.
		{"listed origin", listed, "DELETE", "", [][]string{browserCORS, {"Origin", "https://app.example.com"}, cookie}, false},
		{"listed origin, empty form", listed, "POST", "", [][]string{browserForm, {"Origin", "https://app.example.com"}}, false},
		{"same-origin", none, "POST", "", [][]string{browserNoCORS, {"Sec-Fetch-Site", "same-origin", "Origin", "http://api.example.com"}}, false},
		{"https page through a TLS-terminating proxy", none, "POST", "", [][]string{{"Origin", "https://api.example.com", "Content-Type", "text/plain"}}, false},
		{"curl -X DELETE", none, "DELETE", "", nil, false},
		{"curl -d", none, "POST", "a=b", [][]string{{"Content-Type", "application/x-www-form-urlencoded"}}, false},
		{"cross-site GET", none, "GET", "", [][]string{browserNoCORS}, false},
		{"cross-site HEAD", none, "HEAD", "", [][]string{browserNoCORS}, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			target := "http://api.example.com/v1/shelves/1"
			if strings.Contains(tc.name, "TLS listener") {
				target = "https://api.example.com/v1/shelves/1" // r.TLS set
			}
			r := browserRequest(tc.method, target, tc.body, tc.kv...)
			if got := tc.c.Refuse(r); got != tc.refuse {
				t.Errorf("%s %v: got refuse=%v, want %v", tc.method, r.Header, got, tc.refuse)
			}
		})
	}
}
