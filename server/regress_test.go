package server_test

// One test per finding of the hardening issue (a hostile client against
// both doors), named for it.

import (
	"bufio"
	"context"
	"crypto/tls"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/coder/websocket"
	corev3 "github.com/envoyproxy/go-control-plane/envoy/config/core/v3"
	authv3 "github.com/envoyproxy/go-control-plane/envoy/service/auth/v3"
	"github.com/portico-gw/portico/auth/apikey"
	"github.com/portico-gw/portico/auth/authtest"
	"github.com/portico-gw/portico/codec"
	"github.com/portico-gw/portico/examples/bookstore"
	bookstorev1 "github.com/portico-gw/portico/gen/example/bookstore/v1"
	messagingv1 "github.com/portico-gw/portico/gen/example/messaging/v1"
	adminv1 "github.com/portico-gw/portico/gen/portico/admin/v1"
	configv1 "github.com/portico-gw/portico/gen/portico/config/v1"
	"github.com/portico-gw/portico/server"
	"github.com/portico-gw/portico/server/servertest"
	"golang.org/x/net/http2"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/credentials/insecure"
	healthpb "google.golang.org/grpc/health/grpc_health_v1"
	"google.golang.org/grpc/metadata"
	reflectionpb "google.golang.org/grpc/reflection/grpc_reflection_v1"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/durationpb"
	"google.golang.org/protobuf/types/known/structpb"
)

const hostile = "/hostile.v1.Hostile/"

var (
	unaryDesc  = grpc.StreamDesc{}
	serverDesc = grpc.StreamDesc{ServerStreams: true}
	clientDesc = grpc.StreamDesc{ClientStreams: true}
	bidiDesc   = grpc.StreamDesc{ClientStreams: true, ServerStreams: true}
)

// rawCall sends frames, as they are, on a call to the gRPC door and
// returns the response frames and the call's status.
func rawCall(t *testing.T, conn *grpc.ClientConn, ctx context.Context, method string, desc grpc.StreamDesc, frames ...[]byte) ([][]byte, error) {
	t.Helper()
	if ctx == nil {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
	}
	cs, err := conn.NewStream(ctx, &desc, method, grpc.ForceCodecV2(codec.Client{}))
	if err != nil {
		return nil, err
	}
	for _, f := range frames {
		if err := cs.SendMsg(codec.NewFrame(f)); err != nil {
			break // the server ended the call: its status comes from RecvMsg
		}
	}
	_ = cs.CloseSend()
	var out [][]byte
	for {
		var f codec.Frame
		if err := cs.RecvMsg(&f); err != nil {
			if err == io.EOF {
				return out, nil
			}
			return out, err
		}
		out = append(out, append([]byte(nil), f.Bytes()...))
		f.Free()
	}
}

func mustMarshal(t *testing.T, m proto.Message) []byte {
	t.Helper()
	b, err := proto.Marshal(m)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// wantCode fails the test unless err has code want.
func wantCode(t *testing.T, what string, err error, want codes.Code) {
	t.Helper()
	if got := status.Code(err); got != want {
		t.Errorf("%s: got %v, want %v", what, err, want)
	}
}

// TestRegressMapEntryPanic (finding 1): a map entry repeating its key with
// the wrong wire type made protobuf-go's slow path panic on a
// descriptor-only message, and the gRPC door decoded requests outside any
// recover (in streams, on a goroutine with none): one message took the
// process down. Now every shape answers INVALID_ARGUMENT and the gateway
// keeps serving.
func TestRegressMapEntryPanic(t *testing.T) {
	env := servertest.StartHostile(t, servertest.Options{})
	bad := map[string][]byte{
		"map<string,string>":        {0x1a, 0x05, 0x0a, 0x01, 0x61, 0x08, 0x00},
		"Struct":                    {0x22, 0x07, 0x0a, 0x05, 0x0a, 0x01, 0x61, 0x08, 0x00},
		"Value.struct_value":        {0x2a, 0x09, 0x2a, 0x07, 0x0a, 0x05, 0x0a, 0x01, 0x61, 0x08, 0x00},
		"map<string,Thing> message": {0x5a, 0x05, 0x0a, 0x01, 0x61, 0x08, 0x00},
	}
	good := []byte{0x0a, 0x02, 'o', 'k'} // name: "ok"
	shapes := []struct {
		method string
		desc   grpc.StreamDesc
		frames func(bad []byte) [][]byte
	}{
		{"Put", unaryDesc, func(b []byte) [][]byte { return [][]byte{b} }},
		{"Watch", serverDesc, func(b []byte) [][]byte { return [][]byte{b} }},
		{"Collect", clientDesc, func(b []byte) [][]byte { return [][]byte{good, b} }},
		{"Chat", bidiDesc, func(b []byte) [][]byte { return [][]byte{good, b} }},
		{"Collect", clientDesc, func(b []byte) [][]byte { return [][]byte{b} }},
		{"Chat", bidiDesc, func(b []byte) [][]byte { return [][]byte{b} }},
	}
	for name, b := range bad {
		for _, sh := range shapes {
			t.Run(fmt.Sprintf("%s/%s/%d messages", name, sh.method, len(sh.frames(b))), func(t *testing.T) {
				_, err := rawCall(t, env.Conn, nil, hostile+sh.method, sh.desc, sh.frames(b)...)
				wantCode(t, "call", err, codes.InvalidArgument)
			})
		}
	}
	// Still serving.
	resps, err := rawCall(t, env.Conn, nil, hostile+"Put", unaryDesc, good)
	if err != nil || len(resps) != 1 {
		t.Fatalf("a good call after the bad ones: got %d responses, %v", len(resps), err)
	}
}

// TestRegressGRPCDecodeErrors (finding 5): invalid wire data was INTERNAL;
// a unary call carrying two request messages was accepted silently; one
// carrying none was UNKNOWN "EOF". All are INVALID_ARGUMENT now, and none
// reaches the backend.
func TestRegressGRPCDecodeErrors(t *testing.T) {
	env := servertest.StartHostile(t, servertest.Options{})
	good := []byte{0x0a, 0x02, 'o', 'k'}
	cases := []struct {
		name   string
		frames [][]byte
	}{
		{"invalid wire data", [][]byte{{0xff, 0xff, 0xff, 0xff}}},
		{"truncated field", [][]byte{{0x0a, 0x10, 'x'}}},
		{"two request messages", [][]byte{good, good}},
		{"no request message", nil},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			// Sent as a client stream, so the client does not stop at one
			// message: the door sees what a misbehaving client sends.
			_, err := rawCall(t, env.Conn, nil, hostile+"Put", clientDesc, tc.frames...)
			wantCode(t, "Put", err, codes.InvalidArgument)
		})
	}
	if n := env.Mirror.Calls(); n != 0 {
		t.Errorf("backend calls: got %d, want 0", n)
	}
}

// deepValue is a google.protobuf.Value nested n lists deep.
func deepValue(n int) *structpb.Value {
	v := structpb.NewStringValue("x")
	for i := 0; i < n; i++ {
		v = structpb.NewListValue(&structpb.ListValue{Values: []*structpb.Value{v}})
	}
	return v
}

// TestRegressDeepJSON (finding 5): JSON nested 5,000 deep inside a
// google.protobuf.Value was accepted by the REST door and forwarded; the
// backend refused it and the client got a 500 with grpc-internal text.
// It is a 400 at the door now (and INVALID_ARGUMENT on the gRPC door), and
// the backend sees nothing.
func TestRegressDeepJSON(t *testing.T) {
	env := servertest.StartHostile(t, servertest.Options{})
	body := `{"value":` + strings.Repeat("[", 5000) + `1` + strings.Repeat("]", 5000) + `}`
	resp, out := post(t, env.URL+"/v1/things", body)
	if resp.StatusCode != http.StatusBadRequest || !strings.Contains(string(out), "deeper than 64") {
		t.Errorf("REST: got %d %s, want 400 naming the depth limit", resp.StatusCode, out)
	}
	thing := []byte{0x2a} // field 5, Value
	v := mustMarshal(t, deepValue(5000))
	thing = append(thing, protoLen(len(v))...)
	thing = append(thing, v...)
	_, err := rawCall(t, env.Conn, nil, hostile+"Put", unaryDesc, thing)
	wantCode(t, "gRPC", err, codes.InvalidArgument)
	if n := env.Mirror.Calls(); n != 0 {
		t.Errorf("backend calls: got %d, want 0", n)
	}
	// Nesting within the limit is served.
	ok := `{"value":` + strings.Repeat("[", 30) + `1` + strings.Repeat("]", 30) + `}`
	if resp, out := post(t, env.URL+"/v1/things", ok); resp.StatusCode != http.StatusOK {
		t.Errorf("30 levels: got %d %s, want 200", resp.StatusCode, out)
	}
}

// protoLen is a varint length prefix.
func protoLen(n int) []byte {
	var b []byte
	for n >= 0x80 {
		b = append(b, byte(n)|0x80)
		n >>= 7
	}
	return append(b, byte(n))
}

// TestRegressHTTPBodyNearLimit (finding 5): an HttpBody upload just under
// the body limit became a 429 "received message larger than max" from the
// backend. The encoded message is measured at the door: 413, as for any
// oversized body, and the backend sees nothing.
func TestRegressHTTPBodyNearLimit(t *testing.T) {
	env := servertest.StartHostile(t, servertest.Options{Config: func(c *configv1.Config) {
		c.Limits = &configv1.Limits{MaxBodyBytes: proto.Uint32(64 << 10)}
	}})
	req, _ := http.NewRequest("POST", env.URL+"/v1/uploads/big", strings.NewReader(strings.Repeat("x", 64<<10-4)))
	req.Header.Set("Content-Type", "application/octet-stream")
	resp, out := do(t, req)
	if resp.StatusCode != http.StatusRequestEntityTooLarge || !isJSONError(out) {
		t.Errorf("got %d %s, want a JSON 413", resp.StatusCode, out)
	}
	if n := env.Mirror.Calls(); n != 0 {
		t.Errorf("backend calls: got %d, want 0", n)
	}
	req, _ = http.NewRequest("POST", env.URL+"/v1/uploads/small", strings.NewReader(strings.Repeat("x", 1<<10)))
	if resp, out := do(t, req); resp.StatusCode != http.StatusOK {
		t.Errorf("1 KiB: got %d %s, want 200", resp.StatusCode, out)
	}
}

