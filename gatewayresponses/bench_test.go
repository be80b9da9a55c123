package gatewayresponses

import (
	"net/http"
	"net/http/httptest"
	"testing"

	configv1 "github.com/portico-gw/portico/gen/portico/config/v1"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
)

// BenchmarkHeaders: what the headers edge adds to one answer (two
// headers; "off" is the handler alone, as with nothing configured).
//
//	go test -run '^$' -bench 'Headers|Body' -benchmem ./gatewayresponses/
func BenchmarkHeaders(b *testing.B) {
	r, err := New(&configv1.GatewayResponses{Headers: map[string]string{
		"Strict-Transport-Security": "max-age=63072000", "X-Frame-Options": "DENY",
	}}, "X-Request-Id")
	if err != nil {
		b.Fatal(err)
	}
	answer := http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		_, _ = w.Write([]byte(`{}`))
	})
	req := httptest.NewRequest(http.MethodGet, "/", nil)
	for _, tc := range []struct {
		name string
		h    http.Handler
	}{{"off", answer}, {"on", r.Handler(answer)}} {
		b.Run(tc.name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				w := &discard{h: http.Header{}}
				tc.h.ServeHTTP(w, req)
			}
		})
	}
}

// BenchmarkBody: rendering a shaped refusal's body.
func BenchmarkBody(b *testing.B) {
	r, err := New(&configv1.GatewayResponses{Errors: []*configv1.GatewayError{
		{Status: 429, Json: `{"error": "too many requests", "request_id": "${request_id}", "message": "${message}"}`},
	}}, "X-Request-Id")
	if err != nil {
		b.Fatal(err)
	}
	st := status.New(codes.ResourceExhausted, "rate limit exceeded")
	b.ReportAllocs()
	for b.Loop() {
		if _, _, ok := r.Body(429, st, "0193a6f0-7c1e-7d3a-9b1e-1c2d3e4f5a6b"); !ok {
			b.Fatal("not shaped")
		}
	}
}

// discard is a ResponseWriter that keeps nothing but its header.
type discard struct{ h http.Header }

func (d *discard) Header() http.Header         { return d.h }
func (d *discard) Write(p []byte) (int, error) { return len(p), nil }
func (d *discard) WriteHeader(int)             {}
