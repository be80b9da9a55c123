package server_test

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/coder/websocket"
	"github.com/portico-gw/portico/config"
	bookstorev1 "github.com/portico-gw/portico/gen/example/bookstore/v1"
	configv1 "github.com/portico-gw/portico/gen/portico/config/v1"
	"github.com/portico-gw/portico/server/servertest"
	"github.com/portico-gw/portico/snapshot"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/metadata"
	"google.golang.org/grpc/status"
)

// gwrespGateway serves the bookstore behind an API key (key "good-key"),
// GetShelf limited to one call an hour, CORS for one origin, the OpenAPI
// document, a plain route to lb, and gateway_responses with two headers
// and shaped 401, 404, 429 and 500 refusals.
func gwrespGateway(t *testing.T, lb *legacyBackend) *servertest.Env {
	t.Helper()
	sum := sha256.Sum256([]byte("good-key"))
	keys := filepath.Join(t.TempDir(), "keys.yaml")
	if err := os.WriteFile(keys, []byte("- {id: k1, sha256: "+hex.EncodeToString(sum[:])+", principal: acme}\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	return servertest.Start(t, servertest.Options{Config: func(c *configv1.Config) {
		withRoute(lb.URL+"/api", "/legacy/", true, nil)(c)
		withDocs(c)
		c.Rest = &configv1.Rest{ForwardHeaders: []string{"X-Fail"}}
		c.Cors = &configv1.Cors{AllowedOrigins: []string{"https://app.example.com"}}
		c.Auth = &configv1.Auth{Providers: []*configv1.AuthProvider{{Name: "partners",
			Kind: &configv1.AuthProvider_ApiKey{ApiKey: &configv1.ApiKeyProvider{Header: "x-api-key", KeysFile: keys}}}}}
		c.Apis[0].Auth = &configv1.ApiAuth{Providers: []string{"partners"}}
		c.RateLimits = &configv1.RateLimits{Policies: []*configv1.RateLimitPolicy{{Name: "slow", Key: "method", Rate: "1/h"}}}
		c.Apis[0].Methods = []*configv1.MethodPolicy{{Selector: "example.bookstore.v1.BookstoreService.GetShelf", RateLimits: []string{"slow"}}}
		c.GatewayResponses = &configv1.GatewayResponses{
			Headers: map[string]string{"Strict-Transport-Security": "max-age=63072000", "X-Frame-Options": "DENY"},
			Errors: []*configv1.GatewayError{
				{Status: 429, Json: `{"error": "too many requests", "request_id": "${request_id}"}`},
				{Status: 401, Json: `{"error": "sign in first", "request_id": "${request_id}"}`, GrpcMessage: "sign in first (${request_id})"},
				{Status: 404, Json: `{"error": "no such route", "message": "${message}"}`},
				{Status: 500, Json: `{"error": "gateway failure"}`},
			},
		}
	}})
}

// wantGatewayHeaders checks the configured headers, once each.
func wantGatewayHeaders(t *testing.T, what string, h http.Header) {
	t.Helper()
	if got := h.Values("Strict-Transport-Security"); len(got) != 1 || got[0] != "max-age=63072000" {
		t.Errorf("%s: Strict-Transport-Security = %q, want [max-age=63072000]", what, got)
	}
	if got := h.Values("X-Frame-Options"); len(got) != 1 || got[0] != "DENY" {
		t.Errorf("%s: X-Frame-Options = %q, want [DENY]", what, got)
	}
}