// TestRegressLongPath (finding 5): a 100 KB path got a plain-text 431 from
// net/http; docs/traffic.md (Limits) promises a JSON 414.
func TestRegressLongPath(t *testing.T) {
	env := servertest.StartHostile(t, servertest.Options{})
	resp, out := get(t, env.URL+"/v1/things/"+strings.Repeat("a", 100<<10))
	if resp.StatusCode != http.StatusRequestURITooLong || !isJSONError(out) {
		t.Errorf("got %d %q, want a JSON 414", resp.StatusCode, truncate(out))
	}
	// Headers over max_header_bytes are a JSON 431.
	req, _ := http.NewRequest("GET", env.URL+"/v1/things/a", nil)
	req.Header.Set("X-Big", strings.Repeat("b", 70<<10))
	resp, out = do(t, req)
	if resp.StatusCode != http.StatusRequestHeaderFieldsTooLarge || !isJSONError(out) {
		t.Errorf("large headers: got %d %q, want a JSON 431", resp.StatusCode, truncate(out))
	}
	if n := env.Mirror.Calls(); n != 0 {
		t.Errorf("backend calls: got %d, want 0", n)
	}
}

// TestRegressStreamFirstMessageInvalid (finding 5): client- and
// bidi-stream messages were validated only after the backend stream was
// opened, so an invalid first message still opened a backend stream. The
// first message is read and validated first now, on both doors.
func TestRegressStreamFirstMessageInvalid(t *testing.T) {
	env := servertest.StartHostile(t, servertest.Options{})
	long := strings.Repeat("n", 100) // name: max_len 64
	for _, path := range []string{"/v1/things:collect", "/v1/things:chat"} {
		resp, out := post(t, env.URL+path, `{"name":"`+long+`"}`+"\n"+`{"name":"ok"}`)
		if resp.StatusCode != http.StatusBadRequest {
			t.Errorf("REST %s: got %d %s, want 400", path, resp.StatusCode, out)
		}
	}
	bad := []byte{0x0a, 100}
	bad = append(bad, long...)
	for _, c := range []struct {
		method string
		desc   grpc.StreamDesc
	}{{"Collect", clientDesc}, {"Chat", bidiDesc}} {
		_, err := rawCall(t, env.Conn, nil, hostile+c.method, c.desc, bad, []byte{0x0a, 0x02, 'o', 'k'})
		wantCode(t, "gRPC "+c.method, err, codes.InvalidArgument)
	}
	if n := env.Mirror.Calls(); n != 0 {
		t.Errorf("backend calls: got %d, want 0 (no stream opened)", n)
	}
}

// TestRegressSpoofedMetadata (finding 6): the gRPC door forwarded
// x-forwarded-for, grpcgateway-* and the names the REST door reserves for
// itself verbatim. The same reserved names are stripped on both doors now,
// and x-forwarded-for carries the real peer appended.
func TestRegressSpoofedMetadata(t *testing.T) {
	env := servertest.StartHostile(t, servertest.Options{Config: func(c *configv1.Config) {
		c.Rest = &configv1.Rest{ForwardHeaders: []string{"X-Portico-Principal", "X-Tenant"}}
	}})
	ctx := metadata.NewOutgoingContext(context.Background(), metadata.Pairs(
		"x-forwarded-for", "203.0.113.9",
		"x-forwarded-host", "evil.example",
		"grpcgateway-user-agent", "forged",
		"x-portico-principal", "admin",
		"x-tenant", "t1",
	))
	ctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	if _, err := rawCall(t, env.Conn, ctx, hostile+"Put", unaryDesc, []byte{0x0a, 0x01, 'x'}); err != nil {
		t.Fatal(err)
	}
	md := env.Mirror.LastMetadata()
	if got, want := md.Get("x-forwarded-for"), []string{"203.0.113.9, 127.0.0.1"}; !equal(got, want) {
		t.Errorf("gRPC x-forwarded-for: got %q, want %q", got, want)
	}
	if got := md.Get("x-forwarded-host"); len(got) != 1 || got[0] == "evil.example" {
		t.Errorf("gRPC x-forwarded-host: got %q, want the authority", got)
	}
	for _, k := range []string{"grpcgateway-user-agent", "x-portico-principal"} {
		if v := md.Get(k); len(v) > 0 {
			t.Errorf("gRPC: %s reached the backend: %q", k, v)
		}
	}
	if got := md.Get("x-tenant"); !equal(got, []string{"t1"}) {
		t.Errorf("gRPC x-tenant: got %q, want [t1] (ordinary metadata passes)", got)
	}

	req, _ := http.NewRequest("POST", env.URL+"/v1/things", strings.NewReader(`{"name":"x"}`))
	req.Header.Set("X-Portico-Principal", "admin")
	req.Header.Set("X-Tenant", "t2")
	req.Header.Set("X-Forwarded-For", "203.0.113.9")
	if resp, out := do(t, req); resp.StatusCode != http.StatusOK {
		t.Fatalf("REST: got %d %s", resp.StatusCode, out)
	}
	md = env.Mirror.LastMetadata()
	if v := md.Get("x-portico-principal"); len(v) > 0 {
		t.Errorf("REST: x-portico-principal reached the backend although listed in forward_headers: %q", v)
	}
	if got := md.Get("x-tenant"); !equal(got, []string{"t2"}) {
		t.Errorf("REST x-tenant: got %q, want [t2]", got)
	}
	if got, want := md.Get("x-forwarded-for"), []string{"203.0.113.9, 127.0.0.1"}; !equal(got, want) {
		t.Errorf("REST x-forwarded-for: got %q, want %q", got, want)
	}
}

func equal(a, b []string) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

// TestRegressSlowBody (finding 3): a body sent one byte every two seconds
// kept its connection and goroutine for as long as the client liked. The
// body must arrive within limits.body_timeout: 408, in JSON.
func TestRegressSlowBody(t *testing.T) {
	env := servertest.StartHostile(t, servertest.Options{Config: func(c *configv1.Config) {
		c.Limits = &configv1.Limits{BodyTimeout: durationpb.New(300 * time.Millisecond)}
	}})
	conn, err := net.Dial("tcp", strings.TrimPrefix(env.URL, "http://"))
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	start := time.Now()
	fmt.Fprintf(conn, "POST /v1/things HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 100\r\n\r\n{")
	_ = conn.SetReadDeadline(time.Now().Add(10 * time.Second))
	resp, err := http.ReadResponse(bufio.NewReader(conn), nil)
	if err != nil {
		t.Fatalf("reading the response: %v", err)
	}
	out, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != http.StatusRequestTimeout || !isJSONError(out) {
		t.Errorf("got %d %s, want a JSON 408", resp.StatusCode, out)
	}
	if d := time.Since(start); d > 5*time.Second {
		t.Errorf("answered after %v, want about the 300ms body timeout", d)
	}
	if n := env.Mirror.Calls(); n != 0 {
		t.Errorf("backend calls: got %d, want 0", n)
	}
}

// TestRegressSlowGRPCMessage (finding 3): the gRPC door waited for a unary
// request message for ever. It must arrive within limits.body_timeout.
func TestRegressSlowGRPCMessage(t *testing.T) {
	env := servertest.StartHostile(t, servertest.Options{Config: func(c *configv1.Config) {
		c.Limits = &configv1.Limits{BodyTimeout: durationpb.New(300 * time.Millisecond)}
	}})
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	start := time.Now()
	cs, err := env.Conn.NewStream(ctx, &unaryDesc, hostile+"Put", grpc.ForceCodecV2(codec.Client{}))
	if err != nil {
		t.Fatal(err)
	}
	var f codec.Frame
	err = cs.RecvMsg(&f) // no message sent, no half-close
	wantCode(t, "call", err, codes.DeadlineExceeded)
	if d := time.Since(start); d > 5*time.Second {
		t.Errorf("ended after %v, want about the 300ms body timeout", d)
	}
}

// TestRegressIdleConnection (finding 3): idle keep-alive connections
// stayed open indefinitely. They are closed after limits.idle_timeout.
func TestRegressIdleConnection(t *testing.T) {
	env := servertest.StartHostile(t, servertest.Options{Config: func(c *configv1.Config) {
		c.Limits = &configv1.Limits{IdleTimeout: durationpb.New(300 * time.Millisecond)}
	}})
	conn, err := net.Dial("tcp", strings.TrimPrefix(env.URL, "http://"))
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	fmt.Fprintf(conn, "GET /v1/things/a HTTP/1.1\r\nHost: x\r\n\r\n")
	br := bufio.NewReader(conn)
	resp, err := http.ReadResponse(br, nil)
	if err != nil {
		t.Fatal(err)
	}
	_, _ = io.ReadAll(resp.Body)
	start := time.Now()
	_ = conn.SetReadDeadline(time.Now().Add(10 * time.Second))
	if _, err := br.ReadByte(); err != io.EOF {
		t.Errorf("idle connection: got %v, want the server to close it (EOF)", err)
	}
	if d := time.Since(start); d > 5*time.Second {
		t.Errorf("closed after %v, want about the 300ms idle timeout", d)
	}
}

// TestRegressInFlightBound (finding 2): the calls in flight per door were
// unbounded. Past limits.max_in_flight, calls are refused at once: REST
// 503, gRPC RESOURCE_EXHAUSTED.
func TestRegressInFlightBound(t *testing.T) {
	env := servertest.Start(t, servertest.Options{Config: func(c *configv1.Config) {
		c.Limits = &configv1.Limits{MaxInFlight: proto.Uint32(2)}
		c.Rest = &configv1.Rest{ForwardHeaders: []string{"X-Delay"}}
	}})
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	held := make(chan error, 4)
	holdREST := func() {
		req, _ := http.NewRequestWithContext(ctx, "GET", env.URL+"/v1/shelves/1", nil)
		req.Header.Set("X-Delay", "30s")
		resp, err := http.DefaultClient.Do(req)
		if err == nil {
			resp.Body.Close()
		}
		held <- err
	}
	holdGRPC := func() {
		hctx := metadata.AppendToOutgoingContext(ctx, "x-delay", "30s")
		_, err := rawCall(t, env.Conn, hctx, "/example.bookstore.v1.BookstoreService/GetShelf", unaryDesc, []byte{0x08, 0x01})
		held <- err
	}
	go holdREST()
	go holdREST()
	go holdGRPC()
	go holdGRPC()
	waitFor(t, func() bool { return env.Backend.Calls() == 4 })
	start := time.Now()
	resp, out := get(t, env.URL+"/v1/shelves/1")
	if resp.StatusCode != http.StatusServiceUnavailable || !strings.Contains(string(out), `"code":8`) {
		t.Errorf("REST: got %d %s, want 503 with RESOURCE_EXHAUSTED", resp.StatusCode, out)
	}
	_, err := rawCall(t, env.Conn, nil, "/example.bookstore.v1.BookstoreService/GetShelf", unaryDesc, []byte{0x08, 0x01})
	wantCode(t, "gRPC", err, codes.ResourceExhausted)
	if d := time.Since(start); d > 2*time.Second {
		t.Errorf("refusals took %v, want them at once", d)
	}
	cancel()
	for range 4 {
		<-held
	}
}

