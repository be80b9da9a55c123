package transcoder_test

import (
	"context"
	"errors"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/coder/websocket"
	portcall "github.com/portico-gw/portico/call"
	"github.com/portico-gw/portico/catalog"
	"github.com/portico-gw/portico/config"
	configv1 "github.com/portico-gw/portico/gen/portico/config/v1"
	"github.com/portico-gw/portico/pipeline"
	"github.com/portico-gw/portico/server/servertest"
	"github.com/portico-gw/portico/transcoder"
	"google.golang.org/genproto/googleapis/api/annotations"
	"google.golang.org/grpc"
	"google.golang.org/protobuf/proto"
)

// One test per reported problem, named for it.

// TestRegressConfigErrorWithStatusText: a rule naming a missing field was
// reported as `rpc error: code = InvalidArgument desc = ...` (the text of
// the gRPC status params.Resolve returns). It is a config error: plain
// words, located at the rule.
func TestRegressConfigErrorWithStatusText(t *testing.T) {
	rules := catalog.Rules{"example.bookstore.v1.BookstoreService.GetShelfStats": {
		HTTP:  &annotations.HttpRule{Pattern: &annotations.HttpRule_Get{Get: "/v1/shelves/{shelf_id}/stats"}, ResponseBody: "nope"},
		Field: "http_rules[0]", File: "rules.yaml", Line: 4, Column: 5,
	}}
	cat, err := catalog.New(catalog.Options{Rules: rules, APIs: []catalog.API{{
		Where: "apis[0]", Services: []string{"example.bookstore.v1.BookstoreService"}, Backend: nopBackend{},
	}}})
	if err != nil {
		t.Fatal(err)
	}
	p, err := pipeline.New(cat.MethodList(), pipeline.Options{})
	if err != nil {
		t.Fatal(err)
	}
	_, err = transcoder.New(cat, p, transcoder.Options{})
	if err == nil {
		t.Fatal("got no error for a rule naming a missing field")
	}
	var errs config.Errors
	if !errors.As(err, &errs) || len(errs) != 1 {
		t.Fatalf("got %T %v, want config.Errors with one error", err, err)
	}
	want := `rules.yaml:4:5: http_rules[0]: method example.bookstore.v1.BookstoreService.GetShelfStats: GET /v1/shelves/{shelf_id}/stats: ` +
		`path variable "shelf_id": field path "shelf_id": no field "shelf_id" in message example.bookstore.v1.GetShelfStatsRequest`
	if got := errs[0].Error(); got != want {
		t.Errorf("got %q, want %q", got, want)
	}
	if strings.Contains(err.Error(), "rpc error") || strings.Contains(err.Error(), "code =") {
		t.Errorf("got %q, want no gRPC status wording", err)
	}
}

// nopBackend is a catalog.Backend for tests that only build routes.
type nopBackend struct{}

func (nopBackend) Unary(context.Context, *catalog.Method, proto.Message) (proto.Message, error) {
	return nil, errors.New("not called")
}

func (nopBackend) Stream(context.Context, *catalog.Method, grpc.ServerStream) error {
	return errors.New("not called")
}

// TestRegressBidiBrokenBodyRace: found by FuzzREST under CI. A bidi call
// whose body breaks after its first message: the goroutine reading the
// body set "Connection: close" on the response headers while the backend's
// echo of the first message was being written by another goroutine — a
// data race on the header map (a crash of the fuzz worker). The reader now
// only records the broken body; the header is set under the stream's lock,
// and only while the response has not started. Run with -race.
func TestRegressBidiBrokenBodyRace(t *testing.T) {
	env := servertest.StartHostile(t, servertest.Options{})
	for _, body := range []string{
		`{"name":"1"}ame":"`,
		`{"name":"1"}}` + "\n" + `{"na` + "\n" + `"name":` + "\n",
		`{"name":"1"}{"name":"2"}{"name":"3"}{`,
	} {
		for i := 0; i < 20; i++ {
			req := httptest.NewRequest("POST", "/v1/things:chat", strings.NewReader(body))
			rec := httptest.NewRecorder()
			env.Server.Snapshot().REST().ServeHTTP(rec, req)
			if rec.Code >= 500 || !isErrorBody(rec.Body.Bytes()) {
				t.Fatalf("body %q: got %d %q, want a 4xx or a stream ending in an error", body, rec.Code, rec.Body.Bytes())
			}
			if rec.Code >= 400 && rec.Header().Get("Connection") != "close" {
				t.Fatalf("body %q: %d without Connection: close, though the body was left unread", body, rec.Code)
			}
		}
	}
}

