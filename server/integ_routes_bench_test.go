package server_test

import (
	"io"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"strings"
	"testing"

	"github.com/portico-gw/portico/server/servertest"
)

// BenchmarkRoute measures a plain HTTP route through the whole gateway
// against httputil.ReverseProxy alone doing the same (strip the prefix,
// X-Forwarded-*), in front of the same backend, in this process.
func BenchmarkRoute(b *testing.B) {
	backend := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		io.WriteString(w, `{"name":"shelves/1/books/1","title":"The Left Hand of Darkness"}`)
	}))
	b.Cleanup(backend.Close)
	env := servertest.Start(b, servertest.Options{Config: withRoute(backend.URL, "/legacy/", true, nil)})
	target, _ := url.Parse(backend.URL)
	alone := httptest.NewServer(&httputil.ReverseProxy{
		Rewrite: func(pr *httputil.ProxyRequest) {
			pr.Out.URL.Path = strings.TrimPrefix(pr.Out.URL.Path, "/legacy")
			pr.SetURL(target)
			pr.SetXForwarded()
		},
		Transport: &http.Transport{MaxIdleConnsPerHost: 256, ForceAttemptHTTP2: true},
	})
	b.Cleanup(alone.Close)
	for _, tt := range []struct{ name, base string }{{"portico", env.URL}, {"reverseproxy", alone.URL}} {
		b.Run(tt.name, func(b *testing.B) {
			client := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 64}}
			u := tt.base + "/legacy/v1/shelves/1/books/1"
			b.ReportAllocs()
			b.RunParallel(func(pb *testing.PB) {
				for pb.Next() {
					resp, err := client.Get(u)
					if err != nil {
						b.Error(err)
						return
					}
					_, _ = io.Copy(io.Discard, resp.Body)
					resp.Body.Close()
					if resp.StatusCode != http.StatusOK {
						b.Errorf("got %d", resp.StatusCode)
						return
					}
				}
			})
		})
	}
}