// waitFor polls cond until it holds, for at most 10 seconds.
func waitFor(t *testing.T, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatal("condition not met within 10s")
		}
		time.Sleep(5 * time.Millisecond)
	}
}

func do(t *testing.T, req *http.Request) (*http.Response, []byte) {
	t.Helper()
	resp, err := servertest.Client().Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	out, _ := io.ReadAll(resp.Body)
	return resp, out
}

func get(t *testing.T, url string) (*http.Response, []byte) {
	req, _ := http.NewRequest("GET", url, nil)
	return do(t, req)
}

func post(t *testing.T, url, body string) (*http.Response, []byte) {
	req, _ := http.NewRequest("POST", url, strings.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	return do(t, req)
}

// isJSONError reports whether body is a {"code","message"} error.
func isJSONError(body []byte) bool {
	var e struct {
		Code    *int    `json:"code"`
		Message *string `json:"message"`
	}
	return json.Unmarshal(body, &e) == nil && e.Code != nil && e.Message != nil
}

func truncate(b []byte) string {
	if len(b) > 200 {
		return string(b[:200]) + "..."
	}
	return string(b)
}

// waitHealth watches a service's gRPC health until it reports want.
func waitHealth(t *testing.T, conn *grpc.ClientConn, service string, want healthpb.HealthCheckResponse_ServingStatus) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	w, err := healthpb.NewHealthClient(conn).Watch(ctx, &healthpb.HealthCheckRequest{Service: service})
	if err != nil {
		t.Fatal(err)
	}
	var last healthpb.HealthCheckResponse_ServingStatus
	for {
		resp, err := w.Recv()
		if err != nil {
			t.Fatalf("health of %q: last %v, then %v; want %v", service, last, err, want)
		}
		if last = resp.GetStatus(); last == want {
			return
		}
	}
}

