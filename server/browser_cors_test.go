package server_test

import (
	"net/http"
	"strings"
	"testing"

	configv1 "github.com/portico-gw/portico/gen/portico/config/v1"
	"github.com/portico-gw/portico/server/servertest"
	"google.golang.org/protobuf/proto"
)

// TestBrowserCORSCredentials: with cors set, the gateway grants the preflights of
// gRPC-Web and Connect pages (their request headers, with credentials)
// and exposes what their clients read (the gRPC status headers, the
// request ID); with both protocols off, their headers are not granted.
func TestBrowserCORSCredentials(t *testing.T) {
	const origin = "https://app.example.com"
	start := func(on bool) *servertest.Env {
		return servertest.Start(t, servertest.Options{Config: func(c *configv1.Config) {
			c.Cors = &configv1.Cors{AllowedOrigins: []string{origin}, AllowCredentials: true}
			if !on {
				c.Protocols = &configv1.Protocols{GrpcWeb: proto.Bool(false), Connect: proto.Bool(false)}
			}
		}})
	}
	preflight := func(env *servertest.Env, headers string) *http.Response {
		req, _ := http.NewRequest(http.MethodOptions, env.URL+bookstoreSvc+"GetShelf", nil)
		req.Header.Set("Origin", origin)
		req.Header.Set("Access-Control-Request-Method", "POST")
		req.Header.Set("Access-Control-Request-Headers", headers)
		resp, _ := do(t, req)
		return resp
	}
	clients := map[string]string{
		"connect":  "connect-protocol-version,connect-timeout-ms,content-type",
		"grpc-web": "content-type,grpc-timeout,x-grpc-web,x-user-agent",
	}
	env := start(true)
	for client, headers := range clients {
		resp := preflight(env, headers)
		if got := resp.Header.Get("Access-Control-Allow-Headers"); resp.StatusCode != http.StatusNoContent || got != headers {
			t.Errorf("%s preflight: got %d, Allow-Headers %q; want 204, %q", client, resp.StatusCode, got, headers)
		}
		if got := resp.Header.Get("Access-Control-Allow-Credentials"); got != "true" {
			t.Errorf("%s preflight: Allow-Credentials %q, want true", client, got)
		}
	}

	// A gRPC-Web call from the page: what its script may read.
	req, _ := http.NewRequest(http.MethodPost, env.URL+bookstoreSvc+"GetShelf", strings.NewReader("\x00\x00\x00\x00\x02\x08\x01"))
	req.Header.Set("Origin", origin)
	req.Header.Set("Content-Type", "application/grpc-web+proto")
	req.Header.Set("X-Grpc-Web", "1")
	resp, body := do(t, req)
	if resp.StatusCode != http.StatusOK || resp.Header.Get("Access-Control-Allow-Origin") != origin {
		t.Fatalf("gRPC-Web GetShelf: got %d, Allow-Origin %q, body %q", resp.StatusCode, resp.Header.Get("Access-Control-Allow-Origin"), body)
	}
	exposed := strings.ToLower(resp.Header.Get("Access-Control-Expose-Headers"))
	for _, h := range []string{"grpc-status", "grpc-message", "grpc-status-details-bin", "x-request-id"} {
		if !strings.Contains(exposed, h) {
			t.Errorf("gRPC-Web answer: Expose-Headers %q, want %s in it", exposed, h)
		}
	}

	env = start(false)
	for client, headers := range clients {
		if resp := preflight(env, headers); resp.Header.Get("Access-Control-Allow-Origin") != "" {
			t.Errorf("%s preflight with the protocols off: got Allow-Headers %q, want it refused", client, resp.Header.Get("Access-Control-Allow-Headers"))
		}
	}
}
