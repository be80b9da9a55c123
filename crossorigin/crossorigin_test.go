package crossorigin

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/portico-gw/portico/config"
	configv1 "github.com/portico-gw/portico/gen/portico/config/v1"
	"google.golang.org/protobuf/types/known/durationpb"
)

func TestCORS(t *testing.T) {
	c, err := NewCORS(&configv1.Cors{
		AllowedOrigins: []string{"https://app.example.com", "https://*.tools.example.com"},
		AllowedHeaders: []string{"authorization", "content-type", "x-api-key"},
		MaxAge:         durationpb.New(10 * time.Minute),
	}, CORSOptions{Methods: StandardMethods(), Expose: []string{"RateLimit"}})
	if err != nil {
		t.Fatal(err)
	}
	reached := 0
	h := c.Handler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		reached++
		w.WriteHeader(http.StatusTeapot)
	}))
	do := func(method string, kv ...string) *httptest.ResponseRecorder {
		r := httptest.NewRequest(method, "/v1/shelves", nil)
		for i := 0; i < len(kv); i += 2 {
			r.Header.Set(kv[i], kv[i+1])
		}
		w := httptest.NewRecorder()
		h.ServeHTTP(w, r)
		return w
	}

	// A preflight from an allowed origin is answered here, not passed on.
	w := do(http.MethodOptions, "Origin", "https://app.example.com", "Access-Control-Request-Method", "DELETE", "Access-Control-Request-Headers", "authorization,x-api-key")
	if w.Code != http.StatusNoContent || reached != 0 {
		t.Fatalf("preflight: got %d (handler reached %d times), want 204 and not passed on", w.Code, reached)
	}
	for k, want := range map[string]string{
		"Access-Control-Allow-Origin":  "https://app.example.com",
		"Access-Control-Allow-Methods": "DELETE",
		"Access-Control-Allow-Headers": "authorization,x-api-key",
		"Access-Control-Max-Age":       "600",
	} {
		if got := w.Header().Get(k); got != want {
			t.Errorf("preflight %s: got %q, want %q", k, got, want)
		}
	}
	if v := strings.Join(w.Header().Values("Vary"), ","); !strings.Contains(v, "Origin") {
		t.Errorf("preflight Vary: got %q, want Origin in it", v)
	}
	// A wildcard origin.
	w = do(http.MethodOptions, "Origin", "https://a.tools.example.com", "Access-Control-Request-Method", "GET")
	if got := w.Header().Get("Access-Control-Allow-Origin"); got != "https://a.tools.example.com" {
		t.Errorf("wildcard origin: got Allow-Origin %q", got)
	}
	// Disallowed: an origin, a header, a method.
	for _, kv := range [][]string{
		{"Origin", "https://evil.example", "Access-Control-Request-Method", "GET"},
		{"Origin", "https://app.example.com", "Access-Control-Request-Method", "GET", "Access-Control-Request-Headers", "x-secret"},
		{"Origin", "https://app.example.com", "Access-Control-Request-Method", "CONNECT"},
	} {
		w := do(http.MethodOptions, kv...)
		for k := range w.Header() {
			if strings.HasPrefix(k, "Access-Control-") {
				t.Errorf("refused preflight %v: got CORS header %s", kv, k)
			}
		}
	}
	// An actual request: headers added, passed on.
	w = do(http.MethodGet, "Origin", "https://app.example.com")
	if w.Code != http.StatusTeapot || w.Header().Get("Access-Control-Allow-Origin") != "https://app.example.com" {
		t.Errorf("actual request: got %d, Allow-Origin %q", w.Code, w.Header().Get("Access-Control-Allow-Origin"))
	}
	if got := w.Header().Get("Access-Control-Expose-Headers"); got != "Ratelimit" {
		t.Errorf("Expose-Headers: got %q, want Ratelimit", got)
	}
	if got := w.Header().Get("Vary"); got != "Origin" {
		t.Errorf("actual request Vary: got %q, want Origin", got)
	}
	w = do(http.MethodGet, "Origin", "https://evil.example")
	if w.Code != http.StatusTeapot || w.Header().Get("Access-Control-Allow-Origin") != "" || w.Header().Get("Vary") != "Origin" {
		t.Errorf("disallowed origin: got %d, headers %v; want passed on, no CORS headers, Vary: Origin", w.Code, w.Header())
	}
}