// reflect asks server reflection one question.
func reflectAsk(t *testing.T, conn *grpc.ClientConn, req *reflectionpb.ServerReflectionRequest) *reflectionpb.ServerReflectionResponse {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	stream, err := reflectionpb.NewServerReflectionClient(conn).ServerReflectionInfo(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if err := stream.Send(req); err != nil {
		t.Fatal(err)
	}
	resp, err := stream.Recv()
	if err != nil {
		t.Fatal(err)
	}
	return resp
}

func symbolRequest(name string) *reflectionpb.ServerReflectionRequest {
	return &reflectionpb.ServerReflectionRequest{MessageRequest: &reflectionpb.ServerReflectionRequest_FileContainingSymbol{FileContainingSymbol: name}}
}

// TestRegressReflectionLeaks (finding 4): server reflection resolved any
// file of the descriptors: describing a service that is not exposed gave
// its whole definition, HTTP rules included, and the demo revealed
// portico.config.v1.Config; health and reflection were listed but could
// not be described. Reflection now serves exactly the exposed services'
// files and their imports, plus health and reflection themselves.
func TestRegressReflectionLeaks(t *testing.T) {
	hostileEnv := servertest.StartHostile(t, servertest.Options{})
	bookstoreEnv := servertest.Start(t, servertest.Options{})
	for _, tc := range []struct {
		name    string
		conn    *grpc.ClientConn
		exposed string
		hidden  []string
	}{
		{"descriptor set", hostileEnv.Conn, servertest.HostileService, []string{servertest.HostileSecret, "hostile.v1.Secret", "portico.config.v1.Config"}},
		{"compiled in", bookstoreEnv.Conn, "example.bookstore.v1.BookstoreService", []string{"portico.config.v1.Config", "portico.config.v1.Api", "example.inventory.v1.InventoryService"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			list := reflectAsk(t, tc.conn, &reflectionpb.ServerReflectionRequest{MessageRequest: &reflectionpb.ServerReflectionRequest_ListServices{}})
			var names []string
			for _, s := range list.GetListServicesResponse().GetService() {
				names = append(names, s.GetName())
			}
			for _, want := range []string{tc.exposed, "grpc.health.v1.Health", "grpc.reflection.v1.ServerReflection"} {
				if !strings.Contains(strings.Join(names, " "), want) {
					t.Errorf("list: got %v, missing %s", names, want)
				}
			}
			for _, sym := range []string{tc.exposed, "grpc.health.v1.Health", "grpc.reflection.v1.ServerReflection", "grpc.reflection.v1alpha.ServerReflection"} {
				resp := reflectAsk(t, tc.conn, symbolRequest(sym))
				if len(resp.GetFileDescriptorResponse().GetFileDescriptorProto()) == 0 {
					t.Errorf("describe %s: got %v, want its file", sym, resp.GetErrorResponse())
				}
			}
			for _, sym := range tc.hidden {
				resp := reflectAsk(t, tc.conn, symbolRequest(sym))
				if resp.GetErrorResponse() == nil || codes.Code(resp.GetErrorResponse().GetErrorCode()) != codes.NotFound {
					t.Errorf("describe %s: got %v, want NOT_FOUND", sym, resp)
				}
			}
			for _, file := range []string{"secret.proto", "portico/config/v1/config.proto"} {
				resp := reflectAsk(t, tc.conn, &reflectionpb.ServerReflectionRequest{MessageRequest: &reflectionpb.ServerReflectionRequest_FileByFilename{FileByFilename: file}})
				if resp.GetErrorResponse() == nil {
					t.Errorf("file %s: got it, want NOT_FOUND", file)
				}
			}
		})
	}
}

// TestRegressHealthFollowsBackend (finding 8): /readyz and grpc.health.v1
// said ready and SERVING while the backend was down. A service's health
// now follows its integration's connection (NOT_SERVING while it cannot
// connect); /readyz is ready once the snapshot serves (a gateway with one
// dead backend still serves the others) and shows each integration's
// state.
func TestRegressHealthFollowsBackend(t *testing.T) {
	// The backend is down: nothing listens on its unix socket yet (and no
	// other process can take the address meanwhile).
	sock := filepath.Join(t.TempDir(), "backend.sock")
	env := servertest.StartGateway(t, "unix://"+sock, servertest.Options{})
	const svc = "example.bookstore.v1.BookstoreService"
	waitHealth(t, env.Conn, svc, healthpb.HealthCheckResponse_NOT_SERVING)
	waitHealth(t, env.Conn, "", healthpb.HealthCheckResponse_SERVING)
	resp, body := get(t, "http://"+env.Server.AdminAddr+"/readyz")
	if resp.StatusCode != http.StatusOK || !strings.Contains(string(body), `"bookstore":{"ready":false`) {
		t.Errorf("readyz with the backend down: got %d %s, want 200 naming the integration not ready", resp.StatusCode, body)
	}

	lis, err := net.Listen("unix", sock)
	if err != nil {
		t.Fatal(err)
	}
	gs := bookstore.NewServer().Serve(lis)
	t.Cleanup(gs.Stop)
	waitHealth(t, env.Conn, svc, healthpb.HealthCheckResponse_SERVING)
	resp, body = get(t, "http://"+env.Server.AdminAddr+"/readyz")
	if !strings.Contains(string(body), `"bookstore":{"ready":true,"state":"READY"}`) {
		t.Errorf("readyz with the backend up: got %d %s", resp.StatusCode, body)
	}
	gs.Stop() // down again
	waitHealth(t, env.Conn, svc, healthpb.HealthCheckResponse_NOT_SERVING)
}

// TestRegressShutdownDrains (finding 7): on SIGTERM with a gRPC stream
// open, the REST door kept accepting for the whole grace period, /readyz
// still said ready, then HTTP shutdown got an already-expired context: an
// NDJSON response was cut without its last chunk and the stream got
// UNAVAILABLE from a dropped connection. Now readiness and health turn
// first, both doors stop accepting and drain together, and calls still
// running at the end of the grace period end with a proper status.
func TestRegressShutdownDrains(t *testing.T) {
	env := servertest.Start(t, servertest.Options{})
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	watch, err := healthpb.NewHealthClient(env.Conn).Watch(ctx, &healthpb.HealthCheckRequest{})
	if err != nil {
		t.Fatal(err)
	}
	if r, err := watch.Recv(); err != nil || r.GetStatus() != healthpb.HealthCheckResponse_SERVING {
		t.Fatalf("health before: %v %v", r, err)
	}

	// A gRPC bidi stream, open: one lookup answered, the client still
	// sending.
	grpcStream, err := bookstorev1.NewBookstoreServiceClient(env.Conn).LookupBooks(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if err := grpcStream.Send(&bookstorev1.GetBookRequest{Name: "shelves/1/books/1"}); err != nil {
		t.Fatal(err)
	}
	if _, err := grpcStream.Recv(); err != nil {
		t.Fatal(err)
	}
	// The same over REST: an NDJSON bidi stream with its body still open.
	pr, pw := io.Pipe()
	defer pw.Close()
	req, _ := http.NewRequestWithContext(ctx, "POST", env.URL+"/v1/books:lookup", pr)
	go fmt.Fprintln(pw, `{"name":"shelves/1/books/1"}`)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	lines := bufio.NewScanner(resp.Body)
	if !lines.Scan() || !strings.Contains(lines.Text(), `"result"`) {
		t.Fatalf("first REST stream line: %q %v", lines.Text(), lines.Err())
	}

	const grace = 2 * time.Second
	start := time.Now()
	done := make(chan error, 1)
	go func() {
		sctx, scancel := context.WithTimeout(context.Background(), grace)
		defer scancel()
		done <- env.Server.Shutdown(sctx)
	}()

	// Readiness and health turn first.
	if r, err := watch.Recv(); err != nil || r.GetStatus() != healthpb.HealthCheckResponse_NOT_SERVING {
		t.Errorf("health once draining: got %v %v, want NOT_SERVING", r, err)
	}
	ready, body := get(t, "http://"+env.Server.AdminAddr+"/readyz")
	if ready.StatusCode != http.StatusServiceUnavailable || !strings.Contains(string(body), "draining") {
		t.Errorf("readyz once draining: got %d %s, want 503 draining", ready.StatusCode, body)
	}
	// The REST door stops accepting at once.
	waitFor(t, func() bool {
		c, err := net.DialTimeout("tcp", strings.TrimPrefix(env.URL, "http://"), time.Second)
		if err == nil {
			c.Close()
		}
		return err != nil
	})

	// At the end of the grace period both streams end with UNAVAILABLE.
	_, err = grpcStream.Recv()
	if st := status.Convert(err); st.Code() != codes.Unavailable || st.Message() != "server shutting down" {
		t.Errorf("gRPC stream: got %v, want UNAVAILABLE server shutting down", err)
	}
	var last string
	for lines.Scan() {
		last = lines.Text()
	}
	if !strings.Contains(last, `"error"`) || !strings.Contains(last, `"code":14`) {
		t.Errorf("REST stream's last line: got %q, want an error object with code 14", last)
	}
	if err := <-done; err != nil {
		t.Errorf("Shutdown: %v", err)
	}
	if d := time.Since(start); d > grace+time.Second {
		t.Errorf("Shutdown took %v, want within the %v grace period", d, grace)
	}
}

// TestRegressWildcardRuleKind: an HTTP rule with custom kind "*" (http.proto:
// the method left unspecified) was filed under a method named "*" and no
// request ever matched it. It now takes every method.
func TestRegressWildcardRuleKind(t *testing.T) {
	rules := filepath.Join(t.TempDir(), "rules.yaml")
	if err := os.WriteFile(rules, []byte("type: google.api.Service\nhttp:\n  rules:\n"+
		"  - selector: example.bookstore.v1.BookstoreService.GetShelfStats\n"+
		"    custom: {kind: \"*\", path: \"/v1/any/{shelf}/stats\"}\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	env := servertest.Start(t, servertest.Options{Config: func(c *configv1.Config) { c.HttpRules = []string{rules} }})
	for _, method := range []string{http.MethodGet, http.MethodDelete, http.MethodOptions, "PURGE"} {
		req, _ := http.NewRequest(method, env.URL+"/v1/any/1/stats", nil)
		resp, body := do(t, req)
		if resp.StatusCode != http.StatusOK || !strings.Contains(string(body), `"bookCount"`) {
			t.Errorf("%s /v1/any/1/stats: got %d %s, want 200 with the shelf's stats", method, resp.StatusCode, body)
		}
	}
}

// TestRegressExtAuthzResponseHeadersIgnored (noticed in stop 12): an OK
// answer's response_headers_to_add
// reach the client with the backend's answer on both doors (they were
// ignored); headers that describe the response's framing are not taken.
func TestRegressExtAuthzResponseHeadersIgnored(t *testing.T) {
	e, az := startExtAuthz(t, nil)
	tok := e.iss.Token(t, nil)
	az.SetDecide(func(*authv3.CheckRequest) *authv3.CheckResponse {
		resp := authtest.Allow(nil)
		ok := resp.GetOkResponse()
		for k, v := range map[string]string{"X-Quota-Left": "7", "Content-Type": "text/html", "Grpc-Status": "13"} {
			ok.ResponseHeadersToAdd = append(ok.ResponseHeadersToAdd, &corev3.HeaderValueOption{Header: &corev3.HeaderValue{Key: k, Value: v}})
		}
		return resp
	})
	a := restCall(t, e.URL, http.MethodGet, getBookPath, bearer(tok), "")
	if a.code != http.StatusOK {
		t.Fatalf("REST: got %d %s, want 200", a.code, a.body)
	}
	if got := a.header.Get("X-Quota-Left"); got != "7" {
		t.Errorf("REST: X-Quota-Left: got %q, want 7", got)
	}
	if got := a.header.Get("Content-Type"); got != "application/json" {
		t.Errorf("REST: Content-Type: got %q, want the gateway's application/json", got)
	}
	st, hdr := grpcGetBook(t, e.Conn, "shelves/1/books/1", grpcBearer(tok))
	if st.Code() != codes.OK {
		t.Fatalf("gRPC: got %v, want OK", st.Err())
	}
	if got := hdr.Get("x-quota-left"); len(got) != 1 || got[0] != "7" {
		t.Errorf("gRPC: x-quota-left: got %q, want [7]", got)
	}
	if got := hdr.Get("content-type"); len(got) != 1 || got[0] != "application/grpc" {
		t.Errorf("gRPC: content-type: got %q, want [application/grpc]", got)
	}
}

// TestRegressClientCAReadOnce (noticed in stop 12): a new client CA bundle is used from the next
// handshake on, on both doors, and the REST door still speaks HTTP/2; a
// bundle that does not parse keeps the previous one. (The bundle was read
// once, at start.)
func TestRegressClientCAReadOnce(t *testing.T) {
	s := newTLSSetup(t)
	rec, addr := startRecorder(t)
	srv := startTLSGateway(t, s.config(addr, true), s.dir)
	next := authtest.NewCA(t, "next client CA")
	cert := next.Issue(t, authtest.LeafOptions{CommonName: "rotated", Client: true}).TLS
	conf := s.clientTLS()
	conf.GetClientCertificate = func(*tls.CertificateRequestInfo) (*tls.Certificate, error) { return &cert, nil }

	if _, err := httpsClient(conf).Get("https://" + srv.HTTPAddr + getBookPath); err == nil {
		t.Fatal("REST: a certificate of the next CA was accepted before the bundle named it")
	}
	writeAtomic(t, s.clientCAFile, append(append([]byte{}, s.client.PEM...), next.PEM...))
	check := func(when string) {
		t.Helper()
		resp, err := httpsClient(conf).Get("https://" + srv.HTTPAddr + getBookPath)
		if err != nil {
			t.Fatalf("REST %s: %v", when, err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusOK || resp.ProtoMajor != 2 {
			t.Errorf("REST %s: got %d over HTTP/%d, want 200 over HTTP/2", when, resp.StatusCode, resp.ProtoMajor)
		}
		if got := rec.lastMD().Get("x-portico-principal"); len(got) != 1 || got[0] != "rotated" {
			t.Errorf("REST %s: principal %q, want [rotated]", when, got)
		}
		if st, _ := grpcGetBook(t, tlsConn(t, srv.GRPCAddr, conf), "shelves/1/books/1", nil); st.Code() != codes.OK {
			t.Errorf("gRPC %s: got %v, want OK", when, st.Err())
		}
	}
	check("after the bundle named the next CA")
	writeAtomic(t, s.clientCAFile, []byte("not a certificate"))
	check("after a bundle that does not parse")
}

// TestRegressCSRFEveryUnsafeMethod: a cross-site request without a body
// (Content-Length: 0: an empty form, a bodiless no-cors fetch) passed the
// CSRF check, on proto methods and plain routes alike, and so did every
// method that needs a preflight even when no CORS answer could have
// allowed it. Now every unsafe method is refused cross-site from an
// origin not listed, with or without a body; curl keeps working.
func TestRegressCSRFEveryUnsafeMethod(t *testing.T) {
	lb := startLegacy(t)
	env := servertest.Start(t, servertest.Options{Config: withRoute(lb.URL+"/api", "/legacy/", true, nil)})
	// What Chrome sends for an empty <form method=post> on evil.example,
	// and for fetch(url, {method, mode: "no-cors", credentials: "include"}).
	form := []string{"Origin", "https://evil.example", "Sec-Fetch-Site", "cross-site", "Sec-Fetch-Mode", "navigate",
		"Sec-Fetch-Dest", "document", "Content-Type", "application/x-www-form-urlencoded", "Cookie", "session=victim"}
	fetch := []string{"Origin", "https://evil.example", "Sec-Fetch-Site", "cross-site", "Sec-Fetch-Mode", "no-cors",
		"Sec-Fetch-Dest", "empty", "Cookie", "session=victim"}
	send := func(method, path string, kv []string) (*http.Response, []byte) {
		t.Helper()
		req, err := http.NewRequest(method, env.URL+path, nil) // Content-Length: 0
		if err != nil {
			t.Fatal(err)
		}
		for i := 0; i < len(kv); i += 2 {
			req.Header.Set(kv[i], kv[i+1])
		}
		resp, err := servertest.Client().Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		body, _ := io.ReadAll(resp.Body)
		return resp, body
	}
	for _, tc := range []struct {
		method, path string
		kv           []string
	}{
		{"POST", "/v1/shelves", form},
		{"POST", "/v1/shelves", fetch},
		{"DELETE", "/v1/shelves/1", fetch},
		{"POST", "/legacy/orders/7:cancel", form},
		{"POST", "/legacy/orders/7:cancel", fetch},
		{"DELETE", "/legacy/orders/7", fetch},
		{"PURGE", "/legacy/cache", fetch},
	} {
		calls := env.Backend.Calls()
		lb.mu.Lock()
		lb.last = nil
		lb.mu.Unlock()
		resp, body := send(tc.method, tc.path, tc.kv)
		if resp.StatusCode != http.StatusForbidden || !strings.Contains(string(body), `"code":7`) {
			t.Errorf("cross-site %s %s %v: got %d %s, want 403 with a JSON error", tc.method, tc.path, tc.kv[5], resp.StatusCode, body)
		}
		if got := env.Backend.Calls(); got != calls {
			t.Errorf("cross-site %s %s: the backend got %d calls", tc.method, tc.path, got-calls)
		}
		if last, _ := lb.got(); last != nil {
			t.Errorf("cross-site %s %s: the route's backend got %s %s", tc.method, tc.path, last.Method, last.URL)
		}
	}
	// Without a browser's headers (curl), the same requests are served.
	if resp, body := send("DELETE", "/legacy/orders/7", nil); resp.StatusCode != http.StatusCreated {
		t.Errorf("curl -X DELETE on a route: got %d %s, want the backend's 201", resp.StatusCode, body)
	}
	if resp, body := send("POST", "/legacy/orders/7:cancel", []string{"Origin", env.URL, "Sec-Fetch-Site", "same-origin", "Cookie", "s=1"}); resp.StatusCode != http.StatusCreated {
		t.Errorf("same-origin POST on a route: got %d %s, want the backend's 201", resp.StatusCode, body)
	}
}

// TestRegressWebSocketHijackOnRoutes: a plain route passes WebSocket
// upgrades to its backend (httputil.ReverseProxy), and the gateway let
// any page open one with the browser's cookies — authenticated by the
// gateway on the victim's behalf, whatever cors.allowed_origins said. A
// foreign origin's handshake that carries ambient credentials is now
// refused at the edge, as the CSRF check refuses unsafe methods; one
// without credentials, or from a listed origin, is passed on as before.
func TestRegressWebSocketHijackOnRoutes(t *testing.T) {
	reached := make(chan string, 10)
	be := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		reached <- r.Header.Get("Origin")
		c, err := websocket.Accept(w, r, &websocket.AcceptOptions{InsecureSkipVerify: true})
		if err != nil {
			return
		}
		c.Close(websocket.StatusNormalClosure, "")
	}))
	t.Cleanup(be.Close)
	for _, origins := range [][]string{nil, {"*"}, {"*", "https://app.example.com"}} {
		env := servertest.Start(t, servertest.Options{Config: func(c *configv1.Config) {
			withRoute(be.URL, "/legacy/", true, nil)(c)
			if origins != nil {
				c.Cors = &configv1.Cors{AllowedOrigins: origins}
			}
		}})
		dial := func(kv ...string) int {
			t.Helper()
			ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
			defer cancel()
			h := http.Header{}
			for i := 0; i < len(kv); i += 2 {
				h.Set(kv[i], kv[i+1])
			}
			c, resp, err := websocket.Dial(ctx, "ws"+strings.TrimPrefix(env.URL, "http")+"/legacy/socket", &websocket.DialOptions{HTTPHeader: h})
			if err == nil {
				c.CloseNow()
			}
			if resp == nil {
				t.Fatalf("allowed_origins %q, dial %v: %v", origins, kv, err)
			}
			return resp.StatusCode
		}
		browser := []string{"Origin", "https://evil.example", "Sec-Fetch-Site", "cross-site", "Sec-Fetch-Mode", "websocket"}
		for _, cred := range [][]string{{"Cookie", "session=victim"}, {"Authorization", "Basic dXNlcjpwYXNz"}} {
			if code := dial(append(append([]string(nil), browser...), cred...)...); code != http.StatusForbidden {
				t.Errorf("allowed_origins %q: foreign origin with %s: got %d, want 403", origins, cred[0], code)
			}
			if code := dial("Origin", "https://evil.example", cred[0], cred[1]); code != http.StatusForbidden {
				t.Errorf("allowed_origins %q: foreign Origin (old browser) with %s: got %d, want 403", origins, cred[0], code)
			}
		}
		select {
		case o := <-reached:
			t.Errorf("allowed_origins %q: a refused handshake from %q reached the backend", origins, o)
		default:
		}
		for _, kv := range [][]string{
			browser, // anonymous: the backend decides, as before
			{"Origin", env.URL, "Sec-Fetch-Site", "same-origin", "Cookie", "s=1"},
			{"Cookie", "s=1"}, // not a browser
		} {
			if code := dial(kv...); code != http.StatusSwitchingProtocols {
				t.Errorf("allowed_origins %q, %v: got %d, want 101", origins, kv, code)
			}
			<-reached
		}
		if len(origins) == 2 {
			if code := dial("Origin", "https://app.example.com", "Sec-Fetch-Site", "cross-site", "Cookie", "s=1"); code != http.StatusSwitchingProtocols {
				t.Errorf("listed origin with a cookie: got %d, want 101", code)
			}
			<-reached
		}
	}
}

// TestRegressAdminFromBrowsers: a web page could drive the admin listener
// of a gateway on the same machine: a form's POST to /v1/drain stopped
// it, and a page whose host name it re-pointed to 127.0.0.1 (DNS
// rebinding) could call and read everything, with no token set (loopback)
// — on REST and on the gRPC door. The listener now refuses cross-site
// requests, a POST without a JSON (or gRPC) Content-Type, and a Host
// that does not name it, on every path.
func TestRegressAdminFromBrowsers(t *testing.T) {
	env := servertest.Start(t, servertest.Options{})
	_, port, _ := net.SplitHostPort(env.Server.AdminAddr)
	send := func(method, path string, kv ...string) (int, []byte) {
		t.Helper()
		var body io.Reader
		if method == http.MethodPost {
			body = strings.NewReader("{}")
		}
		req, err := http.NewRequest(method, "http://"+env.Server.AdminAddr+path, body)
		if err != nil {
			t.Fatal(err)
		}
		for i := 0; i < len(kv); i += 2 {
			if kv[i] == "Host" {
				req.Host = kv[i+1]
				continue
			}
			req.Header.Set(kv[i], kv[i+1])
		}
		resp, err := servertest.Client().Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, b
	}
	rebound := "evil.example:" + port
	for _, tc := range []struct {
		name         string
		method, path string
		kv           []string
		want         int
	}{
		// <form method=post action=http://127.0.0.1:9901/v1/drain> on evil.example.
		{"cross-site form", "POST", "/v1/drain", []string{"Origin", "https://evil.example", "Sec-Fetch-Site", "cross-site",
			"Sec-Fetch-Mode", "navigate", "Content-Type", "application/x-www-form-urlencoded"}, 403},
		{"cross-site fetch, old browser", "POST", "/v1/drain", []string{"Origin", "https://evil.example", "Content-Type", "text/plain"}, 403},
		{"same-site page (localhost:3000)", "GET", "/v1/config", []string{"Origin", "http://localhost:3000", "Sec-Fetch-Site", "same-site"}, 403},
		{"cross-site read of /readyz", "GET", "/readyz", []string{"Origin", "https://evil.example", "Sec-Fetch-Site", "cross-site"}, 403},
		// DNS rebinding: evil.example now resolves to 127.0.0.1; the page's
		// requests are same-origin, with its host name in Host.
		{"rebound POST", "POST", "/v1/drain", []string{"Host", rebound, "Origin", "http://" + rebound, "Sec-Fetch-Site", "same-origin", "Content-Type", "application/json"}, 403},
		{"rebound GET", "GET", "/v1/config", []string{"Host", rebound, "Sec-Fetch-Site", "same-origin"}, 403},
		{"rebound /reload", "POST", "/reload", []string{"Host", rebound, "Content-Type", "application/json"}, 403},
		{"rebound /metrics", "GET", "/readyz", []string{"Host", rebound}, 403},
		// A POST a page could send without a preflight.
		{"POST text/plain", "POST", "/v1/drain", []string{"Content-Type", "text/plain"}, 415},
		{"POST form", "POST", "/reload", []string{"Content-Type", "application/x-www-form-urlencoded"}, 415},
		{"POST without Content-Type", "POST", "/v1/drain", nil, 415},
	} {
		code, body := send(tc.method, tc.path, tc.kv...)
		if code != tc.want {
			t.Errorf("%s: %s %s: got %d %s, want %d", tc.name, tc.method, tc.path, code, body, tc.want)
			continue
		}
		var e struct {
			Code    int    `json:"code"`
			Message string `json:"message"`
		}
		if err := json.Unmarshal(body, &e); err != nil || e.Code == 0 || e.Message == "" {
			t.Errorf("%s: body %s, want a JSON error", tc.name, body)
		}
	}
	if env.Server.Draining() {
		t.Fatal("a refused request drained the gateway")
	}
	// What the listener's own clients send is served.
	for _, host := range []string{env.Server.AdminAddr, "localhost:" + port, "LocalHost:" + port, "[::1]:" + port} {
		if code, body := send("GET", "/v1/routes", "Host", host); code != 200 {
			t.Errorf("Host %s: got %d %s, want 200", host, code, body)
		}
	}
	if code, body := send("POST", "/v1/reload", "Content-Type", "application/json; charset=utf-8"); code != 400 || !strings.Contains(string(body), "not available") {
		t.Errorf("POST /v1/reload with JSON: got %d %s, want the API's own answer (400 FAILED_PRECONDITION)", code, body)
	}
	if code, _ := send("GET", "/healthz"); code != 200 {
		t.Errorf("/healthz from a probe: got %d, want 200", code)
	}

	// The gRPC door: a client naming another authority is refused.
	conn, err := grpc.NewClient(env.Server.AdminAddr, grpc.WithTransportCredentials(insecure.NewCredentials()), grpc.WithAuthority(rebound))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close() })
	if _, err := adminv1.NewAdminClient(conn).Drain(context.Background(), &adminv1.DrainRequest{}); status.Code(err) != codes.PermissionDenied {
		t.Errorf("gRPC Drain with authority %s: got %v, want PERMISSION_DENIED", rebound, err)
	}
	if _, err := healthpb.NewHealthClient(conn).Check(context.Background(), &healthpb.HealthCheckRequest{}); status.Code(err) != codes.PermissionDenied {
		t.Errorf("gRPC health with authority %s: got %v, want PERMISSION_DENIED", rebound, err)
	}
	if env.Server.Draining() {
		t.Fatal("a refused gRPC call drained the gateway")
	}
	ok, err := grpc.NewClient(env.Server.AdminAddr, grpc.WithTransportCredentials(insecure.NewCredentials()))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ok.Close() })
	if _, err := adminv1.NewAdminClient(ok).ListRoutes(context.Background(), &adminv1.ListRoutesRequest{}); err != nil {
		t.Errorf("gRPC ListRoutes: %v", err)
	}
}

