package server_test

// The findings of issue 14 about the connection of a refused request
// (one test per finding, named for it).

import (
	"crypto/tls"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/portico-gw/portico/auth/apikey"
	"github.com/portico-gw/portico/auth/authtest"
	configv1 "github.com/portico-gw/portico/gen/portico/config/v1"
	"github.com/portico-gw/portico/server/servertest"
	"golang.org/x/net/http2"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/durationpb"
)

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