func TestCORSConfigErrors(t *testing.T) {
	if c, err := NewCORS(&configv1.Cors{}, CORSOptions{}); c != nil || err != nil {
		t.Errorf("no origins: got %v, %v; want nil, nil", c, err)
	}
	_, err := NewCORS(&configv1.Cors{
		AllowedOrigins:   []string{"*", "app.example.com", "https://x.example.com/path", "https://*.*.example.com"},
		AllowCredentials: true,
		AllowedHeaders:   []string{"bad header"},
	}, CORSOptions{})
	ce, ok := err.(config.Errors)
	if !ok {
		t.Fatalf("got %v, want config.Errors", err)
	}
	var fields []string
	for _, e := range ce {
		fields = append(fields, e.Field)
	}
	want := "cors.allowed_origins[1] cors.allowed_origins[2] cors.allowed_origins[3] cors.allow_credentials cors.allowed_headers[0]"
	if got := strings.Join(fields, " "); got != want {
		t.Errorf("got fields %q, want %q", got, want)
	}
}

func TestCSRF(t *testing.T) {
	c := NewCSRF([]string{"https://app.example.com", "*"})
	for _, tc := range []struct {
		name   string
		method string
		body   string
		kv     []string
		refuse bool
	}{
		{"curl -d: no Origin", "POST", "a=b", []string{"Content-Type", "application/x-www-form-urlencoded"}, false},
		{"cross-site form", "POST", "a=b", []string{"Sec-Fetch-Site", "cross-site", "Origin", "https://evil.example", "Content-Type", "application/x-www-form-urlencoded"}, true},
		{"cross-site text/plain JSON", "POST", `{"x":1}`, []string{"Sec-Fetch-Site", "cross-site", "Content-Type", "text/plain;charset=UTF-8"}, true},
		{"cross-site multipart", "PUT", "--x--", []string{"Sec-Fetch-Site", "cross-site", "Content-Type", "multipart/form-data; boundary=x"}, true},
		{"cross-site without Content-Type", "POST", "x", []string{"Sec-Fetch-Site", "cross-site"}, true},
		{"old browser: foreign Origin, no Sec-Fetch-Site", "POST", "a=b", []string{"Origin", "https://evil.example", "Content-Type", "text/plain"}, true},
		{"same origin by Host", "POST", "a=b", []string{"Origin", "http://example.com", "Content-Type", "text/plain"}, false},
		{"same-origin fetch", "POST", "a=b", []string{"Sec-Fetch-Site", "same-origin", "Origin", "https://evil.example", "Content-Type", "text/plain"}, false},
		{"allowed origin is trusted", "POST", "a=b", []string{"Sec-Fetch-Site", "cross-site", "Origin", "https://app.example.com", "Content-Type", "text/plain"}, false},
		{"cross-site JSON needs a preflight: left to CORS", "POST", `{}`, []string{"Sec-Fetch-Site", "cross-site", "Origin", "https://evil.example", "Content-Type", "application/json"}, false},
		{"cross-site without a body", "POST", "", []string{"Sec-Fetch-Site", "cross-site", "Origin", "https://evil.example", "Content-Type", "text/plain"}, true},
		{"cross-site GET", "GET", "", []string{"Sec-Fetch-Site", "cross-site", "Origin", "https://evil.example"}, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := httptest.NewRequest(tc.method, "http://example.com/v1/shelves", strings.NewReader(tc.body))
			for i := 0; i < len(tc.kv); i += 2 {
				r.Header.Set(tc.kv[i], tc.kv[i+1])
			}
			if got := c.Refuse(r); got != tc.refuse {
				t.Errorf("got refuse=%v, want %v", got, tc.refuse)
			}
		})
	}
	// "*" alone trusts no origin.
	star := NewCSRF([]string{"*"})
	r := httptest.NewRequest("POST", "http://example.com/", strings.NewReader("a=b"))
	r.Header.Set("Sec-Fetch-Site", "cross-site")
	r.Header.Set("Origin", "https://evil.example")
	r.Header.Set("Content-Type", "text/plain")
	if !star.Refuse(r) {
		t.Error(`allowed_origins ["*"]: a cross-site form post passed`)
	}
}

