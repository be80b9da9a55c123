package crossorigin

import (
	"net/http"
	"net/http/httptest"
	"testing"

	configv1 "github.com/portico-gw/portico/gen/portico/config/v1"
)

// TestCORSAllow: the request headers CORSOptions.Allow names (the browser
// RPC protocols') are granted in preflights beside the config's, whether
// or not the config lists any; a header neither names is still refused,
// and "*" still allows everything.
func TestCORSAllow(t *testing.T) {
	allow := []string{"Connect-Protocol-Version", "Connect-Timeout-Ms", "X-Grpc-Web", "X-User-Agent", "Grpc-Timeout"}
	preflight := func(t *testing.T, c *configv1.Cors, headers string) *httptest.ResponseRecorder {
		t.Helper()
		h, err := NewCORS(c, CORSOptions{Methods: StandardMethods(), Allow: allow})
		if err != nil {
			t.Fatal(err)
		}
		r := httptest.NewRequest(http.MethodOptions, "/example.bookstore.v1.BookstoreService/GetShelf", nil)
		r.Header.Set("Origin", "https://app.example.com")
		r.Header.Set("Access-Control-Request-Method", "POST")
		r.Header.Set("Access-Control-Request-Headers", headers)
		w := httptest.NewRecorder()
		h.Handler(http.NotFoundHandler()).ServeHTTP(w, r)
		return w
	}
	origins := []string{"https://app.example.com"}
	for _, tc := range []struct {
		name    string
		cors    *configv1.Cors
		headers string
		granted bool
	}{
		{"connect, no allowed_headers", &configv1.Cors{AllowedOrigins: origins}, "connect-protocol-version,connect-timeout-ms,content-type", true},
		{"grpc-web, no allowed_headers", &configv1.Cors{AllowedOrigins: origins}, "content-type,grpc-timeout,x-grpc-web,x-user-agent", true},
		{"grpc-web and the config's", &configv1.Cors{AllowedOrigins: origins, AllowedHeaders: []string{"authorization"}}, "authorization,x-grpc-web", true},
		{"a header nobody allows", &configv1.Cors{AllowedOrigins: origins, AllowedHeaders: []string{"authorization"}}, "x-grpc-web,x-secret", false},
		{"*", &configv1.Cors{AllowedOrigins: origins, AllowedHeaders: []string{"*"}}, "x-grpc-web,x-secret", true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			w := preflight(t, tc.cors, tc.headers)
			got := w.Header().Get("Access-Control-Allow-Headers")
			if tc.granted && (w.Code != http.StatusNoContent || got != tc.headers) {
				t.Errorf("got %d, Allow-Headers %q; want 204, %q", w.Code, got, tc.headers)
			}
			if !tc.granted && w.Header().Get("Access-Control-Allow-Origin") != "" {
				t.Errorf("got Allow-Origin %q, Allow-Headers %q; want the preflight refused", w.Header().Get("Access-Control-Allow-Origin"), got)
			}
		})
	}
}
