package server_test

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
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

// respGateway is a gateway in front of a bookstore with resp as apis[0]'s
// response mapping; the test headers (x-echo, x-fail) are forwarded.
func respGateway(t *testing.T, resp *configv1.ResponseMapping, edit ...func(*configv1.Config)) *trafficGateway {
	t.Helper()
	_, target := trafficBackend(t)
	return startTrafficGateway(t, target, gatewayOptions{edit: func(c *configv1.Config) {
		c.Rest = &configv1.Rest{ForwardHeaders: []string{"X-Echo", "X-Fail"}}
		c.Apis[0].Response = resp
		for _, e := range edit {
			e(c)
		}
	}})
}

// respCall is one REST request and its whole answer, trailers included
// (the request accepts them).
type respCall struct {
	status  int
	header  http.Header
	trailer http.Header
	body    []byte
}

func respREST(t *testing.T, method, url, body string, kv ...string) respCall {
	t.Helper()
	var rd io.Reader
	if body != "" {
		rd = strings.NewReader(body)
	}
	req, err := http.NewRequest(method, url, rd)
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("TE", "trailers")
	for i := 0; i+1 < len(kv); i += 2 {
		req.Header.Set(kv[i], kv[i+1])
	}
	resp, err := servertest.Client().Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return respCall{status: resp.StatusCode, header: resp.Header, trailer: resp.Trailer, body: b}
}

func respJSON(t *testing.T, b []byte) map[string]any {
	t.Helper()
	var m map[string]any
	if err := json.Unmarshal(b, &m); err != nil {
		t.Fatalf("%q is not a JSON object: %v", b, err)
	}
	return m
}

func respGRPCCtx(t *testing.T, kv ...string) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	t.Cleanup(cancel)
	return metadata.AppendToOutgoingContext(ctx, kv...)
}

// TestResponseForwardMetadata: forward_metadata is an allow-list of the
// backend's headers and trailers, on both doors, unary and streaming,
// answers and errors alike; unset, everything passes.
func TestResponseForwardMetadata(t *testing.T) {
	plain := respGateway(t, nil)
	mapped := respGateway(t, &configv1.ResponseMapping{ForwardMetadata: []string{"x-served-by"}})

	t.Run("REST", func(t *testing.T) {
		got := respREST(t, "GET", plain.url+"/v1/shelves/1", "", "X-Echo", "hi")
		if got.header.Get("Grpc-Metadata-X-Echo") != "hi" || got.trailer.Get("Grpc-Trailer-X-Served-By") != "bookstore" {
			t.Fatalf("unmapped: got header %v trailer %v, want x-echo and x-served-by", got.header, got.trailer)
		}
		for _, path := range []string{"/v1/shelves/1", "/v1/shelves/999"} {
			got = respREST(t, "GET", mapped.url+path, "", "X-Echo", "hi")
			if v := got.header.Get("Grpc-Metadata-X-Echo"); v != "" {
				t.Errorf("GET %s: Grpc-Metadata-X-Echo: got %q, want it dropped", path, v)
			}
			if v := got.trailer.Get("Grpc-Trailer-X-Served-By"); v != "bookstore" {
				t.Errorf("GET %s: Grpc-Trailer-X-Served-By: got %q, want bookstore", path, v)
			}
		}
	})
	t.Run("gRPC unary", func(t *testing.T) {
		var header, trailer metadata.MD
		_, err := bookstorev1.NewBookstoreServiceClient(mapped.conn).GetShelf(respGRPCCtx(t, "x-echo", "hi"),
			&bookstorev1.GetShelfRequest{Shelf: 1}, grpc.Header(&header), grpc.Trailer(&trailer))
		if err != nil {
			t.Fatal(err)
		}
		if v := header.Get("x-echo"); len(v) != 0 {
			t.Errorf("header x-echo: got %v, want it dropped", v)
		}
		if v := trailer.Get("x-served-by"); len(v) != 1 || v[0] != "bookstore" {
			t.Errorf("trailer x-served-by: got %v, want [bookstore]", v)
		}
	})
	t.Run("gRPC stream", func(t *testing.T) {
		for _, gw := range []*trafficGateway{plain, mapped} {
			stream, err := bookstorev1.NewBookstoreServiceClient(gw.conn).WatchBooks(respGRPCCtx(t, "x-echo", "hi"),
				&bookstorev1.WatchBooksRequest{Parent: "shelves/1"})
			if err != nil {
				t.Fatal(err)
			}
			for {
				if _, err := stream.Recv(); err != nil {
					if err != io.EOF {
						t.Fatal(err)
					}
					break
				}
			}
			header, _ := stream.Header()
			echoed := len(header.Get("x-echo")) == 1
			if want := gw == plain; echoed != want {
				t.Errorf("mapped %v: header x-echo: got %v, want present %v", gw == mapped, header, want)
			}
			if v := stream.Trailer().Get("x-served-by"); len(v) != 1 {
				t.Errorf("mapped %v: trailer x-served-by: got %v, want it", gw == mapped, v)
			}
		}
	})
}

