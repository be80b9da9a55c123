package server_test

// Request IDs: every call gets one, on both doors; it reaches the backend,
// the response header, the access log and error bodies.

import (
	"bufio"
	"context"
	"encoding/json"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/portico-gw/portico/codec"
	configv1 "github.com/portico-gw/portico/gen/portico/config/v1"
	"github.com/portico-gw/portico/server"
	"github.com/portico-gw/portico/server/servertest"
	"google.golang.org/grpc"
	"google.golang.org/grpc/metadata"
)

// isGenerated reports whether id is one the gateway made (a UUIDv7).
func isGenerated(id string) bool {
	u, err := uuid.Parse(id)
	return err == nil && u.Version() == 7
}

// idCall makes one REST POST and one gRPC call to Put, each sending
// sent as the client's X-Request-Id, and returns the IDs the client got
// back and the IDs the backend received.
func idCall(t *testing.T, env *servertest.HostileEnv, sent string) (restGot, restBackend, grpcGot, grpcBackend string) {
	t.Helper()
	req, _ := http.NewRequest("POST", env.URL+"/v1/things", strings.NewReader(`{"name":"x"}`))
	req.Header.Set("X-Request-Id", sent)
	resp, out := do(t, req)
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("REST: got %d %s", resp.StatusCode, out)
	}
	restGot = resp.Header.Get("X-Request-Id")
	if v := env.Mirror.LastMetadata().Get("x-request-id"); len(v) == 1 {
		restBackend = v[0]
	} else {
		t.Errorf("REST: the backend got x-request-id %q, want one value", v)
	}

	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	ctx = metadata.AppendToOutgoingContext(ctx, "x-request-id", sent)
	cs, err := env.Conn.NewStream(ctx, &unaryDesc, hostile+"Put", grpc.ForceCodecV2(codec.Client{}))
	if err != nil {
		t.Fatalf("gRPC: %v", err)
	}
	if err := cs.SendMsg(codec.NewFrame([]byte{0x0a, 0x01, 'x'})); err != nil {
		t.Fatalf("gRPC: %v", err)
	}
	_ = cs.CloseSend()
	var f codec.Frame
	if err := cs.RecvMsg(&f); err != nil {
		t.Fatalf("gRPC: %v", err)
	}
	f.Free()
	header, _ := cs.Header()
	if v := header.Get("x-request-id"); len(v) == 1 {
		grpcGot = v[0]
	} else {
		t.Errorf("gRPC: response header x-request-id %q, want one value", v)
	}
	if v := env.Mirror.LastMetadata().Get("x-request-id"); len(v) == 1 {
		grpcBackend = v[0]
	} else {
		t.Errorf("gRPC: the backend got x-request-id %q, want one value", v)
	}
	return restGot, restBackend, grpcGot, grpcBackend
}

// TestRequestIDTrust: a client's ID is replaced unless request_id.
// trust_incoming is set or the peer is one of network.trusted_proxies (and
// the ID is well formed); the backend gets the ID the client gets back.
func TestRequestIDTrust(t *testing.T) {
	for _, tc := range []struct {
		name string
		edit func(*configv1.Config)
		sent string
		keep bool
	}{
		{"untrusted client", nil, "client-chosen-1", false},
		{"trust_incoming", func(c *configv1.Config) { c.RequestId = &configv1.RequestId{TrustIncoming: true} }, "client-chosen-2", true},
		{"trust_incoming, malformed", func(c *configv1.Config) { c.RequestId = &configv1.RequestId{TrustIncoming: true} }, "no spaces allowed", false},
		{"trusted proxy", func(c *configv1.Config) { c.Network = &configv1.Network{TrustedProxies: []string{"127.0.0.1"}} }, "proxy-chosen", true},
		{"other proxies trusted", func(c *configv1.Config) { c.Network = &configv1.Network{TrustedProxies: []string{"10.0.0.0/8"}} }, "spoofed", false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			env := servertest.StartHostile(t, servertest.Options{Config: tc.edit})
			restGot, restBackend, grpcGot, grpcBackend := idCall(t, env, tc.sent)
			for _, d := range []struct{ door, got, backend string }{{"REST", restGot, restBackend}, {"gRPC", grpcGot, grpcBackend}} {
				if d.got != d.backend {
					t.Errorf("%s: the client got %q, the backend %q, want the same ID", d.door, d.got, d.backend)
				}
				if tc.keep && d.got != tc.sent {
					t.Errorf("%s: got %q, want the client's %q", d.door, d.got, tc.sent)
				}
				if !tc.keep && !isGenerated(d.got) {
					t.Errorf("%s: got %q, want a generated UUIDv7 in place of %q", d.door, d.got, tc.sent)
				}
			}
			if !tc.keep && restGot == grpcGot {
				t.Errorf("two calls got the same generated ID %q", restGot)
			}
		})
	}
}