// TestRegressHeadOnGetRoutes: HEAD on a GET route was a 405 (RFC 9110
// expects a server to answer HEAD wherever it answers GET). It is now the
// GET call with the same status and headers and no body; a streaming GET
// stays a 405, and a 405 lists HEAD where it is answered.
func TestRegressHeadOnGetRoutes(t *testing.T) {
	env := servertest.Start(t, servertest.Options{})
	get, getBody := call{method: "GET", path: "/v1/shelves/1"}.do(t, env.URL)
	before := env.Backend.Calls()
	head, headBody := call{method: "HEAD", path: "/v1/shelves/1"}.do(t, env.URL)
	if head.StatusCode != http.StatusOK || len(headBody) != 0 {
		t.Fatalf("HEAD /v1/shelves/1: got %d with %d body bytes, want 200 and none", head.StatusCode, len(headBody))
	}
	if got, want := head.Header.Get("Content-Type"), get.Header.Get("Content-Type"); got != want || len(getBody) == 0 {
		t.Errorf("HEAD Content-Type: got %q, want GET's %q", got, want)
	}
	if got := env.Backend.Calls(); got != before+1 {
		t.Errorf("backend calls for a HEAD: got %d, want 1", got-before)
	}

	missing, body := call{method: "HEAD", path: "/v1/shelves/999"}.do(t, env.URL)
	if missing.StatusCode != http.StatusNotFound || len(body) != 0 {
		t.Errorf("HEAD of a missing shelf: got %d with %d body bytes, want GET's 404 and no body", missing.StatusCode, len(body))
	}
	watch, _ := call{method: "HEAD", path: "/v1/shelves/1/books:watch"}.do(t, env.URL)
	if watch.StatusCode != http.StatusMethodNotAllowed || watch.Header.Get("Allow") != "GET" {
		t.Errorf("HEAD of a server stream: got %d Allow %q, want 405 Allow GET", watch.StatusCode, watch.Header.Get("Allow"))
	}
	put, _ := call{method: "PUT", path: "/v1/shelves/1"}.do(t, env.URL)
	if got := put.Header.Get("Allow"); got != "DELETE, GET, HEAD" {
		t.Errorf("PUT's 405: Allow %q, want %q", got, "DELETE, GET, HEAD")
	}
}

// TestRegressWebSocketCutAtShutdown: a WebSocket open when the gateway shuts down
// keeps working through the grace period, like a gRPC stream (http.Server
// does not wait for hijacked connections, and it used to be cut at once),
// and is then ended with UNAVAILABLE (4014) in its close frame, so the
// client knows to reconnect elsewhere, rather than dropped.
func TestRegressWebSocketCutAtShutdown(t *testing.T) {
	env := servertest.Start(t, servertest.Options{})
	c := wsDial(t, env, "/v1/books:lookup", nil)
	wsSend(t, c, `{"name":"shelves/1/books/1"}`)
	if got := wsMessage(t, c); got["name"] != "shelves/1/books/1" {
		t.Fatalf("answer: got %v", got)
	}
	const grace = 1500 * time.Millisecond
	ctx, cancel := context.WithTimeout(context.Background(), grace)
	defer cancel()
	start := time.Now()
	done := make(chan error, 1)
	go func() { done <- env.Server.Shutdown(ctx) }()
	// Once the door has stopped accepting, the WebSocket still answers.
	addr := strings.TrimPrefix(env.URL, "http://")
	for {
		conn, err := net.DialTimeout("tcp", addr, time.Second)
		if err != nil {
			break
		}
		conn.Close()
		if time.Since(start) > grace {
			t.Fatal("the REST door still accepted connections after the grace period")
		}
		time.Sleep(5 * time.Millisecond) // polling the listener, not waiting for a server to start
	}
	wsSend(t, c, `{"name":"shelves/1/books/2"}`)
	if got := wsMessage(t, c); got["name"] != "shelves/1/books/2" {
		t.Fatalf("answer while draining: got %v", got)
	}
	code, reason, msgs := wsEnd(t, c)
	if code != 4014 || reason != "server shutting down" || len(msgs) != 0 {
		t.Errorf("close: got %d %q after %v, want 4014 \"server shutting down\"", code, reason, msgs)
	}
	// The cut comes at the grace period less its margin (a tenth).
	if d := time.Since(start); d < grace*8/10 {
		t.Errorf("the WebSocket was closed %v into a %v grace period, want it kept until the cut", d, grace)
	}
	if err := <-done; err != nil {
		t.Errorf("Shutdown: %v", err)
	}
}

