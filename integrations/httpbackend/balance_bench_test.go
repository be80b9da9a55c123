package httpbackend

import (
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	configv1 "github.com/portico-gw/portico/gen/portico/config/v1"
	"github.com/portico-gw/portico/integrations"
	"github.com/portico-gw/portico/pool"
	"google.golang.org/protobuf/types/known/durationpb"
)

// BenchmarkProxyResilience measures a proxied GET through an http
// integration with one URL and nothing else, against two URLs with
// round robin, retries, outlier ejection and health checks (none
// tripping), to real HTTP backends in this process.
func BenchmarkProxyResilience(b *testing.B) {
	backend := func() string {
		s := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if r.URL.Path == "/healthz" {
				return
			}
			w.Header().Set("Content-Type", "application/json")
			_, _ = w.Write([]byte(`{"id":"1"}`))
		}))
		b.Cleanup(s.Close)
		return s.URL + "/api"
	}
	one, two := backend(), backend()
	for _, tt := range []struct {
		name string
		h    *configv1.HttpIntegration
	}{
		{"one-url", &configv1.HttpIntegration{Url: one}},
		{"two-urls-retry-outlier-health", &configv1.HttpIntegration{Urls: []string{one, two},
			Retry:            &configv1.HttpRetry{MaxAttempts: 3, On: []string{"502", "503", "connect_failure"}},
			OutlierDetection: &configv1.OutlierDetection{},
			HealthCheck:      &configv1.HttpHealthCheck{Path: "/healthz", Interval: durationpb.New(time.Hour)}}},
	} {
		b.Run(tt.name, func(b *testing.B) {
			be, err := Factory(integrations.Env{Pool: pool.New()}, &configv1.Integration{Name: "legacy", Kind: &configv1.Integration_Http{Http: tt.h}})
			if err != nil {
				b.Fatal(err)
			}
			b.Cleanup(func() { be.Close() })
			proxy, err := be.(*Integration).Proxy(ProxyOptions{})
			if err != nil {
				b.Fatal(err)
			}
			b.ReportAllocs()
			b.ResetTimer()
			b.RunParallel(func(pb *testing.PB) {
				for pb.Next() {
					rec := httptest.NewRecorder()
					proxy.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/v1/shelves/1", nil))
					if rec.Code != http.StatusOK {
						b.Errorf("got %d", rec.Code)
						return
					}
				}
			})
		})
	}
}