// TestRegressReadyzDetailsNeedToken: /readyz, open to probes, told anyone
// who could reach the admin listener the integrations' names and states,
// the config's hash and the last reload's error (which can quote the
// config). Without the admin token it now says only ready or not; with
// it, everything as before. (grpc.health.v1 on the admin port says only
// SERVING or NOT_SERVING already.)
func TestRegressReadyzDetailsNeedToken(t *testing.T) {
	const token = "r3adyz-t0ken"
	path := filepath.Join(t.TempDir(), "admin.token")
	if err := os.WriteFile(path, []byte(token), 0o600); err != nil {
		t.Fatal(err)
	}
	env := servertest.Start(t, servertest.Options{Config: func(c *configv1.Config) {
		c.Admin = &configv1.Admin{TokenFile: path}
	}})
	readyz := func(auth string) (int, map[string]any) {
		t.Helper()
		req, _ := http.NewRequest("GET", "http://"+env.Server.AdminAddr+"/readyz", nil)
		if auth != "" {
			req.Header.Set("Authorization", auth)
		}
		resp, body := do(t, req)
		var m map[string]any
		if err := json.Unmarshal(body, &m); err != nil {
			t.Fatalf("/readyz: %s: %v", body, err)
		}
		return resp.StatusCode, m
	}
	for _, auth := range []string{"", "Bearer wrong"} {
		code, m := readyz(auth)
		if code != 200 || len(m) != 1 || m["status"] != "ready" {
			t.Errorf("/readyz with Authorization %q: got %d %v, want 200 and only {\"status\":\"ready\"}", auth, code, m)
		}
	}
	code, m := readyz("Bearer " + token)
	if code != 200 || m["status"] != "ready" || m["integrations"] == nil || m["config"] == nil || m["methods"] == nil {
		t.Errorf("/readyz with the token: got %d %v, want the details", code, m)
	}
	if _, ok := m["integrations"].(map[string]any)["bookstore"]; !ok {
		t.Errorf("/readyz with the token: integrations %v, want bookstore's state", m["integrations"])
	}
}

