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
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	corev3 "github.com/envoyproxy/go-control-plane/envoy/config/core/v3"
	authv3 "github.com/envoyproxy/go-control-plane/envoy/service/auth/v3"
	"github.com/portico-gw/portico/auth/apikey"
	"github.com/portico-gw/portico/auth/authtest"
	"github.com/portico-gw/portico/codec"
	"github.com/portico-gw/portico/config"
	"github.com/portico-gw/portico/examples/bookstore"
	bookstorev1 "github.com/portico-gw/portico/gen/example/bookstore/v1"
	messagingv1 "github.com/portico-gw/portico/gen/example/messaging/v1"
	configv1 "github.com/portico-gw/portico/gen/portico/config/v1"
	"github.com/portico-gw/portico/server"
	"github.com/portico-gw/portico/server/servertest"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
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
// net/http; the README promises a JSON 414.
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

// TestRegressSelectorSyntax (issue 14, point 11): a per-method rate limit
// whose selector was written as the gRPC path (/package.Service/Method)
// was silently ignored; auth read that form, rate limits did not. Every
// policy kind now reads selectors the same way (catalog.MethodSelector),
// on both doors; a selector naming no method of the API is a config error
// at its key, whatever policies it carries.
func TestRegressSelectorSyntax(t *testing.T) {
	limited := func(selector string) func(*configv1.Config) {
		return func(c *configv1.Config) {
			c.RateLimits = &configv1.RateLimits{Policies: []*configv1.RateLimitPolicy{{Name: "once", Key: "method", Rate: "1/h", Burst: 1}}}
			c.Apis[0].Auth = &configv1.ApiAuth{Public: true}
			c.Apis[0].Methods = []*configv1.MethodPolicy{{Selector: selector, RateLimits: []string{"once"}}}
		}
	}
	for _, sel := range []string{"example.bookstore.v1.BookstoreService.ListShelves", "/example.bookstore.v1.BookstoreService/ListShelves"} {
		t.Run("REST "+sel, func(t *testing.T) {
			env := servertest.Start(t, servertest.Options{Config: limited(sel)})
			if code, body := restGet(t, env.URL+"/v1/shelves"); code != http.StatusOK {
				t.Fatalf("first call: got %d %s, want 200", code, body)
			}
			if code, body := restGet(t, env.URL+"/v1/shelves"); code != http.StatusTooManyRequests {
				t.Errorf("second call: got %d %s, want 429 (the method's limit is one call an hour)", code, body)
			}
		})
		t.Run("gRPC "+sel, func(t *testing.T) {
			env := servertest.Start(t, servertest.Options{Config: limited(sel)})
			client := bookstorev1.NewBookstoreServiceClient(env.Conn)
			if _, err := client.ListShelves(context.Background(), &bookstorev1.ListShelvesRequest{}); err != nil {
				t.Fatalf("first call: %v", err)
			}
			if _, err := client.ListShelves(context.Background(), &bookstorev1.ListShelvesRequest{}); status.Code(err) != codes.ResourceExhausted {
				t.Errorf("second call: got %v, want RESOURCE_EXHAUSTED", err)
			}
		})
	}
	for _, sel := range []string{"/example.bookstore.v1.BookstoreService/Nope", "example.bookstore.v1.BookstoreService", "example/bookstore/v1.BookstoreService/ListShelves"} {
		cfg := servertest.BookstoreConfig("127.0.0.1:1")
		limited(sel)(cfg)
		cfg.Apis[0].Methods = append([]*configv1.MethodPolicy{{Selector: "example.bookstore.v1.BookstoreService.GetBook"}}, cfg.Apis[0].Methods...)
		_, err := server.Build(&config.File{Config: cfg, Dir: "."}, server.BuildOptions{})
		if err == nil || !strings.Contains(err.Error(), "apis[0].methods[1].selector") {
			t.Errorf("selector %q: got %v, want a config error at apis[0].methods[1].selector", sel, err)
		}
	}
}