// TestResponseHideInternalErrors: INTERNAL, UNKNOWN and DATA_LOSS reach
// clients as a generic text without details, on both doors and in
// streams; the log keeps the original with the method; other codes pass.
func TestResponseHideInternalErrors(t *testing.T) {
	plain := respGateway(t, nil)
	gw := respGateway(t, &configv1.ResponseMapping{HideInternalErrors: true})

	got := respREST(t, "GET", plain.url+"/v1/shelves/1", "", "X-Fail", "INTERNAL")
	if !strings.Contains(string(got.body), "forced failure") {
		t.Fatalf("unmapped: got %s, want the backend's message", got.body)
	}
	for _, tc := range []struct {
		code string
		want string
	}{
		{"INTERNAL", `{"code":13,"message":"internal error","details":[]}`},
		{"UNKNOWN", `{"code":2,"message":"unknown error","details":[]}`},
		{"DATA_LOSS", `{"code":15,"message":"data loss","details":[]}`},
	} {
		got := respREST(t, "GET", gw.url+"/v1/shelves/1", "", "X-Fail", tc.code)
		if got.status != http.StatusInternalServerError {
			t.Errorf("REST %s: got %d %s, want 500", tc.code, got.status, got.body)
		}
		respSubset(t, "REST "+tc.code, withoutRequestInfo(t, &http.Response{StatusCode: got.status, Header: got.header}, got.body), tc.want)
		if v := got.trailer.Get("Grpc-Trailer-Grpc-Status-Details-Bin"); v != "" {
			t.Errorf("REST %s: the backend's status details leak as a trailer: %q", tc.code, v)
		}
		_, err := bookstorev1.NewBookstoreServiceClient(gw.conn).GetShelf(respGRPCCtx(t, "x-fail", tc.code), &bookstorev1.GetShelfRequest{Shelf: 1})
		st := status.Convert(err)
		if strings.Contains(st.Message(), "forced") || len(st.Details()) != 0 || st.Code() == codes.OK {
			t.Errorf("gRPC %s: got %v %q with %d details, want the generic text and none", tc.code, st.Code(), st.Message(), len(st.Details()))
		}
	}
	got = respREST(t, "GET", gw.url+"/v1/shelves/1", "", "X-Fail", "NOT_FOUND")
	if m := respJSON(t, withoutRequestInfo(t, &http.Response{StatusCode: got.status, Header: got.header}, got.body)); m["message"] != "forced failure" || len(m["details"].([]any)) != 1 {
		t.Errorf("NOT_FOUND: got %s, want the backend's message and detail", got.body)
	}
	stream, err := bookstorev1.NewBookstoreServiceClient(gw.conn).WatchBooks(respGRPCCtx(t, "x-fail", "INTERNAL"),
		&bookstorev1.WatchBooksRequest{Parent: "shelves/1"})
	if err == nil {
		_, err = stream.Recv()
	}
	if st := status.Convert(err); st.Code() != codes.Internal || st.Message() != "internal error" {
		t.Errorf("gRPC stream: got %v %q, want INTERNAL \"internal error\"", st.Code(), st.Message())
	}
	// REST streams: the status event of Server-Sent Events, the close
	// frame of a WebSocket.
	sse := respREST(t, "GET", gw.url+"/v1/shelves/1/books:watch", "", "Accept", "text/event-stream", "X-Fail", "INTERNAL")
	if !strings.Contains(string(sse.body), "event: status\n") || !strings.Contains(string(sse.body), `"internal error"`) ||
		strings.Contains(string(sse.body), "forced") {
		t.Errorf("SSE: got %q, want a status event with the generic text", sse.body)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	ws, _, err := websocket.Dial(ctx, "ws"+strings.TrimPrefix(gw.url, "http")+"/v1/shelves/1/books:watch",
		&websocket.DialOptions{HTTPHeader: http.Header{"X-Fail": {"DATA_LOSS"}}})
	if err != nil {
		t.Fatal(err)
	}
	defer ws.CloseNow()
	if err := ws.Write(ctx, websocket.MessageText, nil); err != nil {
		t.Fatal(err)
	}
	var ce websocket.CloseError
	if _, _, err := ws.Read(ctx); !errors.As(err, &ce) || ce.Code != 4015 || ce.Reason != "data loss" {
		t.Errorf("WebSocket: got %v, want close 4015 \"data loss\"", err)
	}
	if n := gw.logs.Count("internal error hidden from the client"); n != 9 {
		t.Errorf("log: got %d hidden errors logged, want 9:\n%s", n, gw.logs)
	}
	if logs := gw.logs.String(); !strings.Contains(logs, "method=/example.bookstore.v1.BookstoreService/GetShelf") ||
		!strings.Contains(logs, "method=/example.bookstore.v1.BookstoreService/WatchBooks") ||
		!strings.Contains(logs, `message="forced failure"`) || !strings.Contains(logs, "google.rpc.ErrorInfo") {
		t.Errorf("log: got\n%s\nwant the methods, the original message and the details' types", logs)
	}
}

// TestResponseStatusOverrides: status maps gRPC codes to HTTP statuses
// for the API's methods — errors from the backend and from decoding alike,
// NDJSON streams included — while the door's own statuses (413) and calls
// matching no method keep theirs; the gRPC door is unchanged.
func TestResponseStatusOverrides(t *testing.T) {
	gw := respGateway(t, &configv1.ResponseMapping{Status: map[string]uint32{"NOT_FOUND": 410, "INVALID_ARGUMENT": 422}},
		func(c *configv1.Config) {
			max := uint32(1024)
			c.Limits = &configv1.Limits{MaxBodyBytes: &max}
		})
	for _, tc := range []struct {
		name, method, path, body string
		want                     int
		code                     float64
	}{
		{"backend NOT_FOUND", "GET", "/v1/shelves/999", "", 410, 5},
		{"malformed JSON", "POST", "/v1/shelves", `{"theme":`, 422, 3},
		{"validation", "POST", "/v1/shelves", `{"theme":""}`, 422, 3},
		{"body over max_body_bytes keeps 413", "POST", "/v1/shelves", `{"theme":"` + strings.Repeat("a", 2000) + `"}`, 413, 8},
		{"no such route keeps 404", "GET", "/v1/nothing/here", "", 404, 5},
	} {
		got := respREST(t, tc.method, gw.url+tc.path, tc.body)
		if got.status != tc.want {
			t.Errorf("%s: got %d %s, want %d", tc.name, got.status, got.body, tc.want)
			continue
		}
		if m := respJSON(t, got.body); m["code"] != tc.code {
			t.Errorf("%s: body %s, want code %v", tc.name, got.body, tc.code)
		}
	}
	got := respREST(t, "GET", gw.url+"/v1/shelves/999/books:watch", "")
	if got.status != 410 || !strings.Contains(string(got.body), `"error"`) {
		t.Errorf("NDJSON stream: got %d %s, want 410 with an error object", got.status, got.body)
	}
	_, err := bookstorev1.NewBookstoreServiceClient(gw.conn).GetShelf(respGRPCCtx(t), &bookstorev1.GetShelfRequest{Shelf: 999})
	if status.Code(err) != codes.NotFound {
		t.Errorf("gRPC: got %v, want NOT_FOUND", err)
	}
}

// TestResponseProblemJSON: errors: problem_json writes RFC 9457 problem
// details for every error of the API's methods, with the status
// overrides, the gRPC code and details kept, and the metadata headers;
// another API's methods, and calls matching no method, keep
// grpc-gateway's body.
func TestResponseProblemJSON(t *testing.T) {
	gw := respGateway(t, &configv1.ResponseMapping{Errors: "problem_json", Status: map[string]uint32{"NOT_FOUND": 410}, HideInternalErrors: true},
		func(c *configv1.Config) {
			c.Apis = append(c.Apis, &configv1.Api{Services: []string{"example.inventory.v1.InventoryService"}, Integration: "bookstore"})
		})
	got := respREST(t, "GET", gw.url+"/v1/shelves/1", "", "X-Fail", "NOT_FOUND", "X-Echo", "hi")
	if got.status != 410 || got.header.Get("Content-Type") != "application/problem+json" {
		t.Fatalf("got %d %q %s, want 410 application/problem+json", got.status, got.header.Get("Content-Type"), got.body)
	}
	p := respJSON(t, got.body)
	for k, want := range map[string]any{"type": "about:blank", "title": "Gone", "status": float64(410), "detail": "forced failure", "code": "NOT_FOUND"} {
		if p[k] != want {
			t.Errorf("%s: got %v, want %v", k, p[k], want)
		}
	}
	details, _ := p["details"].([]any)
	if len(details) != 1 {
		t.Fatalf("details: got %v, want the backend's ErrorInfo", p["details"])
	}
	if d := details[0].(map[string]any); d["@type"] != "type.googleapis.com/google.rpc.ErrorInfo" || d["reason"] != "FORCED" {
		t.Errorf("details[0]: got %v, want the ErrorInfo", d)
	}
	if got.header.Get("Grpc-Metadata-X-Echo") != "hi" || got.trailer.Get("Grpc-Trailer-X-Served-By") != "bookstore" {
		t.Errorf("metadata: got header %v trailer %v, want x-echo and x-served-by", got.header, got.trailer)
	}

	for _, tc := range []struct {
		name, method, path, body string
		kv                       []string
		want                     string
	}{
		{"a decoding error", "POST", "/v1/shelves", `{"theme":`, nil,
			`{"type":"about:blank","title":"Bad Request","status":400,"code":"INVALID_ARGUMENT"}`},
		{"a hidden internal error", "GET", "/v1/shelves/1", "", []string{"X-Fail", "INTERNAL"},
			`{"type":"about:blank","title":"Internal Server Error","status":500,"detail":"internal error","code":"INTERNAL","details":[]}`},
	} {
		got := respREST(t, tc.method, gw.url+tc.path, tc.body, tc.kv...)
		if got.header.Get("Content-Type") != "application/problem+json" {
			t.Errorf("%s: Content-Type %q, want application/problem+json", tc.name, got.header.Get("Content-Type"))
		}
		respSubset(t, tc.name, got.body, tc.want)
	}
	for _, path := range []string{"/v1/warehouses/1/aisles/2", "/v1/nothing/here"} {
		got := respREST(t, "GET", gw.url+path, "")
		if got.header.Get("Content-Type") != "application/json" || respJSON(t, got.body)["code"] == nil {
			t.Errorf("GET %s: got %q %s, want grpc-gateway's error body", path, got.header.Get("Content-Type"), got.body)
		}
	}
}

// checkSubsetJSON fails unless every member of want is in got, equal.
func respSubset(t *testing.T, name string, got []byte, want string) {
	t.Helper()
	g, w := respJSON(t, got), respJSON(t, []byte(want))
	for k, wv := range w {
		gb, _ := json.Marshal(g[k])
		wb, _ := json.Marshal(wv)
		if string(gb) != string(wb) {
			t.Errorf("%s: %s: got %s, want %s (body %s)", name, k, gb, wb, got)
		}
	}
}

// TestResponseConfigErrors: a bad mapping is a config error at its key,
// found when the snapshot is built.
func TestResponseConfigErrors(t *testing.T) {
	cfg := servertest.BookstoreConfig("127.0.0.1:1")
	cfg.Apis[0].Response = &configv1.ResponseMapping{
		Status:          map[string]uint32{"NOPE": 410, "NOT_FOUND": 1000},
		ForwardMetadata: []string{"x-ok", "not a name"},
	}
	_, err := snapshot.Build(&config.File{Config: cfg, Dir: t.TempDir()}, snapshot.Options{})
	var errs config.Errors
	if !errors.As(err, &errs) {
		t.Fatalf("got %v, want config.Errors", err)
	}
	var fields []string
	for _, e := range errs {
		fields = append(fields, e.Field)
	}
	want := `apis[0].response.forward_metadata[1] apis[0].response.status["NOPE"] apis[0].response.status["NOT_FOUND"]`
	if got := strings.Join(fields, " "); got != want {
		t.Errorf("fields: got %s, want %s\n%v", got, want, err)
	}
}