// TestRegressURLUserInfoInTexts: URLs with user info reached texts meant
// for people: the JWKS fetcher's log lines named its jwks_uri and issuer
// with their passwords (or a token as the user name), and a reload error
// that quoted a URL was shown as it was by /readyz and by the admin API
// (REST and gRPC). Every such text now hides the user info.
func TestRegressURLUserInfoInTexts(t *testing.T) {
	logs := &lockedBuffer{}
	env := servertest.Start(t, servertest.Options{
		Config: func(c *configv1.Config) {
			c.Auth = &configv1.Auth{Providers: []*configv1.AuthProvider{{Name: "idp", Kind: &configv1.AuthProvider_Jwt{Jwt: &configv1.JwtProvider{
				Issuer:    "https://carol:issuer-s3cret@127.0.0.1:1/",
				JwksUri:   "https://t0ken-s3cret@127.0.0.1:1/keys",
				Audiences: []string{"api"},
			}}}}}
			c.Apis[0].Auth = &configv1.ApiAuth{Providers: []string{"idp"}}
		},
		Build: func(o *server.BuildOptions) { o.Logger = slog.New(slog.NewJSONHandler(logs, nil)) },
	})
	waitFor(t, func() bool { return strings.Contains(logs.String(), "127.0.0.1:1/keys") })
	if strings.Contains(logs.String(), "s3cret") {
		t.Errorf("the log shows a URL's user info:\n%s", logs)
	}
	if !strings.Contains(logs.String(), "https://xxxxx@127.0.0.1:1/keys") {
		t.Errorf("the log does not name the JWKS URL redacted:\n%s", logs)
	}

	env.Server.SetRebuild(func(context.Context, *server.Snapshot) (*server.Snapshot, error) {
		return nil, fmt.Errorf("fetching %q: connection refused", "https://admin:reload-s3cret@config.example/portico.yaml")
	})
	code, body := post(t, "http://"+env.Server.AdminAddr+"/v1/reload", `{}`)
	if code.StatusCode != 400 || strings.Contains(string(body), "s3cret") || !strings.Contains(string(body), "admin:xxxxx@config.example") {
		t.Errorf("POST /v1/reload: got %d %s, want 400 naming the URL without its password", code.StatusCode, body)
	}
	for _, path := range []string{"/readyz", "/v1/reload"} {
		resp, body := get(t, "http://"+env.Server.AdminAddr+path)
		if resp.StatusCode != 200 || strings.Contains(string(body), "s3cret") || !strings.Contains(string(body), "admin:xxxxx@config.example") {
			t.Errorf("GET %s: got %d %s, want the last reload's error without the password", path, resp.StatusCode, body)
		}
	}
	conn, err := grpc.NewClient(env.Server.AdminAddr, grpc.WithTransportCredentials(insecure.NewCredentials()))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close() })
	admin := adminv1.NewAdminClient(conn)
	if _, err := admin.Reload(context.Background(), &adminv1.ReloadRequest{}); err == nil || strings.Contains(err.Error(), "s3cret") {
		t.Errorf("gRPC Reload: got %v, want a failure without the password", err)
	}
	st, err := admin.GetReload(context.Background(), &adminv1.GetReloadRequest{})
	if err != nil || strings.Contains(st.GetError(), "s3cret") || !strings.Contains(st.GetError(), "admin:xxxxx@") {
		t.Errorf("gRPC GetReload: got %v %v, want the error without the password", st, err)
	}
}

// TestRegressRouteDotSegments (issue 14, point 1): a plain route was
// chosen on the path as sent and the path forwarded with its dot segments:
// GET /legacy/public/../admin/secret was admitted by the public route's
// policy and reached the protected route's backend (/priv/admin/secret),
// the `..` escaping the public integration's base path. Every path a
// backend could resolve differently from the gateway (dot segments in any
// encoding, encoded slashes and backslashes, empty segments, path
// parameters, control characters, invalid or overlong UTF-8, an encoded
// "?" or "#", a double encoding, a trailing dot, a prefix in another
// letter case) is refused with 400 before a route is chosen, and nothing
// reaches a backend; a canonical path is served by its route, forwarded
// exactly as it was matched.
func TestRegressRouteDotSegments(t *testing.T) {
	env, b := startPathsGateway(t)
	for _, target := range []string{
		"/legacy/public/../admin/secret",
		"/legacy/public/%2e%2e/admin/secret",
		"/legacy/public/%2E%2E/admin/secret",
		"/legacy/public/.%2e/admin/secret",
		"/legacy/public/%2e./admin/secret",
		"/legacy/public/./admin",
		"/legacy/public/%2e/admin",
		"/legacy/public/..",
		"/legacy/public/../../../etc/passwd",
		"/legacy/public/x/..%2f..%2f..%2fpriv/admin",
		"/legacy/public/..%2Fadmin/secret",
		"/legacy/public/..%5cadmin/secret",
		`/legacy/public/..\admin/secret`,
		"/legacy/public//admin",
		"/legacy/public/..;/admin/secret",
		"/legacy/public/x;jsessionid=1",
		"/legacy/public/x%3badmin",
		"/legacy/public/x%00.html",
		"/legacy/public/%0d%0aX-Injected:%201",
		"/legacy/public/%c0%ae%c0%ae/admin",
		"/legacy/public/%ef%bc%8e%ef%bc%8e/admin",
		"/legacy/public/x%3F/admin",
		"/legacy/public/x%23/admin",
		"/legacy/public/%252e%252e/admin",
		"/legacy/public/admin./secret",
		"/legacy/public/admin%20/secret",
		"/legacy/PUBLIC/admin",
		"/LEGACY/public/admin",
		"/Legacy/admin/secret",
		"*",
	} {
		resp, body := rawRequest(t, env.URL, "GET", target)
		if resp.StatusCode != http.StatusBadRequest || !strings.Contains(string(body), `"code":3`) {
			t.Errorf("GET %s: got %d %s, want 400 with INVALID_ARGUMENT", target, resp.StatusCode, truncate(body))
		}
		if got := b.got(); len(got) > 0 {
			t.Errorf("GET %s: the backend got %q, want nothing", target, got)
		}
	}
	// Canonical paths are served by the route their prefix names, at the
	// path that was matched (percent-encodings of unreserved characters and
	// sub-delimiters decoded, the rest upper-case).
	for target, want := range map[string]string{
		"/legacy/public/admin":      "/pub/admin",
		"/legacy/public/":           "/pub/",
		"/legacy/%70ublic/a%2Cb":    "/pub/a,b",
		"/legacy/public/a+b!~":      "/pub/a+b!~",
		"/legacy/public/caf%c3%a9":  "/pub/caf%C3%A9",
		"/legacy/public/a%20b?x=..": "/pub/a%20b?x=..",
	} {
		resp, body := rawRequest(t, env.URL, "GET", target)
		if resp.StatusCode != http.StatusOK || resp.Header.Get("X-Target") != want {
			t.Errorf("GET %s: got %d, backend target %q (%s), want 200 and %q", target, resp.StatusCode, resp.Header.Get("X-Target"), truncate(body), want)
		}
		b.got()
	}
	if resp, body := rawRequest(t, env.URL, "GET", "/legacy/admin/secret"); resp.StatusCode != http.StatusUnauthorized {
		t.Errorf("GET /legacy/admin/secret without a key: got %d %s, want 401", resp.StatusCode, truncate(body))
	}
	if resp, _ := rawRequest(t, env.URL, "GET", "/legacy/admin/secret", "X-Api-Key: "+pathsKey); resp.StatusCode != http.StatusOK || resp.Header.Get("X-Target") != "/priv/admin/secret" {
		t.Errorf("GET /legacy/admin/secret with the key: got %d at %q, want 200 at /priv/admin/secret", resp.StatusCode, resp.Header.Get("X-Target"))
	}
}

// TestRegressIdentityHeaderStrippedByConnection (issue 14, point 4): on
// plain routes the caller's identity was set before
// httputil.ReverseProxy removed the headers the client's Connection
// header names, so `Connection: X-Portico-Principal` deleted it (and the
// forwarded claims, and the authorizer's headers) on the way to the
// backend. They are set after hop-by-hop removal now.
func TestRegressIdentityHeaderStrippedByConnection(t *testing.T) {
	e, b, _, tok := startIdentityEnv(t)
	conn := "Connection: X-Portico-Principal, X-User-Id, X-Authz, X_email"
	resp, body := rawRequest(t, e.URL, "GET", "/legacy/x", "Authorization: Bearer "+tok, conn)
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("plain route: got %d %s, want 200", resp.StatusCode, truncate(body))
	}
	checkIdentity(t, "plain route", b.lastRequest().Header, map[string]string{"x-forwarded-host": hostOf(e.URL)})
	resp, body = rawRequest(t, e.URL, "GET", getBookPath, "Authorization: Bearer "+tok, conn)
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("REST: got %d %s, want 200", resp.StatusCode, truncate(body))
	}
	checkIdentity(t, "REST", e.rec.lastMD(), map[string]string{"x-forwarded-host": hostOf(e.URL)})
	resp, body = rawRequest(t, e.URL, "GET", "/v1/rooms/1/messages/2", "Authorization: Bearer "+tok, conn)
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("REST to an http integration: got %d %s, want 200", resp.StatusCode, truncate(body))
	}
	checkIdentity(t, "REST to an http integration", b.lastRequest().Header, map[string]string{"x-forwarded-host": hostOf(e.URL)})
}