// TestRequestIDInErrorsAndLogs: refusals carry the ID too (a 404 of the
// router, an error of the backend), in the response header, the JSON error
// body (a google.rpc.RequestInfo detail), problem+json's instance and the
// access log; request_id.header renames the header.
func TestRequestIDInErrorsAndLogs(t *testing.T) {
	var mu sync.Mutex
	var log strings.Builder
	env := servertest.StartHostile(t, servertest.Options{
		Config: func(c *configv1.Config) {
			c.RequestId = &configv1.RequestId{Header: "X-Correlation-Id"}
			c.Telemetry = &configv1.Telemetry{AccessLog: "json"}
		},
		Server: server.Options{AccessLog: lockedWriter{&mu, &log}},
	})
	resp, body := get(t, env.URL+"/v1/nothing/here")
	id404 := resp.Header.Get("X-Correlation-Id")
	if resp.StatusCode != http.StatusNotFound || !isGenerated(id404) {
		t.Fatalf("404: got %d with X-Correlation-Id %q, want 404 with a generated ID", resp.StatusCode, id404)
	}
	if resp.Header.Get("X-Request-Id") != "" {
		t.Errorf("X-Request-Id %q set although request_id.header names another", resp.Header.Get("X-Request-Id"))
	}
	var e struct {
		Details []map[string]any `json:"details"`
	}
	if err := json.Unmarshal(body, &e); err != nil {
		t.Fatalf("404 body %s: %v", body, err)
	}
	if len(e.Details) != 1 || e.Details[0]["@type"] != "type.googleapis.com/google.rpc.RequestInfo" || e.Details[0]["requestId"] != id404 {
		t.Errorf("404 body %s: want a RequestInfo detail with %q", body, id404)
	}

	opsShutdown(t, env.Server)
	var lines []map[string]any
	eventually(t, "an access log line", func() bool {
		mu.Lock()
		defer mu.Unlock()
		lines = nil
		sc := bufio.NewScanner(strings.NewReader(log.String()))
		for sc.Scan() {
			var l map[string]any
			if json.Unmarshal(sc.Bytes(), &l) == nil {
				lines = append(lines, l)
			}
		}
		return len(lines) == 1
	})
	if lines[0]["request_id"] != id404 {
		t.Errorf("access log: request_id %v, want %q", lines[0]["request_id"], id404)
	}
}

// TestRequestIDProblemInstance: problem+json names the call by its ID in
// instance, and has no RequestInfo detail besides.
func TestRequestIDProblemInstance(t *testing.T) {
	gw := respGateway(t, &configv1.ResponseMapping{Errors: "problem_json"})
	got := respREST(t, "GET", gw.url+"/v1/shelves/1", "", "X-Fail", "NOT_FOUND")
	id := got.header.Get("X-Request-Id")
	p := respJSON(t, got.body)
	if !isGenerated(id) || p["instance"] != "urn:request-id:"+id {
		t.Errorf("got X-Request-Id %q and instance %v, want instance urn:request-id:<the ID>", id, p["instance"])
	}
	if strings.Contains(string(got.body), "RequestInfo") {
		t.Errorf("problem body %s: the ID is in instance, want no RequestInfo detail", got.body)
	}
}

// withoutRequestInfo checks that a JSON error body of Portico's carries
// the response's request ID as a google.rpc.RequestInfo detail (the last
// one) and returns the body without it, for the tests that compare bodies
// with grpc-gateway's (which has none) or count a backend's details.
// Other bodies are returned as they are.
func withoutRequestInfo(t *testing.T, resp *http.Response, body []byte) []byte {
	t.Helper()
	id := resp.Header.Get("X-Request-Id")
	var e map[string]any
	if id == "" || resp.StatusCode < 400 || json.Unmarshal(body, &e) != nil || e["code"] == nil {
		return body
	}
	details, _ := e["details"].([]any)
	if len(details) == 0 {
		t.Errorf("error body %s: want a RequestInfo detail with %q", body, id)
		return body
	}
	last, _ := details[len(details)-1].(map[string]any)
	if last["@type"] != "type.googleapis.com/google.rpc.RequestInfo" || last["requestId"] != id {
		t.Errorf("error body %s: last detail %v, want a RequestInfo with %q", body, last, id)
		return body
	}
	e["details"] = details[:len(details)-1]
	out, _ := json.Marshal(e)
	return out
}

// TestRequestIDExposedToScripts: with cors set, a page's script may read
// the request ID header (request_id.header, exposed by default).
func TestRequestIDExposedToScripts(t *testing.T) {
	env := servertest.Start(t, servertest.Options{Config: func(c *configv1.Config) {
		c.Cors = &configv1.Cors{AllowedOrigins: []string{"https://app.example.com"}}
		c.RequestId = &configv1.RequestId{Header: "X-Correlation-Id"}
	}})
	req, _ := http.NewRequest("GET", env.URL+"/v1/shelves/1", nil)
	req.Header.Set("Origin", "https://app.example.com")
	resp, body := do(t, req)
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("got %d %s", resp.StatusCode, body)
	}
	if got := resp.Header.Get("Access-Control-Expose-Headers"); !strings.Contains(strings.ToLower(got), "x-correlation-id") {
		t.Errorf("Access-Control-Expose-Headers: got %q, want X-Correlation-Id among them", got)
	}
}
