package webprotocols

import (
	"bytes"
	"io"
	"net/http/httptest"
	"testing"
)

// FuzzEntry: any request is classified without panicking, and any
// gRPC-Web text body decodes or fails with errBadBase64 (or its read
// error), never panics.
func FuzzEntry(f *testing.F) {
	f.Add("application/grpc-web-text", "1", "connect=v1", []byte("AAAAAAE="))
	f.Add("application/connect+json", "", "", []byte("{}"))
	f.Fuzz(func(t *testing.T, ct, version, query string, body []byte) {
		r := httptest.NewRequest("GET", "/pkg.S/M", nil)
		r.URL.RawQuery = query
		r.Header.Set("Content-Type", ct)
		r.Header.Set("Connect-Protocol-Version", version)
		p := Classify(r)
		_ = normalize(r, p)
		b := &textBody{src: io.NopCloser(bytes.NewReader(body))}
		_, _ = io.ReadAll(b)
	})
}