// TestRegressIdentityHeaderSpellings (issue 14, point 4): names a backend
// reads as the gateway's identity headers, in another spelling
// (X_Portico_Principal, a forwarded claim with "-" for "_" or the
// reverse, an authorizer's header with "_", grpcgateway-<name> that an
// http integration sends as <name>), and a client's
// X-Forwarded-Host passed through to the backend on both doors and on
// plain routes, next to the gateway's own (on the REST door, when
// rest.forward_headers names them). They are dropped; the backend
// sees each name once, as the gateway set it, and X-Forwarded-Host is the
// host the client called.
func TestRegressIdentityHeaderSpellings(t *testing.T) {
	e, b, _, tok := startIdentityEnv(t)
	forged := []string{"X_Portico_Principal: root", "x-portico_PRINCIPAL: root", "X_User_Id: root", "X-Email: root@evil",
		"X_Authz: forged", "X-Forwarded-Host: evil.example", "X_Forwarded_Host: evil.example", "Grpcgateway-X-Portico-Principal: root"}
	resp, body := rawRequest(t, e.URL, "GET", "/legacy/x", append([]string{"Authorization: Bearer " + tok}, forged...)...)
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("plain route: got %d %s, want 200", resp.StatusCode, truncate(body))
	}
	checkIdentity(t, "plain route", b.lastRequest().Header, map[string]string{"x-forwarded-host": hostOf(e.URL)})

	resp, body = rawRequest(t, e.URL, "GET", getBookPath, append([]string{"Authorization: Bearer " + tok}, forged...)...)
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("REST: got %d %s, want 200", resp.StatusCode, truncate(body))
	}
	checkIdentity(t, "REST", e.rec.lastMD(), map[string]string{"x-forwarded-host": hostOf(e.URL)})
	resp, body = rawRequest(t, e.URL, "GET", "/v1/rooms/1/messages/2", append([]string{"Authorization: Bearer " + tok}, forged...)...)
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("REST to an http integration: got %d %s, want 200", resp.StatusCode, truncate(body))
	}
	checkIdentity(t, "REST to an http integration", b.lastRequest().Header, map[string]string{"x-forwarded-host": hostOf(e.URL)})

	md := grpcBearer(tok)
	for _, h := range forged {
		k, v, _ := strings.Cut(h, ": ")
		md[strings.ToLower(k)] = v
	}
	if st, _ := grpcGetBook(t, e.Conn, "shelves/1/books/1", md); st.Code() != codes.OK {
		t.Fatalf("gRPC: got %v, want OK", st.Err())
	}
	checkIdentity(t, "gRPC", e.rec.lastMD(), map[string]string{"x-forwarded-host": e.Server.GRPCAddr})
	ctx, cancel := context.WithTimeout(metadata.NewOutgoingContext(context.Background(), metadata.New(md)), 10*time.Second)
	defer cancel()
	if _, err := messagingv1.NewMessagingServiceClient(e.Conn).GetMessage(ctx, &messagingv1.GetMessageRequest{Name: "rooms/1/messages/2"}); err != nil {
		t.Fatalf("gRPC to an http integration: got %v, want OK", err)
	}
	checkIdentity(t, "gRPC to an http integration", b.lastRequest().Header, map[string]string{"x-forwarded-host": e.Server.GRPCAddr})
}

// TestRegressExtAuthzRemoveIgnored (issue 14, point 4, a sibling): an
// authorizer's headers_to_remove was ignored on plain routes (the gates
// saw none of the client's headers, so there was nothing to remove) and,
// on both doors, removed only the exact name, not X_Secret for x-secret.
// The header goes in every spelling, everywhere.
func TestRegressExtAuthzRemoveIgnored(t *testing.T) {
	e, b, az, tok := startIdentityEnv(t)
	az.SetDecide(func(*authv3.CheckRequest) *authv3.CheckResponse {
		resp := authtest.Allow(map[string]string{"x-authz": "ok"})
		resp.GetOkResponse().HeadersToRemove = []string{"x-authz-secret"}
		return resp
	})
	secret := []string{"X-Authz-Secret: s1", "X_Authz_Secret: s2"}
	gone := func(door string, got map[string][]string) {
		t.Helper()
		for k, v := range got {
			if foldName(k) == "x-authz-secret" {
				t.Errorf("%s: the backend got %s: %q, want it removed", door, k, v)
			}
		}
	}
	resp, body := rawRequest(t, e.URL, "GET", "/legacy/x", append([]string{"Authorization: Bearer " + tok}, secret...)...)
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("plain route: got %d %s, want 200", resp.StatusCode, truncate(body))
	}
	gone("plain route", b.lastRequest().Header)
	md := grpcBearer(tok)
	md["x-authz-secret"], md["x_authz_secret"] = "s1", "s2"
	if st, _ := grpcGetBook(t, e.Conn, "shelves/1/books/1", md); st.Code() != codes.OK {
		t.Fatalf("gRPC: got %v, want OK", st.Err())
	}
	gone("gRPC", e.rec.lastMD())
}

// TestRegressRoutePathOverride (issue 14, point 1, a sibling): a plain
// route passed a client's X-Original-URL and X-Rewrite-URL on, which IIS's
// URL Rewrite and the frameworks behind it (Symfony, Zend) serve instead
// of the request's path: a request the public route admitted named the
// protected page. They are not forwarded, in any spelling.
func TestRegressRoutePathOverride(t *testing.T) {
	env, b := startPathsGateway(t)
	resp, body := rawRequest(t, env.URL, "GET", "/legacy/public/x",
		"X-Original-URL: /legacy/admin/secret", "X-Rewrite-Url: /legacy/admin/secret", "X_Original_URL: /legacy/admin/secret")
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("got %d %s, want 200", resp.StatusCode, truncate(body))
	}
	for k, v := range b.lastRequest().Header {
		if n := foldName(k); n == "x-original-url" || n == "x-rewrite-url" {
			t.Errorf("the backend got %s: %q, want it dropped", k, v)
		}
	}
}

// TestRegressRefusedRequestFreesConnection (issue 14, point 7): after an
// early answer — a 408 after body_timeout, a 413, a gate's 401/403/429
// before the body is read, a 404 or 405, a 431, a plain route's backend
// answering before it read the body, a plain route's gate — net/http
// kept the HTTP/1.1 connection open, reading the rest of the body (up to
// 256 KiB) before it would close it: a client trickling its body held the
// connection for as long as it liked. The connection is now closed as soon
// as the answer is written. (Over HTTP/2, TestRegressRefusedStreamReset.)
func TestRegressRefusedRequestFreesConnection(t *testing.T) {
	dir := t.TempDir()
	keys := authtest.WriteFile(t, dir, "keys.yaml", []byte(fmt.Sprintf("- {id: k1, sha256: %s}\n", apikey.Hash("the-key"))))
	apiKeys := func(c *configv1.Config) {
		c.Auth = &configv1.Auth{Providers: []*configv1.AuthProvider{
			{Name: "partners", Kind: &configv1.AuthProvider_ApiKey{ApiKey: &configv1.ApiKeyProvider{KeysFile: keys}}},
		}}
	}
	early := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Connection", "close") // answer without reading the body
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(http.StatusForbidden)
		_, _ = io.WriteString(w, `{"error":"not you"}`)
	}))
	t.Cleanup(early.Close)
	// Bodies under net/http's 256 KiB post-handler drain, which it would
	// wait for.
	const n = 100_000
	post := func(path string, extra ...string) slowRequest {
		return slowRequest{head: postHead("POST", path, n, extra...), first: "{", more: " "}
	}
	tests := []struct {
		name   string
		edit   func(*configv1.Config)
		before func(t *testing.T, env *servertest.Env)
		req    slowRequest
		want   int
	}{
		{name: "408 after body_timeout", edit: func(c *configv1.Config) {
			c.Limits = &configv1.Limits{BodyTimeout: durationpb.New(300 * time.Millisecond)}
		}, req: post("/v1/shelves"), want: http.StatusRequestTimeout},
		{name: "413 declared length", edit: func(c *configv1.Config) {
			c.Limits = &configv1.Limits{MaxBodyBytes: proto.Uint32(1024)}
		}, req: post("/v1/shelves"), want: http.StatusRequestEntityTooLarge},
		{name: "413 chunked", edit: func(c *configv1.Config) {
			c.Limits = &configv1.Limits{MaxBodyBytes: proto.Uint32(1024)}
		}, req: slowRequest{head: postHead("POST", "/v1/shelves", -1), first: "800\r\n" + strings.Repeat(" ", 0x800) + "\r\n"}, want: http.StatusRequestEntityTooLarge},
		{name: "401 from the gate", edit: func(c *configv1.Config) {
			apiKeys(c)
			c.Apis[0].Auth = &configv1.ApiAuth{Providers: []string{"partners"}}
		}, req: post("/v1/shelves"), want: http.StatusUnauthorized},
		{name: "403 from the gate", edit: func(c *configv1.Config) {
			c.Apis[0].Network = &configv1.IpRules{Deny: []string{"127.0.0.0/8"}}
		}, req: post("/v1/shelves"), want: http.StatusForbidden},
		{name: "429 from the gate", edit: func(c *configv1.Config) {
			c.RateLimits = &configv1.RateLimits{Policies: []*configv1.RateLimitPolicy{{Name: "ip", Key: "client_ip", Rate: "1/h", Burst: 1}}}
			c.Apis[0].RateLimits = []string{"ip"}
		}, before: func(t *testing.T, env *servertest.Env) {
			if resp, _ := get(t, env.URL+"/v1/shelves/1"); resp.StatusCode != http.StatusOK {
				t.Fatalf("the call that spends the rate: got %d", resp.StatusCode)
			}
		}, req: post("/v1/shelves"), want: http.StatusTooManyRequests},
		{name: "404", req: post("/v1/nowhere"), want: http.StatusNotFound},
		{name: "405", req: slowRequest{head: postHead("PUT", "/v1/shelves/1", n), first: "{", more: " "}, want: http.StatusMethodNotAllowed},
		{name: "431", edit: func(c *configv1.Config) {
			c.Limits = &configv1.Limits{MaxHeaderBytes: proto.Uint32(1024)}
		}, req: post("/v1/shelves", "X-Big: "+strings.Repeat("a", 2048)), want: http.StatusRequestHeaderFieldsTooLarge},
		{name: "plain route: the backend answers first", edit: withRoute(early.URL, "/legacy/", false, nil),
			req: post("/legacy/orders"), want: http.StatusForbidden},
		{name: "plain route: its gate", edit: func(c *configv1.Config) {
			apiKeys(c)
			withRoute(early.URL, "/legacy/", false, nil)(c)
			c.Routes[0].Auth = &configv1.ApiAuth{Providers: []string{"partners"}}
		}, req: post("/legacy/orders"), want: http.StatusUnauthorized},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			env := servertest.Start(t, servertest.Options{Config: tc.edit})
			if tc.before != nil {
				tc.before(t, env)
			}
			tc.req.send(t, strings.TrimPrefix(env.URL, "http://")).check(t, tc.want)
			if n := env.Backend.Calls(); n > 1 {
				t.Errorf("backend calls: got %d, want none for the refused request", n)
			}
		})
	}
}