// TestRegressWebSocketHijackWithStarOrigin: with cors.allowed_origins
// ["*"], a page of any site could open a WebSocket on a streaming route
// carrying the browser's cookies or remembered HTTP authentication, and
// read the stream as the user (cross-site WebSocket hijacking: a
// handshake is a GET no preflight guards). "*" now admits foreign
// origins only without ambient credentials; the request's own origin and
// the origins listed by name keep theirs.
func TestRegressWebSocketHijackWithStarOrigin(t *testing.T) {
	star := servertest.Start(t, servertest.Options{Config: func(c *configv1.Config) {
		c.Cors = &configv1.Cors{AllowedOrigins: []string{"*"}}
	}})
	listed := servertest.Start(t, servertest.Options{Config: func(c *configv1.Config) {
		c.Cors = &configv1.Cors{AllowedOrigins: []string{"*", "https://app.example.com"}}
	}})
	dial := func(env *servertest.Env, kv ...string) (int, []byte) {
		t.Helper()
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		h := http.Header{}
		for i := 0; i < len(kv); i += 2 {
			h.Set(kv[i], kv[i+1])
		}
		c, resp, err := websocket.Dial(ctx, wsURL(env, "/v1/books:lookup"), &websocket.DialOptions{HTTPHeader: h})
		if err == nil {
			c.CloseNow()
			return resp.StatusCode, nil
		}
		if resp == nil {
			t.Fatalf("dial %v: %v", kv, err)
		}
		body, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, body
	}
	// What Chrome sends on new WebSocket(...) from https://evil.example.
	browser := []string{"Origin", "https://evil.example", "Sec-Fetch-Site", "cross-site", "Sec-Fetch-Mode", "websocket", "Sec-Fetch-Dest", "empty"}
	for _, cred := range [][]string{
		{"Cookie", "session=victim"},
		{"Authorization", "Basic dXNlcjpwYXNz"},
	} {
		calls := star.Backend.Calls()
		code, body := dial(star, append(append([]string(nil), browser...), cred...)...)
		if code != http.StatusForbidden {
			t.Errorf("foreign origin with %s: got %d %s, want 403", cred[0], code, body)
			continue
		}
		checkSubset(t, body, `{"code":7}`)
		if got := star.Backend.Calls(); got != calls {
			t.Errorf("foreign origin with %s: backend calls: got %d, want %d", cred[0], got, calls)
		}
		// An old browser: Origin only.
		if code, body := dial(star, "Origin", "https://evil.example", cred[0], cred[1]); code != http.StatusForbidden {
			t.Errorf("foreign Origin (no Sec-Fetch-Site) with %s: got %d %s, want 403", cred[0], code, body)
		}
		// An opaque origin (a sandboxed frame, a data: URL).
		if code, body := dial(star, "Origin", "null", cred[0], cred[1]); code != http.StatusForbidden {
			t.Errorf("Origin null with %s: got %d %s, want 403", cred[0], code, body)
		}
	}
	// What stays open.
	host := strings.TrimPrefix(star.URL, "http://")
	for _, tc := range []struct {
		name string
		env  *servertest.Env
		kv   []string
	}{
		{"foreign origin without credentials (\"*\")", star, browser},
		{"own origin with a cookie", star, []string{"Origin", "http://" + host, "Sec-Fetch-Site", "same-origin", "Cookie", "session=s"}},
		{"own origin, old browser, with a cookie", star, []string{"Origin", "http://" + host, "Cookie", "session=s"}},
		{"listed origin with a cookie", listed, []string{"Origin", "https://app.example.com", "Sec-Fetch-Site", "cross-site", "Cookie", "session=s"}},
		{"no browser, with Authorization", star, []string{"Authorization", "Bearer t"}},
	} {
		if code, body := dial(tc.env, tc.kv...); code != http.StatusSwitchingProtocols {
			t.Errorf("%s: got %d %s, want 101", tc.name, code, body)
		}
	}
}

