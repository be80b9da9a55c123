package transcoder_test

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
	configv1 "github.com/portico-gw/portico/gen/portico/config/v1"
	"github.com/portico-gw/portico/server/servertest"
)

// wsURL is the WebSocket URL of a REST door path.
func wsURL(env *servertest.Env, path string) string {
	return "ws" + strings.TrimPrefix(env.URL, "http") + path
}

// wsDial opens a WebSocket to path, failing the test if the handshake
// fails; the connection is closed when the test ends.
func wsDial(t *testing.T, env *servertest.Env, path string, header http.Header) *websocket.Conn {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	c, resp, err := websocket.Dial(ctx, wsURL(env, path), &websocket.DialOptions{HTTPHeader: header})
	if err != nil {
		var body []byte
		if resp != nil && resp.Body != nil {
			body, _ = io.ReadAll(resp.Body)
		}
		t.Fatalf("dial %s: %v %s", path, err, body)
	}
	t.Cleanup(func() { c.CloseNow() })
	return c
}

// wsSend writes one text frame.
func wsSend(t *testing.T, c *websocket.Conn, msg string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := c.Write(ctx, websocket.MessageText, []byte(msg)); err != nil {
		t.Fatalf("write %q: %v", msg, err)
	}
}

// wsMessage reads one message, which must be a JSON text frame.
func wsMessage(t *testing.T, c *websocket.Conn) map[string]any {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	typ, data, err := c.Read(ctx)
	if err != nil {
		t.Fatalf("read: got %v, want a message", err)
	}
	if typ != websocket.MessageText {
		t.Fatalf("frame type: got %v, want text", typ)
	}
	var m map[string]any
	if err := json.Unmarshal(data, &m); err != nil {
		t.Fatalf("frame %q is not a JSON object: %v", data, err)
	}
	return m
}

// wsEnd reads until the server closes the connection and returns the
// close frame's code and reason; messages read first are returned too.
func wsEnd(t *testing.T, c *websocket.Conn) (websocket.StatusCode, string, []map[string]any) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	var msgs []map[string]any
	for {
		_, data, err := c.Read(ctx)
		if err != nil {
			var ce websocket.CloseError
			if !errors.As(err, &ce) {
				t.Fatalf("read: got %v, want a close frame", err)
			}
			return ce.Code, ce.Reason, msgs
		}
		var m map[string]any
		if err := json.Unmarshal(data, &m); err != nil {
			t.Fatalf("frame %q is not a JSON object: %v", data, err)
		}
		msgs = append(msgs, m)
	}
}

func names(msgs []map[string]any) []string {
	var out []string
	for _, m := range msgs {
		n, _ := m["name"].(string)
		out = append(out, n)
	}
	return out
}

