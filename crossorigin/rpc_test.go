package crossorigin

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	configv1 "github.com/portico-gw/portico/gen/portico/config/v1"
)

// TestCORSBrowserRPC: with a cors section that lists no header, the
// preflights gRPC-Web and Connect clients send are granted (their request
// headers allowed), and their answers expose the gRPC status headers; a
// header nobody listed is still refused.
func TestCORSBrowserRPC(t *testing.T) {
	c, err := NewCORS(&configv1.Cors{
		AllowedOrigins:   []string{"https://app.example.com"},
		AllowCredentials: true,
	}, CORSOptions{Methods: StandardMethods(), Expose: []string{"X-Request-Id"}})
	if err != nil {
		t.Fatal(err)
	}
	h := c.Handler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.WriteHeader(http.StatusOK)
	}))
	preflight := func(headers string) *httptest.ResponseRecorder {
		r := httptest.NewRequest(http.MethodOptions, "/example.bookstore.v1.BookstoreService/GetShelf", nil)
		r.Header.Set("Origin", "https://app.example.com")
		r.Header.Set("Access-Control-Request-Method", "POST")
		r.Header.Set("Access-Control-Request-Headers", headers)
		w := httptest.NewRecorder()
		h.ServeHTTP(w, r)
		return w
	}
	for client, headers := range map[string]string{
		// What @connectrpc/connect-web's transports send (lower-case and
		// sorted, as browsers list them).
		"connect unary":  "connect-protocol-version,connect-timeout-ms,content-type",
		"connect stream": "connect-protocol-version,content-type,x-user-agent",
		"grpc-web":       "content-type,grpc-timeout,x-grpc-web,x-user-agent",
	} {
		w := preflight(headers)
		if got := w.Header().Get("Access-Control-Allow-Headers"); w.Code != http.StatusNoContent || got != headers {
			t.Errorf("%s preflight: got %d, Allow-Headers %q; want 204, %q", client, w.Code, got, headers)
		}
		if got := w.Header().Get("Access-Control-Allow-Credentials"); got != "true" {
			t.Errorf("%s preflight: Allow-Credentials %q, want true", client, got)
		}
	}
	if w := preflight("content-type,x-secret"); w.Header().Get("Access-Control-Allow-Origin") != "" {
		t.Errorf("preflight with an unlisted header: got Allow-Origin %q, want none", w.Header().Get("Access-Control-Allow-Origin"))
	}

	r := httptest.NewRequest(http.MethodPost, "/example.bookstore.v1.BookstoreService/GetShelf", nil)
	r.Header.Set("Origin", "https://app.example.com")
	w := httptest.NewRecorder()
	h.ServeHTTP(w, r)
	exposed := strings.Split(w.Header().Get("Access-Control-Expose-Headers"), ", ")
	for _, want := range []string{"X-Request-Id", "Grpc-Status", "Grpc-Message", "Grpc-Status-Details-Bin"} {
		found := false
		for _, e := range exposed {
			found = found || strings.EqualFold(e, want)
		}
		if !found {
			t.Errorf("answer: Expose-Headers %q, want %s in it", exposed, want)
		}
	}
}