// bodiesProto is an API whose HttpBody answers are what the client sent
// (a Mirror backend echoes them): unary and server-streaming.
const bodiesProto = `syntax = "proto3";
package bodies.v1;
import "google/api/annotations.proto";
import "google/api/httpbody.proto";
service Bodies {
  rpc Page(google.api.HttpBody) returns (google.api.HttpBody) {
    option (google.api.http) = {post: "/v1/page" body: "*"};
  }
  rpc Pages(google.api.HttpBody) returns (stream google.api.HttpBody) {
    option (google.api.http) = {post: "/v1/pages" body: "*"};
  }
}
`

// TestRegressHTTPBodyActiveContent: a google.api.HttpBody answer is
// served with the Content-Type the backend chose, from the API's origin:
// an uploaded SVG cover, or an HTML page a backend echoes, ran its
// scripts there, with the API's cookies, and a missing or vague type left
// the browser to sniff one. HttpBody answers (unary and streamed) now
// carry X-Content-Type-Options: nosniff and Content-Security-Policy:
// sandbox unless rest.http_body_content_security_policy says otherwise;
// error bodies carry nosniff too.
func TestRegressHTTPBodyActiveContent(t *testing.T) {
	const svg = `<svg xmlns="http://www.w3.org/2000/svg"><script>fetch("/v1/shelves",{credentials:"include"})</script></svg>`
	check := func(t *testing.T, what string, resp *http.Response, csp string) {
		t.Helper()
		if got := resp.Header.Get("X-Content-Type-Options"); got != "nosniff" {
			t.Errorf("%s: X-Content-Type-Options: got %q, want nosniff", what, got)
		}
		if got := resp.Header.Get("Content-Security-Policy"); got != csp {
			t.Errorf("%s: Content-Security-Policy: got %q, want %q", what, got, csp)
		}
	}
	for _, tc := range []struct{ setting, want string }{
		{"", "sandbox"},
		{"default-src 'none'; sandbox", "default-src 'none'; sandbox"},
		{"off", ""},
	} {
		t.Run("bookstore cover, setting "+tc.setting, func(t *testing.T) {
			env := servertest.Start(t, servertest.Options{Config: func(c *configv1.Config) {
				c.Rest = &configv1.Rest{HttpBodyContentSecurityPolicy: tc.setting}
			}})
			resp, body := call{method: "PUT", path: "/v1/shelves/1/books/1/cover", body: svg, header: map[string]string{"Content-Type": "image/svg+xml"}}.do(t, env.URL)
			if resp.StatusCode != 200 {
				t.Fatalf("upload: got %d %s", resp.StatusCode, body)
			}
			resp, body = call{method: "GET", path: "/v1/shelves/1/books/1/cover"}.do(t, env.URL)
			if resp.StatusCode != 200 || string(body) != svg || resp.Header.Get("Content-Type") != "image/svg+xml" {
				t.Fatalf("cover: got %d %q %q, want the SVG as uploaded", resp.StatusCode, resp.Header.Get("Content-Type"), body)
			}
			check(t, "GET cover", resp, tc.want)
			// HEAD answers with GET's headers.
			resp, _ = call{method: "HEAD", path: "/v1/shelves/1/books/1/cover"}.do(t, env.URL)
			check(t, "HEAD cover", resp, tc.want)
			// Error bodies echo the client's words: nosniff, whatever the setting.
			resp, _ = call{method: "GET", path: "/v1/shelves/1/books/%3Cscript%3E/cover"}.do(t, env.URL)
			if resp.StatusCode < 400 || resp.Header.Get("X-Content-Type-Options") != "nosniff" {
				t.Errorf("error: got %d X-Content-Type-Options %q, want an error with nosniff", resp.StatusCode, resp.Header.Get("X-Content-Type-Options"))
			}
		})
	}
	t.Run("a value that is no header value is a config error", func(t *testing.T) {
		_, err := config.Parse([]byte("rest:\n  http_body_content_security_policy: \"sandbox\\r\\nSet-Cookie: a=b\"\n"), ".")
		if err == nil || !strings.Contains(err.Error(), "rest.http_body_content_security_policy") {
			t.Errorf("got %v, want an error at rest.http_body_content_security_policy", err)
		}
	})
	t.Run("echoed HTML, unary and streamed", func(t *testing.T) {
		dir := t.TempDir()
		if err := os.WriteFile(filepath.Join(dir, "bodies.proto"), []byte(bodiesProto), 0o644); err != nil {
			t.Fatal(err)
		}
		files, err := catalog.LoadSources("", []string{dir}, nil)
		if err != nil {
			t.Fatal(err)
		}
		mirror := servertest.StartMirror(t, files)
		env := servertest.StartGateway(t, mirror.Addr, servertest.Options{Config: func(c *configv1.Config) {
			c.Descriptors = []string{dir}
			c.Apis[0].Services = []string{"bodies.v1.Bodies"}
		}})
		const page = `<html><script>alert(document.cookie)</script></html>`
		for _, path := range []string{"/v1/page", "/v1/pages"} {
			resp, body := call{method: "POST", path: path, body: page, header: map[string]string{"Content-Type": "text/html"}}.do(t, env.URL)
			if resp.StatusCode != 200 || !strings.Contains(string(body), page) || resp.Header.Get("Content-Type") != "text/html" {
				t.Fatalf("POST %s: got %d %q %q, want the page echoed as text/html", path, resp.StatusCode, resp.Header.Get("Content-Type"), body)
			}
			check(t, "POST "+path, resp, "sandbox")
		}
	})
}