// TestRegressRefusedStreamReset (issue 14, point 7, HTTP/2): a 408, 413
// or 431 set "Connection: close", which net/http's HTTP/2 server takes as
// a GOAWAY for the whole connection, ending every other stream's client's
// use of it. The refused stream is reset instead (RST_STREAM NO_ERROR
// after the answer, so the client's remaining DATA is refused), and the
// connection goes on serving other streams.
func TestRegressRefusedStreamReset(t *testing.T) {
	s := newTLSSetup(t)
	_, addr := trafficBackend(t)
	cfg := s.config(addr, false)
	cfg.Auth, cfg.Apis[0].Auth = nil, nil
	cfg.Limits = &configv1.Limits{MaxBodyBytes: proto.Uint32(1024), BodyTimeout: durationpb.New(300 * time.Millisecond), MaxHeaderBytes: proto.Uint32(1024)}
	srv := startTLSGateway(t, cfg, s.dir)
	c, err := tls.Dial("tcp", srv.HTTPAddr, &tls.Config{RootCAs: s.serverCA.Pool(), ServerName: "127.0.0.1", NextProtos: []string{"h2"}})
	if err != nil {
		t.Fatal(err)
	}
	if p := c.ConnectionState().NegotiatedProtocol; p != "h2" {
		t.Fatalf("negotiated %q, want h2", p)
	}
	h := newH2Conn(t, c)
	post := func(id uint32, length string) {
		h.headers(id, false, ":method", "POST", ":scheme", "https", ":authority", "portico", ":path", "/v1/shelves",
			"content-type", "application/json", "content-length", length)
		if err := h.data(id, false, `{"theme":`); err != nil {
			t.Fatal(err)
		}
	}
	post(1, "100000") // over max_body_bytes: 413
	post(3, "1000")   // never finished: 408
	// Headers over max_header_bytes: 431.
	h.headers(5, false, ":method", "POST", ":scheme", "https", ":authority", "portico", ":path", "/v1/shelves",
		"content-type", "application/json", "x-big", strings.Repeat("a", 2048))
	for _, tc := range []struct {
		id   uint32
		want string
	}{{1, "413"}, {3, "408"}, {5, "431"}} {
		got := h.await(tc.id)
		if got.status != tc.want || !got.ended || !got.reset || got.code != http2.ErrCodeNo {
			t.Errorf("stream %d: got %v; want a whole %s answer, then RST_STREAM NO_ERROR", tc.id, got, tc.want)
		}
	}
	h.headers(7, true, ":method", "GET", ":scheme", "https", ":authority", "portico", ":path", "/v1/shelves/1")
	if got := h.await(7); got.status != "200" {
		t.Errorf("a stream opened after the refusals: got %v, want 200 on the same connection", got)
	}
	if h.sawGoAway() {
		t.Error("the server sent GOAWAY: a refused stream ended the whole connection")
	}
}

// TestRegressCancelReachesBackend (issue 14, point 8): a REST client that
// went away during a call whose request body Portico had not read to its
// end (a body on a route that takes none — grpc-gateway's ExcessBody
// integration tests — or a client or bidi stream the backend was not
// reading) left the backend call running: net/http notices a client going
// away only while the body is read, or once it has been. The backend's
// context now ends within 100 ms of the client leaving, on both doors, for
// unary and streaming calls.
func TestRegressCancelReachesBackend(t *testing.T) {
	b, env := startHoldingBackend(t)
	const within = 100 * time.Millisecond
	rest := []struct {
		name, method string
		req          restCancel
	}{
		{"unary", "GetShelf", restCancel{method: "GET", path: "/v1/shelves/1"}},
		{"unary, a body its route does not take", "DeleteShelf", restCancel{method: "DELETE", path: "/v1/shelves/1", body: "{}"}},
		{"unary, excess after the body", "MoveBook", restCancel{method: "POST", path: "/v1/shelves/1/books/1:move", body: `{"otherShelf":"shelves/2"}.`}},
		{"server stream", "WatchBooks", restCancel{method: "GET", path: "/v1/shelves/1/books:watch"}},
		{"server stream, a body its route does not take", "WatchBooks", restCancel{method: "GET", path: "/v1/shelves/1/books:watch", body: "{}"}},
		{"client stream", "ImportBooks", restCancel{method: "POST", path: "/v1/books:import", body: `{"parent":"shelves/1","book":{"title":"x"}}` + "\n", open: true}},
		{"bidi stream", "LookupBooks", restCancel{method: "POST", path: "/v1/books:lookup", body: `{"name":"shelves/1/books/1"}` + "\n", open: true}},
	}
	for _, tc := range rest {
		t.Run("REST "+tc.name, func(t *testing.T) {
			cancel := tc.req.start(t, env.URL)
			if d := b.cancelled(t, tc.method, cancel); d > within {
				t.Errorf("the backend's context ended %v after the client went away, want within %v", d, within)
			}
		})
	}
	client := bookstorev1.NewBookstoreServiceClient(env.Conn)
	grpcCalls := []struct {
		name, method string
		call         func(ctx context.Context)
	}{
		{"unary", "GetShelf", func(ctx context.Context) { _, _ = client.GetShelf(ctx, &bookstorev1.GetShelfRequest{Shelf: 1}) }},
		{"server stream", "WatchBooks", func(ctx context.Context) {
			if s, err := client.WatchBooks(ctx, &bookstorev1.WatchBooksRequest{Parent: "shelves/1"}); err == nil {
				_, _ = s.Recv()
			}
		}},
		{"client stream", "ImportBooks", func(ctx context.Context) {
			if s, err := client.ImportBooks(ctx); err == nil {
				_ = s.Send(&bookstorev1.CreateBookRequest{Parent: "shelves/1", Book: &bookstorev1.Book{Title: "x"}})
				<-ctx.Done()
			}
		}},
		{"bidi stream", "LookupBooks", func(ctx context.Context) {
			if s, err := client.LookupBooks(ctx); err == nil {
				_ = s.Send(&bookstorev1.GetBookRequest{Name: "shelves/1/books/1"})
				_, _ = s.Recv()
			}
		}},
	}
	for _, tc := range grpcCalls {
		t.Run("gRPC "+tc.name, func(t *testing.T) {
			ctx, cancel := context.WithCancel(context.Background())
			done := make(chan struct{})
			go func() { defer close(done); tc.call(ctx) }()
			t.Cleanup(func() { cancel(); <-done })
			if d := b.cancelled(t, tc.method, cancel); d > within {
				t.Errorf("the backend's context ended %v after the client cancelled, want within %v", d, within)
			}
		})
	}
}

// TestRegressTooLargeCodePlainRoute (issue 14): a plain route's 413 said
// INVALID_ARGUMENT (3) where docs/traffic.md (Limits) promises
// RESOURCE_EXHAUSTED (8), as the REST door's own 413 (transcoder's TestRegressTooLargeCode).
func TestRegressTooLargeCodePlainRoute(t *testing.T) {
	lb := startLegacy(t)
	env := servertest.Start(t, servertest.Options{Config: func(c *configv1.Config) {
		withRoute(lb.URL, "/legacy/", false, nil)(c)
		c.Limits = &configv1.Limits{MaxBodyBytes: proto.Uint32(1024)}
	}})
	for name, body := range map[string]io.Reader{
		"declared length": strings.NewReader(strings.Repeat("x", 2048)),
		"chunked":         io.MultiReader(strings.NewReader(strings.Repeat("x", 2048))),
	} {
		resp, err := servertest.Client().Post(env.URL+"/legacy/upload", "application/octet-stream", body)
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		out, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != http.StatusRequestEntityTooLarge || !strings.Contains(string(out), `"code":8`) {
			t.Errorf("%s: got %d %s, want 413 with code 8 (RESOURCE_EXHAUSTED)", name, resp.StatusCode, out)
		}
	}
}

// TestRegressRefusedBodyAnswerReadable (issue 14, point 7): closing a
// refused request's connection at once, with the client still writing its
// body, made the kernel reset the connection: a client sending a body
// over max_body_bytes got "connection reset by peer" instead of its 413.
// The close is graceful (the write side first, what the client still
// sends dropped for a moment), so the client always reads its answer.
func TestRegressRefusedBodyAnswerReadable(t *testing.T) {
	env := servertest.Start(t, servertest.Options{Config: func(c *configv1.Config) {
		c.Limits = &configv1.Limits{MaxBodyBytes: proto.Uint32(1024)}
	}})
	big := `{"theme":"` + strings.Repeat("a", 4<<20) + `"}`
	for i := 0; i < 10; i++ {
		resp, err := servertest.Client().Post(env.URL+"/v1/shelves", "application/json", strings.NewReader(big))
		if err != nil {
			t.Fatalf("try %d: got %v, want the 413", i, err)
		}
		out, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != http.StatusRequestEntityTooLarge || !isJSONError(out) {
			t.Fatalf("try %d: got %d %s, want a JSON 413", i, resp.StatusCode, out)
		}
	}
}

// TestRegressRouteMethodOverride (issue 14, point 1, a sibling): a plain
// route passed X-HTTP-Method-Override (and its kin, and a _method query
// parameter) to its backend, which many frameworks obey: the gateway's
// policies judged a POST (an authorizer allowing it) while the backend
// ran a DELETE. Such a request is refused before any decision; a request
// without one is served as before.
func TestRegressRouteMethodOverride(t *testing.T) {
	env, b := startPathsGateway(t)
	for _, tc := range []struct{ target, header string }{
		{"/legacy/public/x", "X-HTTP-Method-Override: DELETE"},
		{"/legacy/public/x", "X_HTTP_Method_Override: DELETE"},
		{"/legacy/public/x", "X-HTTP-Method: DELETE"},
		{"/legacy/public/x", "x-method-override: DELETE"},
		{"/legacy/public/x?_method=DELETE", ""},
		{"/legacy/public/x?a=1&_METHOD=delete", ""},
	} {
		b.got() // forget earlier requests
		var headers []string
		if tc.header != "" {
			headers = append(headers, tc.header)
		}
		resp, body := rawRequest(t, env.URL, "POST", tc.target, headers...)
		if resp.StatusCode != http.StatusBadRequest || !isJSONError(body) {
			t.Errorf("POST %s %q: got %d %s, want a JSON 400", tc.target, tc.header, resp.StatusCode, truncate(body))
		}
		if got := b.got(); len(got) > 0 {
			t.Errorf("POST %s %q: the backend got %q, want nothing forwarded", tc.target, tc.header, got)
		}
	}
	resp, body := rawRequest(t, env.URL, "POST", "/legacy/public/x?method=x")
	if resp.StatusCode != http.StatusOK {
		t.Errorf("POST without an override: got %d %s, want 200", resp.StatusCode, truncate(body))
	}
}