// TestGatewayResponsesHeaders: gateway_responses.headers are on every
// answer of the REST door — a success, the gateway's refusals (404, 401,
// 429), a CORS preflight, a plain route's proxied answer, the OpenAPI
// document, a backend's error — and are response metadata on the gRPC
// door, success or refusal.
func TestGatewayResponsesHeaders(t *testing.T) {
	lb := startLegacy(t)
	env := gwrespGateway(t, lb)
	key := []string{"X-Api-Key", "good-key"}
	preflight := []string{"Origin", "https://app.example.com", "Access-Control-Request-Method", "GET"}
	for _, tc := range []struct {
		name, method, path string
		header             []string
		want               int
	}{
		{"success", "GET", "/v1/shelves", key, http.StatusOK},
		{"unknown route", "GET", "/v1/nowhere", key, http.StatusNotFound},
		{"no key", "GET", "/v1/shelves", nil, http.StatusUnauthorized},
		{"preflight", "OPTIONS", "/v1/shelves", preflight, http.StatusNoContent},
		{"plain route", "GET", "/legacy/orders/1", nil, http.StatusCreated},
		{"openapi", "GET", "/openapi.json", nil, http.StatusOK},
		{"backend error", "GET", "/v1/shelves", append([]string{"X-Fail", "NOT_FOUND"}, key...), http.StatusNotFound},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got := respREST(t, tc.method, env.URL+tc.path, "", tc.header...)
			if got.status != tc.want {
				t.Fatalf("%s %s: got %d %s, want %d", tc.method, tc.path, got.status, got.body, tc.want)
			}
			wantGatewayHeaders(t, tc.name, got.header)
		})
	}
	// 429: the second call of the hour.
	for i, want := range []int{http.StatusOK, http.StatusTooManyRequests} {
		got := respREST(t, "GET", env.URL+"/v1/shelves/1", "", key...)
		if got.status != want {
			t.Fatalf("GetShelf call %d: got %d %s, want %d", i+1, got.status, got.body, want)
		}
		wantGatewayHeaders(t, "GetShelf", got.header)
	}

	// A WebSocket's handshake (101) too, and the stream works through it.
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	ws, resp, err := websocket.Dial(ctx, "ws"+strings.TrimPrefix(env.URL, "http")+"/v1/shelves/1/books:watch",
		&websocket.DialOptions{HTTPHeader: http.Header{"X-Api-Key": {"good-key"}}})
	if err != nil {
		t.Fatalf("WebSocket: %v", err)
	}
	defer ws.CloseNow()
	wantGatewayHeaders(t, "WebSocket handshake", resp.Header)
	if err := ws.Write(ctx, websocket.MessageText, nil); err != nil {
		t.Fatalf("WebSocket write: %v", err)
	}
	if _, msg, err := ws.Read(ctx); err != nil || !strings.Contains(string(msg), "{") {
		t.Errorf("WebSocket read: got %s, %v; want a message", msg, err)
	}

	// The gRPC door: header metadata, lower-cased, on a success and on a
	// refusal.
	client := bookstorev1.NewBookstoreServiceClient(env.Conn)
	for _, tc := range []struct {
		name string
		ctx  context.Context
		want codes.Code
	}{
		{"success", metadata.AppendToOutgoingContext(context.Background(), "x-api-key", "good-key"), codes.OK},
		{"refusal", context.Background(), codes.Unauthenticated},
	} {
		ctx, cancel := context.WithTimeout(tc.ctx, 10*time.Second)
		var md metadata.MD
		_, err := client.ListShelves(ctx, &bookstorev1.ListShelvesRequest{}, grpc.Header(&md))
		cancel()
		if status.Code(err) != tc.want {
			t.Fatalf("gRPC %s: got %v, want %v", tc.name, err, tc.want)
		}
		if got := md.Get("strict-transport-security"); len(got) != 1 || got[0] != "max-age=63072000" {
			t.Errorf("gRPC %s: strict-transport-security = %q, want [max-age=63072000]", tc.name, got)
		}
		if got := md.Get("x-frame-options"); len(got) != 1 || got[0] != "DENY" {
			t.Errorf("gRPC %s: x-frame-options = %q, want [DENY]", tc.name, got)
		}
	}
}

