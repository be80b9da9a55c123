package server_test

// The findings of the hardening issue and of issue 14 about the limits
// on slow, idle, numerous and oversized calls (one test per finding,
// named for it).

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/portico-gw/portico/codec"
	configv1 "github.com/portico-gw/portico/gen/portico/config/v1"
	"github.com/portico-gw/portico/server/servertest"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/metadata"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/encoding/protowire"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/durationpb"
)

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
	silentGRPCRequest(t, unaryDesc, "Put")
}

// silentGRPCRequest opens a call of the hostile method that sends no
// request message and does not half-close: the door must end it with
// DEADLINE_EXCEEDED after its 300ms body timeout, reaching no backend.
func silentGRPCRequest(t *testing.T, desc grpc.StreamDesc, method string) {
	t.Helper()
	env := servertest.StartHostile(t, servertest.Options{Config: func(c *configv1.Config) {
		c.Limits = &configv1.Limits{BodyTimeout: durationpb.New(300 * time.Millisecond)}
	}})
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	start := time.Now()
	cs, err := env.Conn.NewStream(ctx, &desc, hostile+method, grpc.ForceCodecV2(codec.Client{}))
	if err != nil {
		t.Fatal(err)
	}
	var f codec.Frame
	err = cs.RecvMsg(&f) // no message sent, no half-close
	wantCode(t, "call", err, codes.DeadlineExceeded)
	if d := time.Since(start); d > 5*time.Second {
		t.Errorf("ended after %v, want about the 300ms body timeout", d)
	}
	if n := env.Mirror.Calls(); n != 0 {
		t.Errorf("backend calls: got %d, want 0", n)
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

// TestRegressBudgetRefusalCodeUnary: a unary gRPC call whose message
// arrived in time but found no room in the door's budget was refused with
// DEADLINE_EXCEEDED "request message not received in time": the receive
// timer (body_timeout) kept running while the message waited for the
// budget (body_timeout too) and won the race. The budget's refusal,
// RESOURCE_EXHAUSTED, is the call's answer now.
func TestRegressBudgetRefusalCodeUnary(t *testing.T) {
	msg := protowire.AppendVarint([]byte{0x3a}, budgetBodySize)
	msg = append(msg, bytes.Repeat([]byte("a"), budgetBodySize)...)
	env, backend := startBudgetGateway(t)
	budgetSequence(t, backend, grpcBudgetCall(env, msg, "identity"), func(err error) bool {
		s, _ := status.FromError(err)
		return s.Code() == codes.ResourceExhausted && strings.Contains(s.Message(), "too many large requests")
	})
}

// TestRegressSlowGRPCStreamRequest: the sibling of
// TestRegressSlowGRPCMessage for server streams. The gRPC door waited for
// a server stream's one request message for ever, holding the call's
// room under max_in_flight; it must arrive within limits.body_timeout
// too, and nothing reaches the backend.
func TestRegressSlowGRPCStreamRequest(t *testing.T) {
	silentGRPCRequest(t, grpc.StreamDesc{ServerStreams: true}, "Watch")
}
