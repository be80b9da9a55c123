package server_test

import (
	"bytes"
	"io"
	"net/http"
	"testing"

	"github.com/portico-gw/portico/server/servertest"
)

// BenchmarkWebUnary: GetBook over REST (GET), Connect JSON and gRPC-Web
// (the direct path), client, gateway and backend in one process: for
// allocation profiles of the gateway's side (-memprofile; go run ./bench
// -web measures the CPU ratios with the processes apart).
//
//	go test -run '^$' -bench BenchmarkWebUnary -benchmem ./server/
func BenchmarkWebUnary(b *testing.B) {
	env := servertest.Start(b, servertest.Options{})
	tr := &http.Transport{DisableCompression: true, MaxIdleConnsPerHost: 1}
	b.Cleanup(tr.CloseIdleConnections)
	get := bookstoreSvc + "GetBook"
	for _, c := range []struct {
		name, method, path, ct string
		body                   []byte
	}{
		{"rest", "GET", "/v1/shelves/1/books/1", "", nil},
		{"connect-json", "POST", get, "application/json", []byte(`{"name":"shelves/1/books/1"}`)},
		{"grpc-web", "POST", get, "application/grpc-web+proto", envelope(0, getBookProto(b))},
	} {
		b.Run(c.name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				req, _ := http.NewRequest(c.method, env.URL+c.path, bytes.NewReader(c.body))
				if c.ct != "" {
					req.Header.Set("Content-Type", c.ct)
				}
				if c.ct == "application/json" {
					req.Header.Set("Connect-Protocol-Version", "1")
				}
				resp, err := tr.RoundTrip(req)
				if err != nil {
					b.Fatal(err)
				}
				_, _ = io.Copy(io.Discard, resp.Body)
				resp.Body.Close()
				if resp.StatusCode != http.StatusOK || resp.Header.Get("Grpc-Status") != "" && resp.Header.Get("Grpc-Status") != "0" {
					b.Fatalf("%s: got %d grpc-status %q", c.name, resp.StatusCode, resp.Header.Get("Grpc-Status"))
				}
			}
		})
	}
}