// TestRegressJWTAudiences (issue 14, point 10): a jwt provider without
// audiences let in tokens the issuer made for any other service; it is a
// config error now, and ["*"] is the explicit way to accept any audience
// (before, "*" was an audience no token had).
func TestRegressJWTAudiences(t *testing.T) {
	cfg := servertest.BookstoreConfig("127.0.0.1:1")
	iss := authtest.NewIssuer(t)
	cfg.Auth = &configv1.Auth{Providers: []*configv1.AuthProvider{jwtProvider(iss)}}
	cfg.Auth.Providers[0].GetJwt().Audiences = nil
	cfg.Apis[0].Auth = &configv1.ApiAuth{Providers: []string{"corp"}}
	if _, err := server.Build(&config.File{Config: cfg, Dir: "."}, server.BuildOptions{}); err == nil || !strings.Contains(err.Error(), "auth.providers[0].jwt.audiences") {
		t.Errorf("no audiences: got %v, want a config error at auth.providers[0].jwt.audiences", err)
	}

	e := startAuth(t, func(c *configv1.Config, _ *authtest.Issuer) { c.Auth.Providers[0].GetJwt().Audiences = []string{"*"} })
	billing := e.iss.Token(t, authtest.Claims{"aud": "billing"})
	if a := restCall(t, e.URL, http.MethodGet, getBookPath, bearer(billing), ""); a.code != http.StatusOK {
		t.Errorf(`REST, audiences ["*"], a token for billing: got %d %s, want 200`, a.code, a.body)
	}
	if st, _ := grpcGetBook(t, e.Conn, "shelves/1/books/1", grpcBearer(billing)); st.Code() != codes.OK {
		t.Errorf(`gRPC, audiences ["*"], a token for billing: got %v, want OK`, st.Err())
	}
	e = startAuth(t, nil) // audiences [portico]
	if a := restCall(t, e.URL, http.MethodGet, getBookPath, bearer(e.iss.Token(t, authtest.Claims{"aud": "billing"})), ""); a.code != http.StatusUnauthorized {
		t.Errorf("REST, audiences [portico], a token for billing: got %d %s, want 401", a.code, a.body)
	}
}

// TestRegressExtAuthzCacheAcrossRequests (issue 14, point 2): with the
// default cache key an authorizer's yes for GET /legacy/orders/1 was
// replayed for DELETE /legacy/billing/export (a plain route is one
// method), and a yes for one book's path for another book's. Both doors:
// a decision is reused only for the same request.
func TestRegressExtAuthzCacheAcrossRequests(t *testing.T) {
	az := authtest.NewAuthorizer(t)
	az.SetDecide(func(r *authv3.CheckRequest) *authv3.CheckResponse {
		switch h := r.GetAttributes().GetRequest().GetHttp(); {
		case h.GetMethod() == "GET" && h.GetPath() == "/legacy/orders/1",
			h.GetMethod() == "GET" && h.GetPath() == "/v1/shelves/1/books/1",
			h.GetPath() == "/example.bookstore.v1.BookstoreService/GetBook":
			return authtest.Allow(nil)
		}
		return authtest.Deny(403, nil)
	})
	lb := startLegacy(t)
	env := servertest.Start(t, servertest.Options{Config: func(c *configv1.Config) {
		withRoute(lb.URL, "/legacy/", false, nil)(c)
		c.Auth = &configv1.Auth{Providers: []*configv1.AuthProvider{{Name: "opa", Kind: &configv1.AuthProvider_External{External: &configv1.ExternalAuthorizer{
			Target: az.Addr, Timeout: durationpb.New(5 * time.Second), CacheTtl: durationpb.New(time.Hour)}}}}}
		c.Apis[0].Auth = &configv1.ApiAuth{Providers: []string{"opa"}}
		c.Routes[0].Auth = &configv1.ApiAuth{Providers: []string{"opa"}}
	}})
	creds := map[string]string{"Authorization": "Bearer alice"}
	for _, s := range []struct {
		method, path string
		want         int
	}{
		{http.MethodGet, "/legacy/orders/1", http.StatusCreated},
		{http.MethodDelete, "/legacy/billing/export", http.StatusForbidden},
		{http.MethodGet, "/legacy/orders/1?fields=all", http.StatusForbidden},
		{http.MethodGet, "/v1/shelves/1/books/1", http.StatusOK},
		{http.MethodGet, "/v1/shelves/2/books/1", http.StatusForbidden},
	} {
		lb.mu.Lock()
		lb.last = nil
		lb.mu.Unlock()
		if a := restCall(t, env.URL, s.method, s.path, creds, ""); a.code != s.want {
			t.Errorf("REST %s %s: got %d %s, want %d", s.method, s.path, a.code, a.body, s.want)
		}
		if got, _ := lb.got(); s.want == http.StatusForbidden && got != nil {
			t.Errorf("REST %s %s: refused, but the backend received %s %s", s.method, s.path, got.Method, got.URL)
		}
	}
	client := bookstorev1.NewBookstoreServiceClient(env.Conn)
	ctx := metadata.AppendToOutgoingContext(context.Background(), "authorization", "Bearer alice")
	if _, err := client.GetBook(ctx, &bookstorev1.GetBookRequest{Name: "shelves/1/books/1"}); err != nil {
		t.Errorf("gRPC GetBook: %v", err)
	}
	if _, err := client.DeleteBook(ctx, &bookstorev1.DeleteBookRequest{Name: "shelves/1/books/1"}); status.Code(err) != codes.PermissionDenied {
		t.Errorf("gRPC DeleteBook after an allowed GetBook: got %v, want PERMISSION_DENIED", err)
	}
}

