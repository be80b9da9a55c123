package server_test

import (
	"net/http"
	"strings"
	"testing"

	"github.com/portico-gw/portico/server/servertest"
)

// TestRegressConnectMalformedJSON: vanguard reported a Connect request
// body it could not decode as an internal error (HTTP 500); it is the
// client's: invalid_argument, 400.
func TestRegressConnectMalformedJSON(t *testing.T) {
	env := servertest.Start(t, servertest.Options{})
	req, _ := http.NewRequest(http.MethodPost, env.URL+bookstoreSvc+"GetShelfStats", strings.NewReader(`{"shelf":"x"}`))
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Connect-Protocol-Version", "1")
	resp, body := do(t, req)
	if resp.StatusCode != http.StatusBadRequest || !strings.Contains(string(body), `"code":"invalid_argument"`) {
		t.Errorf("got %d %s, want 400 invalid_argument", resp.StatusCode, body)
	}
}

// TestRegressGRPCWebTruncatedEnvelope: a gRPC-Web body that ended inside
// its envelope reached grpc-go's transport, which ended the call with
// INTERNAL ("unexpected EOF"), as if the server had failed; it is the
// client's error: INVALID_ARGUMENT, and nothing is forwarded.
func TestRegressGRPCWebTruncatedEnvelope(t *testing.T) {
	env := servertest.Start(t, servertest.Options{})
	req, _ := http.NewRequest(http.MethodPost, env.URL+bookstoreSvc+"GetBook", strings.NewReader("\x00\x00\x00\x00\x09\x0a"))
	req.Header.Set("Content-Type", "application/grpc-web+proto")
	resp, body := do(t, req)
	if got := resp.Header.Get("Grpc-Status"); resp.StatusCode != http.StatusOK || got != "3" {
		t.Errorf("got %d grpc-status %q %s, want 200 with grpc-status 3", resp.StatusCode, got, body)
	}
	if n := env.Backend.Calls(); n != 0 {
		t.Errorf("the backend got %d calls, want 0", n)
	}
}

// TestRegressWebJSONGzipBomb: vanguard decompresses a gzip message itself
// when it must transcode it — Connect JSON, unary and streaming, and
// gRPC-Web +json — and its own decompressor read to the end: a 1 MiB
// gzip bomb made the gateway allocate 4 GiB for one Connect JSON stream
// (15 to 41 s a call). Its gzip is now bounded at max_body_bytes
// (webprotocols/gunzip.go): RESOURCE_EXHAUSTED in bounded memory, as on
// every other path (TestCompressionBombWebProtocols), nothing forwarded.
func TestRegressWebJSONGzipBomb(t *testing.T) {
	env := servertest.StartHostile(t, servertest.Options{})
	b := bomb(t)
	for _, tc := range []webBombCall{{
		name:        "connect unary json",
		path:        hostile + "Put",
		contentType: "application/json",
		headers:     map[string]string{"Connect-Protocol-Version": "1", "Content-Encoding": "gzip"},
		body:        func(b []byte) []byte { return b },
		code:        connectUnaryCode,
		want:        "resource_exhausted",
	}, {
		name:        "connect stream json",
		path:        hostile + "Watch",
		contentType: "application/connect+json",
		headers:     map[string]string{"Connect-Protocol-Version": "1", "Connect-Content-Encoding": "gzip"},
		body:        func(b []byte) []byte { return envelope(1, b) },
		code:        connectStreamCode,
		want:        "resource_exhausted",
	}, {
		name:        "grpc-web json",
		path:        hostile + "Put",
		contentType: "application/grpc-web+json",
		headers:     map[string]string{"X-Grpc-Web": "1", "Grpc-Encoding": "gzip"},
		body:        func(b []byte) []byte { return envelope(1, b) },
		code:        grpcWebCode,
		want:        "8",
	}} {
		t.Run(tc.name, func(t *testing.T) { refusesBomb(t, env, b, tc) })
	}
}