func TestWebSocketServerStreaming(t *testing.T) {
	env := servertest.Start(t, servertest.Options{Config: forwardTestHeaders})
	t.Run("the first frame is the request; the status closes", func(t *testing.T) {
		c := wsDial(t, env, "/v1/shelves/1/books:watch", nil)
		wsSend(t, c, `{}`)
		code, reason, msgs := wsEnd(t, c)
		if code != websocket.StatusNormalClosure || reason != "" {
			t.Errorf("close: got %d %q, want 1000 \"\"", code, reason)
		}
		if got, want := strings.Join(names(msgs), ","), "shelves/1/books/1,shelves/1/books/2"; got != want {
			t.Errorf("books: got %s, want %s", got, want)
		}
	})
	t.Run("an empty first frame is no body; the path wins over the frame", func(t *testing.T) {
		for _, first := range []string{"", `{"parent":"shelves/2"}`} {
			c := wsDial(t, env, "/v1/shelves/1/books:watch", nil)
			wsSend(t, c, first)
			code, _, msgs := wsEnd(t, c)
			if code != websocket.StatusNormalClosure {
				t.Errorf("first frame %q: close code: got %d, want 1000", first, code)
			}
			if len(msgs) != 2 || !strings.HasPrefix(names(msgs)[0], "shelves/1/") {
				t.Errorf("first frame %q: got %v, want the 2 books of shelves/1", first, names(msgs))
			}
		}
	})
	t.Run("a backend error is 4000 + its code with its message", func(t *testing.T) {
		c := wsDial(t, env, "/v1/shelves/999/books:watch", nil)
		wsSend(t, c, "")
		code, reason, msgs := wsEnd(t, c)
		if code != 4005 || !strings.Contains(reason, "999") {
			t.Errorf("close: got %d %q, want 4005 (NOT_FOUND) naming shelf 999", code, reason)
		}
		if len(msgs) != 0 {
			t.Errorf("messages: got %v, want none", msgs)
		}
	})
	t.Run("a second request message is 4003", func(t *testing.T) {
		c := wsDial(t, env, "/v1/shelves/1/books:watch", map[string][]string{"X-Delay": {"300ms"}})
		wsSend(t, c, `{}`)
		wsSend(t, c, `{}`)
		code, reason, _ := wsEnd(t, c)
		if code != 4003 || !strings.Contains(reason, "one request message") {
			t.Errorf("close: got %d %q, want 4003 about one request message", code, reason)
		}
	})
}

func TestWebSocketClientStreaming(t *testing.T) {
	env := servertest.Start(t, servertest.Options{})
	c := wsDial(t, env, "/v1/books:import", nil)
	wsSend(t, c, `{"parent":"shelves/2","book":{"title":"Cosmos"}}`)
	wsSend(t, c, `{"parent":"shelves/2","book":{"title":"Contact"}}`)
	wsSend(t, c, "") // half-close: the answer follows
	resp := wsMessage(t, c)
	if resp["imported"] != float64(2) {
		t.Errorf("response: got %v, want imported 2", resp)
	}
	code, reason, more := wsEnd(t, c)
	if code != websocket.StatusNormalClosure || reason != "" || len(more) != 0 {
		t.Errorf("end: got close %d %q after %v, want 1000 and no more messages", code, reason, more)
	}
}

func TestWebSocketBidiStreaming(t *testing.T) {
	env := servertest.Start(t, servertest.Options{})
	t.Run("each request is answered while the stream is open", func(t *testing.T) {
		c := wsDial(t, env, "/v1/books:lookup", nil)
		for _, name := range []string{"shelves/1/books/2", "shelves/2/books/1"} {
			wsSend(t, c, `{"name":"`+name+`"}`)
			if got := wsMessage(t, c); got["name"] != name {
				t.Fatalf("answer: got %v, want the book %s", got, name)
			}
		}
		wsSend(t, c, "")
		if code, reason, more := wsEnd(t, c); code != websocket.StatusNormalClosure || len(more) != 0 {
			t.Errorf("end: got %d %q after %v, want 1000 and nothing more", code, reason, more)
		}
	})
	t.Run("after the half-close the remaining answers follow", func(t *testing.T) {
		c := wsDial(t, env, "/v1/books:lookup", nil)
		wsSend(t, c, `{"name":"shelves/1/books/1"}`)
		wsSend(t, c, `{"name":"shelves/1/books/2"}`)
		wsSend(t, c, "")
		code, _, msgs := wsEnd(t, c)
		if code != websocket.StatusNormalClosure {
			t.Errorf("close code: got %d, want 1000", code)
		}
		if got, want := strings.Join(names(msgs), ","), "shelves/1/books/1,shelves/1/books/2"; got != want {
			t.Errorf("answers: got %s, want %s", got, want)
		}
	})
	t.Run("an error mid-stream closes with its code after the answers before it", func(t *testing.T) {
		c := wsDial(t, env, "/v1/books:lookup", nil)
		wsSend(t, c, `{"name":"shelves/1/books/1"}`)
		wsSend(t, c, `{"name":"shelves/1/books/99"}`)
		code, reason, msgs := wsEnd(t, c)
		if code != 4005 || reason == "" {
			t.Errorf("close: got %d %q, want 4005 with the backend's message", code, reason)
		}
		if len(msgs) != 1 || names(msgs)[0] != "shelves/1/books/1" {
			t.Errorf("answers: got %v, want the first book only", names(msgs))
		}
	})
}