// TestRegressEncodedSlashInPath: grpc-gateway's default decodes the whole
// path before matching it, so a "%2F" there separates segments; its
// generated OpenAPI clients rely on that, escaping the "/" of every path
// parameter (ABitOfEverythingService.Create's "strprefix/foo" for
// {string_value=strprefix/*} is sent as strprefix%2Ffoo). Portico answered
// 404 (which the client then failed to decode: its spec declares a 404
// body of type string). A path that matches no route as sent is now
// matched with its encoded slashes decoded, as grpc-gateway matches it; a
// path that does match as sent keeps http.proto's reading.
func TestRegressEncodedSlashInPath(t *testing.T) {
	portico := servertest.Start(t, servertest.Options{Config: forwardTestHeaders})
	ref := startReference(t)
	for _, c := range []call{
		{method: "GET", path: "/v1/shelves%2F1/books"},
		{method: "GET", path: "/v1/shelves%2f1/books"},
		{method: "GET", path: "/v1/shelves%2F1%2Fbooks%2F2/cover"},
		{method: "POST", path: "/v1/shelves%2F1/books", body: `{"title":"Solaris","author":"Stanislaw Lem"}`},
		{method: "GET", path: "/v1/no%2Fsuch/path"},
	} {
		t.Run(c.method+" "+c.path, func(t *testing.T) {
			pr, pb := c.do(t, portico.URL)
			rr, rb := c.do(t, ref)
			if pr.StatusCode != rr.StatusCode {
				t.Errorf("status: got %d from Portico, want grpc-gateway's %d\nportico: %s\ngrpc-gateway: %s", pr.StatusCode, rr.StatusCode, pb, rb)
			}
			if p, r := compactJSON(pb), compactJSON(rb); p != r {
				t.Errorf("body: got %s from Portico, want grpc-gateway's %s", pb, rb)
			}
		})
	}
}

// TestRegressQueryDeepPath (issue 14, point 6): a query parameter's field
// path had no depth bound: one 64 KiB query built a request nested 10,800
// levels deep (+36 MB of RSS) and sent it on. It is a 400 naming the
// bound, and nothing reaches the backend.
func TestRegressQueryDeepPath(t *testing.T) {
	env := servertest.StartHostile(t, servertest.Options{})
	path := "/v1/things/a?" + strings.Repeat("child.", 10_000) + "name=x"
	resp, body := call{method: "GET", path: path}.do(t, env.URL)
	if resp.StatusCode != http.StatusBadRequest || !strings.Contains(string(body), "deeper than 129 fields") {
		t.Errorf("got %d %.200s, want 400 naming the depth bound", resp.StatusCode, body)
	}
	if n := env.Mirror.Calls(); n != 0 {
		t.Errorf("backend calls: got %d, want 0", n)
	}
	// Within the bound, the same shape is bound and forwarded.
	resp, body = call{method: "GET", path: "/v1/things/a?" + strings.Repeat("child.", 100) + "name=x"}.do(t, env.URL)
	if resp.StatusCode != http.StatusOK {
		t.Errorf("100 levels: got %d %.200s, want 200", resp.StatusCode, body)
	}
}