// TestRegressAuthorizerCacheKeyedByNobody (issue 14, point 2, a sibling):
// an authorizer asked with no authenticating provider before it sees the
// principal "" for every caller, so a cache_key that tells callers apart
// by principal alone gave every caller the first one's decision. Such a
// config is refused at its key, as is a cache_key without the request.
func TestRegressAuthorizerCacheKeyedByNobody(t *testing.T) {
	az := authtest.NewAuthorizer(t)
	build := func(key []string) error {
		cfg := servertest.BookstoreConfig("127.0.0.1:1")
		cfg.Auth = &configv1.Auth{Providers: []*configv1.AuthProvider{{Name: "opa", Kind: &configv1.AuthProvider_External{External: &configv1.ExternalAuthorizer{
			Target: az.Addr, CacheTtl: durationpb.New(time.Hour), CacheKey: key}}}}}
		cfg.Apis[0].Auth = &configv1.ApiAuth{Providers: []string{"opa"}}
		snap, err := server.Build(&config.File{Config: cfg, Dir: "."}, server.BuildOptions{})
		if err == nil {
			snap.Close()
		}
		return err
	}
	if err := build([]string{"principal", "method", "http_method", "path"}); err == nil || !strings.Contains(err.Error(), "apis[0].auth.providers: ") {
		t.Errorf("cache_key by principal alone, no authenticator: got %v, want a config error at apis[0].auth.providers", err)
	}
	if err := build([]string{"principal", "method"}); err == nil || !strings.Contains(err.Error(), "auth.providers[0].external.cache_key: ") {
		t.Errorf("cache_key without the path: got %v, want a config error at auth.providers[0].external.cache_key", err)
	}
	if err := build([]string{"authorization", "method", "http_method", "path"}); err != nil {
		t.Errorf("cache_key by the authorization header: got %v, want none", err)
	}
}

