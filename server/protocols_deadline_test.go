package server_test

import (
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/portico-gw/portico/examples/bookstore"
	"github.com/portico-gw/portico/server/servertest"
)

// TestProtocolsClientDeadline: the deadline a client puts in the request
// bounds the call through the gateway — Connect-Timeout-Ms for Connect,
// grpc-timeout for gRPC-Web — on both listeners. The requests are sent
// by hand, with no deadline of the client's own, so only the gateway can
// end them: a backend asked to answer after 30s is given up on after
// 300ms with deadline_exceeded (Connect: HTTP 504 and its error JSON;
// gRPC-Web: grpc-status 4).
func TestProtocolsClientDeadline(t *testing.T) {
	env := servertest.Start(t, servertest.Options{})
	for _, base := range []string{env.URL, "http://" + env.Server.GRPCAddr} {
		t.Run("connect "+base, func(t *testing.T) {
			req, _ := http.NewRequest(http.MethodPost, base+bookstoreSvc+"GetBook", strings.NewReader(`{"name":"shelves/1/books/1"}`))
			req.Header.Set("Content-Type", "application/json")
			req.Header.Set("Connect-Protocol-Version", "1")
			req.Header.Set("Connect-Timeout-Ms", "300")
			req.Header.Set(bookstore.DelayKey, "30s")
			resp, body, took := timedCall(t, req)
			var got struct{ Code string }
			_ = json.Unmarshal(body, &got)
			if resp.StatusCode != http.StatusGatewayTimeout || got.Code != "deadline_exceeded" {
				t.Errorf("Connect GetBook with Connect-Timeout-Ms 300: got %d %s, want 504 deadline_exceeded", resp.StatusCode, body)
			}
			if took < 300*time.Millisecond || took >= 10*time.Second {
				t.Errorf("Connect GetBook with Connect-Timeout-Ms 300: answered after %v, want about 300ms", took)
			}
		})
		t.Run("grpc-web "+base, func(t *testing.T) {
			// GetBookRequest{name: "shelves/1/books/1"} in one frame.
			msg := append([]byte{0x0a, 17}, "shelves/1/books/1"...)
			frame := append([]byte{0, 0, 0, 0, byte(len(msg))}, msg...)
			req, _ := http.NewRequest(http.MethodPost, base+bookstoreSvc+"GetBook", bytes.NewReader(frame))
			req.Header.Set("Content-Type", "application/grpc-web+proto")
			req.Header.Set("X-Grpc-Web", "1")
			req.Header.Set("Grpc-Timeout", "300m")
			req.Header.Set(bookstore.DelayKey, "30s")
			resp, body, took := timedCall(t, req)
			grpcStatus := resp.Header.Get("Grpc-Status")
			if grpcStatus == "" && bytes.Contains(body, []byte("grpc-status:4")) {
				grpcStatus = "4"
			}
			if grpcStatus != "4" {
				t.Errorf("gRPC-Web GetBook with grpc-timeout 300m: got HTTP %d, grpc-status %q, body %q; want grpc-status 4", resp.StatusCode, resp.Header.Get("Grpc-Status"), body)
			}
			if took < 300*time.Millisecond || took >= 10*time.Second {
				t.Errorf("gRPC-Web GetBook with grpc-timeout 300m: answered after %v, want about 300ms", took)
			}
		})
	}
}

// timedCall sends req with a client whose own timeout (20s) is far past
// the deadline under test, and returns the answer, its body and the time
// it took.
func timedCall(t *testing.T, req *http.Request) (*http.Response, []byte, time.Duration) {
	t.Helper()
	client := *servertest.Client()
	client.Timeout = 20 * time.Second
	start := time.Now()
	resp, err := client.Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", req.Method, req.URL, err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	return resp, body, time.Since(start)
}
