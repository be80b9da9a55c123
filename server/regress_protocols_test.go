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