// TestRegressQueryJSONLimits (issue 14, point 6): a Struct or Value given
// in a query parameter skipped max_json_depth and max_json_values, which
// bound the same JSON in a body.
func TestRegressQueryJSONLimits(t *testing.T) {
	env := servertest.StartHostile(t, servertest.Options{})
	for name, value := range map[string]string{
		"too many values": "[" + strings.Repeat("1,", 10_000) + "1]",
		"too deep":        strings.Repeat("[", 70) + strings.Repeat("]", 70),
	} {
		t.Run(name, func(t *testing.T) {
			resp, body := call{method: "GET", path: "/v1/things/a?value=" + url.QueryEscape(value)}.do(t, env.URL)
			if resp.StatusCode != http.StatusBadRequest || !isErrorBody(body) {
				t.Errorf("got %d %.200s, want a JSON 400", resp.StatusCode, body)
			}
		})
	}
	if n := env.Mirror.Calls(); n != 0 {
		t.Errorf("backend calls: got %d, want 0", n)
	}
}

// TestRegressQueryCharged (issue 14, point 6): a query was never charged
// to the door's budget (max_body_bytes_in_flight), so any number of
// costly queries were decoded at once. It is charged like a body: its
// bytes plus 512 per value it may set.
func TestRegressQueryCharged(t *testing.T) {
	env := servertest.StartHostile(t, servertest.Options{})
	query := "numbers=1" + strings.Repeat("&numbers=1", 999)
	req := httptest.NewRequest("GET", "/v1/things/a?"+query, nil)
	info := portcall.NewHTTP(req)
	var charged int64
	info.SetAdmission(func(_ context.Context, n int64) (func(), error) {
		charged += n
		return func() {}, nil
	})
	req = req.WithContext(portcall.NewHTTPContext(req.Context(), info))
	rec := httptest.NewRecorder()
	env.Server.Snapshot().REST().ServeHTTP(rec, req)
	if rec.Code != http.StatusOK {
		t.Fatalf("got %d %s, want 200", rec.Code, rec.Body.Bytes())
	}
	if want := int64(len(query) + 1000*512); charged < want {
		t.Errorf("charged %d bytes to the budget, want at least %d", charged, want)
	}
}

// TestRegressTooLargeCode (issue 14): a 413's error body said
// INVALID_ARGUMENT (3); docs/traffic.md (Limits) promises
// RESOURCE_EXHAUSTED (8), as the gRPC door answers a message over the limit. Every way the REST door
// answers 413: a declared length, a chunked body, a stream message.
func TestRegressTooLargeCode(t *testing.T) {
	env := servertest.Start(t, servertest.Options{Config: func(c *configv1.Config) {
		c.Limits = &configv1.Limits{MaxBodyBytes: proto.Uint32(1024)}
	}})
	big := `{"theme":"` + strings.Repeat("a", 2048) + `"}`
	for _, tc := range []struct {
		name, path string
		body       io.Reader
	}{
		{"declared length", "/v1/shelves", strings.NewReader(big)},
		{"chunked", "/v1/shelves", io.MultiReader(strings.NewReader(big))},
		{"stream message", "/v1/books:import", io.MultiReader(strings.NewReader(`{"parent":"shelves/1","book":{"title":"` + strings.Repeat("a", 2048) + `"}}`))},
	} {
		t.Run(tc.name, func(t *testing.T) {
			req, err := http.NewRequest("POST", env.URL+tc.path, tc.body)
			if err != nil {
				t.Fatal(err)
			}
			resp, err := servertest.Client().Do(req)
			if err != nil {
				t.Fatal(err)
			}
			defer resp.Body.Close()
			out, _ := io.ReadAll(resp.Body)
			if resp.StatusCode != http.StatusRequestEntityTooLarge || !strings.Contains(string(out), `"code":8`) {
				t.Errorf("got %d %s, want 413 with code 8 (RESOURCE_EXHAUSTED)", resp.StatusCode, out)
			}
		})
	}
}