func TestCrossSite(t *testing.T) {
	for _, tc := range []struct {
		name   string
		target string
		kv     []string
		want   bool
	}{
		{"no browser headers", "http://api.example.com/", nil, false},
		{"Sec-Fetch-Site same-origin", "http://api.example.com/", []string{"Sec-Fetch-Site", "same-origin", "Origin", "https://evil.example"}, false},
		{"Sec-Fetch-Site none", "http://api.example.com/", []string{"Sec-Fetch-Site", "none"}, false},
		{"Sec-Fetch-Site cross-site", "http://api.example.com/", []string{"Sec-Fetch-Site", "cross-site"}, true},
		{"Sec-Fetch-Site same-site", "http://api.example.com/", []string{"Sec-Fetch-Site", "same-site", "Origin", "https://www.example.com"}, true},
		{"Origin is Host", "http://api.example.com/", []string{"Origin", "http://api.example.com"}, false},
		{"Origin is Host, other case", "http://api.example.com/", []string{"Origin", "http://API.example.com"}, false},
		{"https Origin behind a TLS-terminating proxy", "http://api.example.com/", []string{"Origin", "https://api.example.com"}, false},
		{"http Origin on a TLS listener", "https://api.example.com/", []string{"Origin", "http://api.example.com"}, true},
		{"https Origin on a TLS listener", "https://api.example.com/", []string{"Origin", "https://api.example.com"}, false},
		{"other port", "http://api.example.com/", []string{"Origin", "http://api.example.com:8080"}, true},
		{"other host", "http://api.example.com/", []string{"Origin", "https://evil.example"}, true},
		{"opaque origin", "http://api.example.com/", []string{"Origin", "null"}, true},
		{"other scheme", "http://api.example.com/", []string{"Origin", "chrome-extension://api.example.com"}, true},
	} {
		r := httptest.NewRequest("GET", tc.target, nil)
		for i := 0; i < len(tc.kv); i += 2 {
			r.Header.Set(tc.kv[i], tc.kv[i+1])
		}
		if got := CrossSite(r); got != tc.want {
			t.Errorf("%s: got %v, want %v", tc.name, got, tc.want)
		}
	}
}

func TestOriginsWebSocket(t *testing.T) {
	star := NewOrigins([]string{"*", "https://app.example.com"})
	listed := NewOrigins([]string{"https://*.tools.example.com"})
	for _, tc := range []struct {
		name   string
		o      *Origins
		kv     []string
		accept bool
	}{
		{"no Origin", listed, []string{"Cookie", "s=1"}, true},
		{"own origin with a cookie", listed, []string{"Origin", "http://api.example.com", "Cookie", "s=1"}, true},
		{"listed wildcard origin with a cookie", listed, []string{"Origin", "https://a.tools.example.com", "Cookie", "s=1"}, true},
		{"foreign origin, not listed", listed, []string{"Origin", "https://evil.example"}, false},
		{"foreign origin, *", star, []string{"Origin", "https://evil.example"}, true},
		{"foreign origin, *, cookie", star, []string{"Origin", "https://evil.example", "Cookie", "s=1"}, false},
		{"foreign origin, *, Authorization", star, []string{"Origin", "https://evil.example", "Authorization", "Basic eDp5"}, false},
		{"listed origin, *, cookie", star, []string{"Origin", "https://app.example.com", "Cookie", "s=1"}, true},
		{"same-site, *, cookie", star, []string{"Origin", "https://www.example.com", "Sec-Fetch-Site", "same-site", "Cookie", "s=1"}, false},
	} {
		r := httptest.NewRequest("GET", "http://api.example.com/v1/books:lookup", nil)
		for i := 0; i < len(tc.kv); i += 2 {
			r.Header.Set(tc.kv[i], tc.kv[i+1])
		}
		err := tc.o.WebSocket(r)
		if got := err == nil; got != tc.accept {
			t.Errorf("%s: got %v, want accepted=%v", tc.name, err, tc.accept)
		}
	}
}