// TestRegressBruteForceThrottled (issue 14, point 9): the rate-limit gate
// ran after authentication, so a refused call never reached the limiter
// and wrong API keys could be tried at line rate. client_ip limits now run
// before authentication: refused authentications count, and a client over
// its limit is refused (429, counted in portico_refusals_total) before
// its credentials are looked at — a right key included. Both doors.
func TestRegressBruteForceThrottled(t *testing.T) {
	dir := t.TempDir()
	keys := authtest.WriteFile(t, dir, "keys.yaml", []byte(fmt.Sprintf("- {id: k1, sha256: %s}\n", apikey.Hash("the-right-key"))))
	start := func(t *testing.T) *servertest.Env {
		return servertest.Start(t, servertest.Options{Config: func(c *configv1.Config) {
			c.Telemetry = &configv1.Telemetry{Metrics: &configv1.Metrics{Prometheus: true}}
			c.Auth = &configv1.Auth{Providers: []*configv1.AuthProvider{{Name: "partners", Kind: &configv1.AuthProvider_ApiKey{ApiKey: &configv1.ApiKeyProvider{KeysFile: keys}}}}}
			c.Apis[0].Auth = &configv1.ApiAuth{Providers: []string{"partners"}}
			c.RateLimits = &configv1.RateLimits{Policies: []*configv1.RateLimitPolicy{{Name: "per-ip", Key: "client_ip", Rate: "3/h", Burst: 3}}}
			c.Apis[0].RateLimits = []string{"per-ip"}
		}})
	}
	refusals := func(t *testing.T, env *servertest.Env, door string, want map[string]float64) {
		t.Helper()
		var got map[string]float64
		// The gRPC door records a call when its stats handler sees the
		// end, which may come just after the client has its answer.
		deadline := time.Now().Add(10 * time.Second)
		tick := time.NewTicker(5 * time.Millisecond)
		defer tick.Stop()
		for {
			families, _ := scrape(t, env.Server)
			got = map[string]float64{}
			for reason := range want {
				if m := series(t, families, "portico_refusals_total", map[string]string{"door": door, "reason": reason}); m != nil {
					got[reason] = m.GetCounter().GetValue()
				}
			}
			if fmt.Sprint(got) == fmt.Sprint(want) || time.Now().After(deadline) {
				break
			}
			<-tick.C
		}
		if fmt.Sprint(got) != fmt.Sprint(want) {
			t.Errorf("%s refusals: got %v, want %v", door, got, want)
		}
	}
	t.Run("REST", func(t *testing.T) {
		env := start(t)
		for i := 0; i < 3; i++ {
			if code, _ := restGetWith(t, env.URL+getBookPath, "X-Api-Key", fmt.Sprintf("guess-%d", i)); code != http.StatusUnauthorized {
				t.Fatalf("wrong key %d: got %d, want 401", i, code)
			}
		}
		before := env.Backend.Calls()
		if code, body := restGetWith(t, env.URL+getBookPath, "X-Api-Key", "the-right-key"); code != http.StatusTooManyRequests {
			t.Errorf("the right key after 3 refused ones: got %d %s, want 429 (the client is over its limit)", code, body)
		}
		if env.Backend.Calls() != before {
			t.Error("a throttled call reached the backend")
		}
		refusals(t, env, "rest", map[string]float64{"auth": 3, "rate_limit": 1})
	})
	t.Run("gRPC", func(t *testing.T) {
		env := start(t)
		for i := 0; i < 3; i++ {
			if st, _ := grpcGetBook(t, env.Conn, "shelves/1/books/1", map[string]string{"x-api-key": fmt.Sprintf("guess-%d", i)}); st.Code() != codes.Unauthenticated {
				t.Fatalf("wrong key %d: got %v, want UNAUTHENTICATED", i, st.Err())
			}
		}
		if st, _ := grpcGetBook(t, env.Conn, "shelves/1/books/1", map[string]string{"x-api-key": "the-right-key"}); st.Code() != codes.ResourceExhausted {
			t.Errorf("the right key after 3 refused ones: got %v, want RESOURCE_EXHAUSTED", st.Err())
		}
		refusals(t, env, "grpc", map[string]float64{"auth": 3, "rate_limit": 1})
	})
}

// restGetWith is GET url with one request header.
func restGetWith(t *testing.T, url, header, value string) (int, string) {
	t.Helper()
	req, _ := http.NewRequest(http.MethodGet, url, nil)
	req.Header.Set(header, value)
	resp, body := do(t, req)
	return resp.StatusCode, string(body)
}