func TestWebSocketBadInput(t *testing.T) {
	env := servertest.Start(t, servertest.Options{Config: func(c *configv1.Config) {
		forwardTestHeaders(c)
		max := uint32(2048)
		c.Limits = &configv1.Limits{MaxBodyBytes: &max}
	}})
	cases := []struct {
		name, path string
		header     http.Header
		send       func(t *testing.T, c *websocket.Conn)
		reason     string
		// opened: the backend stream is open when the bad frame comes (a
		// slow backend keeps it so until then).
		opened bool
	}{
		{"malformed JSON", "/v1/books:lookup", nil, func(t *testing.T, c *websocket.Conn) {
			wsSend(t, c, `{"name":`)
		}, "unexpected", false},
		{"two messages in one frame", "/v1/books:lookup", nil, func(t *testing.T, c *websocket.Conn) {
			wsSend(t, c, `{"name":"shelves/1/books/1"} {"name":"shelves/1/books/2"}`)
		}, "one JSON message", false},
		{"a message failing validation", "/v1/books:import", nil, func(t *testing.T, c *websocket.Conn) {
			wsSend(t, c, `{"parent":"nope","book":{"title":"x"}}`)
		}, "parent", false},
		{"a binary frame", "/v1/books:lookup", nil, func(t *testing.T, c *websocket.Conn) {
			ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
			defer cancel()
			if err := c.Write(ctx, websocket.MessageBinary, []byte(`{"name":"shelves/1/books/1"}`)); err != nil {
				t.Fatal(err)
			}
		}, "binary frames are not supported", false},
		{"a message over max_body_bytes", "/v1/books:lookup", nil, func(t *testing.T, c *websocket.Conn) {
			wsSend(t, c, `{"name":"`+strings.Repeat("a", 4096)+`"}`)
		}, "larger than 2048 bytes", false},
		{"a message after the half-close", "/v1/books:import", http.Header{"X-Delay": {"500ms"}}, func(t *testing.T, c *websocket.Conn) {
			wsSend(t, c, "")
			wsSend(t, c, `{"parent":"shelves/1","book":{"title":"x"}}`)
		}, "after the half-close", true},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			calls := env.Backend.Calls()
			c := wsDial(t, env, tc.path, tc.header)
			tc.send(t, c)
			code, reason, msgs := wsEnd(t, c)
			want := websocket.StatusCode(4003) // INVALID_ARGUMENT
			if tc.name == "a message over max_body_bytes" {
				want = 4008 // RESOURCE_EXHAUSTED, as its REST 413
			}
			if code != want || !strings.Contains(reason, tc.reason) {
				t.Errorf("close: got %d %q, want %d with %q", code, reason, want, tc.reason)
			}
			if len(msgs) != 0 {
				t.Errorf("messages: got %v, want none", msgs)
			}
			if !tc.opened { // the bad message came first: nothing was forwarded
				if got := env.Backend.Calls(); got != calls {
					t.Errorf("backend calls: got %d, want %d", got, calls)
				}
			}
		})
	}
}