// TestGatewayResponsesErrors: the gateway's own 401, 429 and 404 are the
// configured bodies, with the request ID the response header carries and
// the refusal's message JSON-escaped; a backend's 404 and 500 are left as
// the backend's; on the gRPC door the 401's grpc_message replaces the
// refusal's message and a backend's status is left alone.
func TestGatewayResponsesErrors(t *testing.T) {
	lb := startLegacy(t)
	env := gwrespGateway(t, lb)
	key := []string{"X-Api-Key", "good-key"}
	shaped := func(got respCall, wantError string) map[string]any {
		t.Helper()
		if ct := got.header.Get("Content-Type"); ct != "application/json" {
			t.Errorf("%d: Content-Type = %q, want application/json", got.status, ct)
		}
		body := respJSON(t, got.body)
		if body["error"] != wantError {
			t.Errorf("%d: body %s, want error %q", got.status, got.body, wantError)
		}
		return body
	}
	withID := func(got respCall, wantError string) {
		t.Helper()
		body := shaped(got, wantError)
		id := got.header.Get("X-Request-Id")
		if id == "" || body["request_id"] != id {
			t.Errorf("%d: request_id %v, want the X-Request-Id header %q", got.status, body["request_id"], id)
		}
	}

	unauth := respREST(t, "GET", env.URL+"/v1/shelves", "")
	if unauth.status != http.StatusUnauthorized {
		t.Fatalf("no key: got %d, want 401", unauth.status)
	}
	withID(unauth, "sign in first")
	if unauth.header.Get("WWW-Authenticate") == "" {
		t.Errorf("401: no WWW-Authenticate, want the policy's challenge kept")
	}

	for i, want := range []int{http.StatusOK, http.StatusTooManyRequests} {
		got := respREST(t, "GET", env.URL+"/v1/shelves/1", "", key...)
		if got.status != want {
			t.Fatalf("GetShelf call %d: got %d, want %d", i+1, got.status, want)
		}
		if want == http.StatusTooManyRequests {
			withID(got, "too many requests")
			if got.header.Get("Retry-After") == "" {
				t.Errorf("429: no Retry-After, want the limiter's kept")
			}
		}
	}

	// The gateway's 404 quotes its message, escaped: the body stays JSON.
	nowhere := respREST(t, "GET", env.URL+`/v1/no"where`, "", key...)
	if nowhere.status != http.StatusNotFound {
		t.Fatalf("unknown route: got %d, want 404", nowhere.status)
	}
	if msg, _ := shaped(nowhere, "no such route")["message"].(string); msg == "" {
		t.Errorf("404: body %s, want the refusal's message", nowhere.body)
	}

	// A backend's own errors are the backend's: grpc-gateway's body with
	// the backend's message.
	for _, tc := range []struct {
		fail string
		want int
	}{{"NOT_FOUND", http.StatusNotFound}, {"INTERNAL", http.StatusInternalServerError}} {
		got := respREST(t, "GET", env.URL+"/v1/shelves", "", append([]string{"X-Fail", tc.fail}, key...)...)
		if got.status != tc.want {
			t.Fatalf("backend %s: got %d %s, want %d", tc.fail, got.status, got.body, tc.want)
		}
		var body struct {
			Code    int    `json:"code"`
			Message string `json:"message"`
		}
		if err := json.Unmarshal(got.body, &body); err != nil || body.Code == 0 || strings.Contains(string(got.body), `"error"`) {
			t.Errorf("backend %s: body %s, want the backend's status as grpc-gateway writes it, not a gateway_responses body", tc.fail, got.body)
		}
	}

	// The gRPC door.
	client := bookstorev1.NewBookstoreServiceClient(env.Conn)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	var md metadata.MD
	_, err := client.ListShelves(ctx, &bookstorev1.ListShelvesRequest{}, grpc.Header(&md))
	st := status.Convert(err)
	ids := md.Get("x-request-id")
	if st.Code() != codes.Unauthenticated || len(ids) != 1 || st.Message() != "sign in first ("+ids[0]+")" {
		t.Errorf("gRPC without a key: got %v %q (request ID %q), want UNAUTHENTICATED %q", st.Code(), st.Message(), ids, "sign in first (<request ID>)")
	}
	failing := metadata.AppendToOutgoingContext(ctx, "x-api-key", "good-key", "x-fail", "UNAUTHENTICATED")
	_, err = client.ListShelves(failing, &bookstorev1.ListShelvesRequest{})
	if st := status.Convert(err); st.Code() != codes.Unauthenticated || strings.Contains(st.Message(), "sign in first") {
		t.Errorf("a backend's UNAUTHENTICATED on the gRPC door: got %v %q, want the backend's message", st.Code(), st.Message())
	}
}

// TestGatewayResponsesConfigErrors: bad gateway_responses settings are
// refused when the snapshot is built, each at its key, all in one run.
func TestGatewayResponsesConfigErrors(t *testing.T) {
	cfg := servertest.BookstoreConfig("127.0.0.1:1")
	cfg.GatewayResponses = &configv1.GatewayResponses{
		Headers: map[string]string{"Connection": "close"},
		Errors:  []*configv1.GatewayError{{Status: 429, Json: `{"id": "${request}"}`}},
	}
	_, err := snapshot.Build(&config.File{Config: cfg, Dir: t.TempDir()}, snapshot.Options{Check: true})
	var errs config.Errors
	if !errors.As(err, &errs) {
		t.Fatalf("Build: got %v, want config errors", err)
	}
	want := map[string]bool{`gateway_responses.headers["Connection"]`: false, "gateway_responses.errors[0].json": false}
	for _, e := range errs {
		if _, ok := want[e.Field]; ok {
			want[e.Field] = true
		}
	}
	for field, found := range want {
		if !found {
			t.Errorf("Build errors %v: none at %s", errs, field)
		}
	}
}