// TestRegressCredentialsForwarded (issue 14, point 5): the credentials a
// provider consumed — Authorization, the API key's header or query
// parameter, the JWT cookie — went on to the backend, which could replay
// them. They stay at the gateway now, on both doors and through plain
// routes, unless the API or route says forward_credentials; other
// headers, cookies and query parameters still pass.
func TestRegressCredentialsForwarded(t *testing.T) {
	dir := t.TempDir()
	keys := authtest.WriteFile(t, dir, "keys.yaml", []byte(fmt.Sprintf("- {id: k1, sha256: %s}\n", apikey.Hash("the-key"))))
	lb := startLegacy(t)
	start := func(t *testing.T, forward bool) *authEnv {
		return startAuth(t, func(c *configv1.Config, _ *authtest.Issuer) {
			jwt := c.Auth.Providers[0].GetJwt()
			jwt.TokenSources = []*configv1.TokenSource{{Kind: &configv1.TokenSource_Cookie{Cookie: "session"}}}
			c.Auth.Providers = append(c.Auth.Providers, &configv1.AuthProvider{Name: "partners",
				Kind: &configv1.AuthProvider_ApiKey{ApiKey: &configv1.ApiKeyProvider{Header: "x-api-key", Query: "api_key", KeysFile: keys}}})
			c.Apis[0].Auth.Providers = []string{"corp", "partners"}
			c.Apis[0].ForwardCredentials = forward
			c.Rest = &configv1.Rest{ForwardHeaders: []string{"X-Api-Key"}} // the REST door passes it on as metadata
			withRoute(lb.URL, "/legacy/", false, nil)(c)
			c.Routes[0].Auth = &configv1.ApiAuth{Providers: []string{"corp", "partners"}}
			c.Routes[0].ForwardCredentials = forward
		})
	}
	for _, forward := range []bool{false, true} {
		t.Run(fmt.Sprintf("forward_credentials=%v", forward), func(t *testing.T) {
			e := start(t, forward)
			tok := e.iss.Token(t, nil)
			// What a backend may see of the credentials: nothing, unless forwarded.
			check := func(where, name string, got []string, sent string) {
				t.Helper()
				has := slices.ContainsFunc(got, func(v string) bool { return strings.Contains(v, sent) })
				if has != forward {
					t.Errorf("%s: %s: got %q; want the credential %s", where, name, got, map[bool]string{false: "dropped", true: "forwarded"}[forward])
				}
			}
			headers := map[string]string{"Authorization": "Bearer " + tok, "X-Api-Key": "the-key", "Cookie": "session=" + tok + "; theme=dark"}
			if a := restCall(t, e.URL, http.MethodGet, getBookPath, headers, ""); a.code != http.StatusOK {
				t.Fatalf("REST: got %d %s", a.code, a.body)
			}
			md := e.rec.lastMD()
			check("REST", "authorization", md.Get("authorization"), tok)
			check("REST", "grpcgateway-authorization", md.Get("grpcgateway-authorization"), tok)
			check("REST", "x-api-key", md.Get("x-api-key"), "the-key")
			check("REST", "grpcgateway-cookie", md.Get("grpcgateway-cookie"), tok)
			if got := md.Get("grpcgateway-cookie"); len(got) != 1 || !strings.Contains(got[0], "theme=dark") {
				t.Errorf("REST: grpcgateway-cookie: got %q, want the other cookie kept", got)
			}
			if got := md.Get("x-portico-principal"); len(got) != 1 || got[0] != "alice" {
				t.Errorf("REST: x-portico-principal: got %q, want [alice]", got)
			}

			grpcMD := map[string]string{"authorization": "Bearer " + tok, "x-api-key": "the-key", "cookie": "session=" + tok + "; theme=dark"}
			if st, _ := grpcGetBook(t, e.Conn, "shelves/1/books/1", grpcMD); st.Code() != codes.OK {
				t.Fatalf("gRPC: %v", st.Err())
			}
			md = e.rec.lastMD()
			check("gRPC", "authorization", md.Get("authorization"), tok)
			check("gRPC", "x-api-key", md.Get("x-api-key"), "the-key")
			check("gRPC", "cookie", md.Get("cookie"), tok)
			if got := md.Get("cookie"); len(got) != 1 || !strings.Contains(got[0], "theme=dark") {
				t.Errorf("gRPC: cookie: got %q, want the other cookie kept", got)
			}

			if a := restCall(t, e.URL, http.MethodGet, "/legacy/orders?api_key=the-key&page=2", headers, ""); a.code != http.StatusCreated {
				t.Fatalf("route: got %d %s", a.code, a.body)
			}
			got, _ := lb.got()
			check("route", "Authorization", got.Header.Values("Authorization"), tok)
			check("route", "X-Api-Key", got.Header.Values("X-Api-Key"), "the-key")
			check("route", "Cookie", got.Header.Values("Cookie"), tok)
			check("route", "query", []string{got.URL.RawQuery}, "api_key=the-key")
			if !strings.Contains(got.URL.RawQuery, "page=2") || !strings.Contains(got.Header.Get("Cookie"), "theme=dark") {
				t.Errorf("route: got query %q and Cookie %q, want page=2 and theme=dark kept", got.URL.RawQuery, got.Header.Get("Cookie"))
			}
		})
	}

	// An http integration serving proto methods gets headers from the
	// same metadata: the token does not reach it either.
	t.Run("http integration", func(t *testing.T) {
		got := make(chan http.Header, 1)
		backend := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			got <- r.Header.Clone()
			io.WriteString(w, "{}")
		}))
		t.Cleanup(backend.Close)
		e := startAuth(t, func(c *configv1.Config, _ *authtest.Issuer) {
			c.Integrations = []*configv1.Integration{{Name: "legacy", Kind: &configv1.Integration_Http{Http: &configv1.HttpIntegration{Url: backend.URL}}}}
			c.Apis = []*configv1.Api{{Services: []string{messaging}, Integration: "legacy", Auth: &configv1.ApiAuth{Providers: []string{"corp"}}}}
		})
		tok := e.iss.Token(t, nil)
		if a := restCall(t, e.URL, http.MethodGet, "/v1/rooms/r1/messages/m1", bearer(tok), ""); a.code != http.StatusOK {
			t.Fatalf("REST: got %d %s", a.code, a.body)
		}
		if h := <-got; h.Get("Authorization") != "" || h.Get("X-Portico-Principal") != "alice" {
			t.Errorf("REST: the http backend got Authorization %q, principal %q; want none, alice", h.Get("Authorization"), h.Get("X-Portico-Principal"))
		}
		ctx := metadata.AppendToOutgoingContext(ctxT(t), "authorization", "Bearer "+tok)
		if _, err := messagingv1.NewMessagingServiceClient(e.Conn).GetMessage(ctx, &messagingv1.GetMessageRequest{Name: "rooms/r1/messages/m1"}); err != nil {
			t.Fatalf("gRPC: %v", err)
		}
		if h := <-got; h.Get("Authorization") != "" || h.Get("X-Portico-Principal") != "alice" {
			t.Errorf("gRPC: the http backend got Authorization %q, principal %q; want none, alice", h.Get("Authorization"), h.Get("X-Portico-Principal"))
		}
	})

	// A request mapping cannot list such a header without saying so.
	cfg := servertest.BookstoreConfig("127.0.0.1:1")
	iss := authtest.NewIssuer(t)
	cfg.Auth = &configv1.Auth{Providers: []*configv1.AuthProvider{jwtProvider(iss)}}
	cfg.Apis[0].Auth = &configv1.ApiAuth{Providers: []string{"corp"}}
	cfg.Apis[0].Request = &configv1.RequestMapping{ForwardHeaders: []string{"x-request-id", "Authorization"}}
	if _, err := server.Build(&config.File{Config: cfg, Dir: "."}, server.BuildOptions{}); err == nil || !strings.Contains(err.Error(), "apis[0].request.forward_headers[1]") {
		t.Errorf("forward_headers [authorization] without forward_credentials: got %v, want a config error at apis[0].request.forward_headers[1]", err)
	}
	cfg.Apis[0].ForwardCredentials = true
	snap, err := server.Build(&config.File{Config: cfg, Dir: "."}, server.BuildOptions{})
	if err != nil {
		t.Fatalf("forward_headers [authorization] with forward_credentials: %v", err)
	}
	snap.Close()
}