func TestWebSocketHandshakeRefused(t *testing.T) {
	env := servertest.Start(t, servertest.Options{Config: func(c *configv1.Config) {
		c.Cors = &configv1.Cors{AllowedOrigins: []string{"https://app.example.com", "https://*.tools.example.com"}}
	}})
	refused := servertest.Start(t, servertest.Options{Config: func(c *configv1.Config) {
		c.Apis[0].Network = &configv1.IpRules{Deny: []string{"127.0.0.0/8"}}
	}})
	dial := func(env *servertest.Env, origin string) (*http.Response, []byte, error) {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		h := http.Header{}
		if origin != "" {
			h.Set("Origin", origin)
		}
		c, resp, err := websocket.Dial(ctx, wsURL(env, "/v1/books:lookup"), &websocket.DialOptions{HTTPHeader: h})
		if err == nil {
			c.CloseNow()
			return resp, nil, nil
		}
		var body []byte
		if resp != nil && resp.Body != nil {
			body, _ = io.ReadAll(resp.Body)
		}
		return resp, body, err
	}
	t.Run("a refused gate is the usual JSON error, no upgrade", func(t *testing.T) {
		calls := refused.Backend.Calls()
		resp, body, err := dial(refused, "")
		if err == nil || resp == nil || resp.StatusCode != http.StatusForbidden {
			t.Fatalf("got %v %v, want a 403 refusal", resp, err)
		}
		if ct := resp.Header.Get("Content-Type"); ct != "application/json" {
			t.Errorf("Content-Type: got %q, want application/json", ct)
		}
		checkSubset(t, body, `{"code":7}`)
		if got := refused.Backend.Calls(); got != calls {
			t.Errorf("backend calls: got %d, want %d", got, calls)
		}
	})
	t.Run("an origin cors.allowed_origins does not list is 403 in JSON", func(t *testing.T) {
		for _, origin := range []string{"https://evil.example.com", "http://app.example.com",
			"https://app.example.com:8443", "https://a.tools.example.com.evil.example.com"} {
			resp, body, err := dial(env, origin)
			if err == nil || resp == nil || resp.StatusCode != http.StatusForbidden {
				t.Errorf("origin %s: got %v %v, want a 403 refusal", origin, resp, err)
				continue
			}
			checkSubset(t, body, `{"code":7}`)
			if !strings.Contains(string(body), strings.TrimPrefix(strings.TrimPrefix(origin, "https://"), "http://")) {
				t.Errorf("origin %s: body %s, want the refused origin named", origin, body)
			}
		}
	})
	t.Run("an allowed origin, and no origin at all, are accepted", func(t *testing.T) {
		for _, origin := range []string{"https://app.example.com", "https://a.tools.example.com", "https://x.y.tools.example.com", ""} {
			if resp, body, err := dial(env, origin); err != nil {
				t.Errorf("origin %q: got %v %s, want the upgrade", origin, err, body)
			} else if resp.StatusCode != http.StatusSwitchingProtocols {
				t.Errorf("origin %q: got %d, want 101", origin, resp.StatusCode)
			}
		}
	})
	t.Run(`allowed_origins "*" lets any origin in`, func(t *testing.T) {
		anyOrigin := servertest.Start(t, servertest.Options{Config: func(c *configv1.Config) {
			c.Cors = &configv1.Cors{AllowedOrigins: []string{"*"}}
		}})
		if _, body, err := dial(anyOrigin, "https://anywhere.example.net"); err != nil {
			t.Errorf("got %v %s, want the upgrade", err, body)
		}
	})
	t.Run("a handshake missing its key is 400 in JSON", func(t *testing.T) {
		req, _ := http.NewRequest(http.MethodGet, env.URL+"/v1/books:lookup", nil)
		req.Header.Set("Connection", "Upgrade")
		req.Header.Set("Upgrade", "websocket")
		req.Header.Set("Sec-WebSocket-Version", "13")
		resp, err := servertest.Client().Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		body, _ := io.ReadAll(resp.Body)
		if resp.StatusCode != http.StatusBadRequest {
			t.Fatalf("got %d %s, want 400", resp.StatusCode, body)
		}
		checkSubset(t, body, `{"code":3}`)
	})
	t.Run("a GET without an upgrade on a POST stream is still 405", func(t *testing.T) {
		resp, body := call{method: "GET", path: "/v1/books:lookup"}.do(t, env.URL)
		if resp.StatusCode != http.StatusMethodNotAllowed {
			t.Errorf("got %d %s, want 405", resp.StatusCode, body)
		}
	})
}
