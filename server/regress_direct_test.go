package server_test

import (
	"bufio"
	"fmt"
	"io"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"

	configv1 "github.com/portico-gw/portico/gen/portico/config/v1"
	"github.com/portico-gw/portico/server/servertest"
	"github.com/portico-gw/portico/snapshot"
	"google.golang.org/protobuf/types/known/durationpb"
)

// TestRegressDirectBadTimeout: a malformed Connect-Timeout-Ms or grpc-timeout is
// the protocol's INVALID_ARGUMENT on the direct path (vanguard answers a
// text/plain 400, in no protocol, which a Connect or gRPC-Web client
// reads as a transport failure: fixed on the direct path).
func TestRegressDirectBadTimeout(t *testing.T) {
	env := servertest.Start(t, servertest.Options{})
	get := bookstoreSvc + "GetBook"
	c := connectJSON("connect", get, `{"name":"shelves/1/books/1"}`, "Connect-Timeout-Ms", "soon")
	got := seen(t, env.URL, c)
	want := "status: 400\nContent-Type: application/json\nVary: Accept-Encoding\nX-Request-Id: <request-id>\n" +
		`body: "{\"code\":\"invalid_argument\",\"message\":\"invalid Connect-Timeout-Ms: \\\"soon\\\"\"}"` + "\n"
	if got != want {
		t.Errorf("Connect: got\n%s\nwant\n%s", got, want)
	}
	for _, tm := range []string{"5X", "S", "-1S", "99999999999999999999S"} {
		gw := webCall{name: "grpc-web", path: get, headers: map[string]string{"Content-Type": "application/grpc-web+proto", "Grpc-Timeout": tm}, body: envelope(0, getBookProto(t))}
		got = seen(t, env.URL, gw)
		if !strings.Contains(got, "status: 200\n") || !strings.Contains(got, "Grpc-Status: 3\n") || !strings.Contains(got, `body: ""`) {
			t.Errorf("gRPC-Web, grpc-timeout %q: got\n%s\nwant a trailers-only INVALID_ARGUMENT", tm, got)
		}
	}
}

// TestRegressDirectSlowBody: the direct path read a unary Connect or
// gRPC-Web body with no time bound (vanguard's path had the gRPC door's
// receive timer): a client sending its body a byte at a time, or never,
// held a goroutine and its connection for as long as it liked. The body
// must arrive within limits.body_timeout, as on the REST door, and
// nothing reaches the backend.
func TestRegressDirectSlowBody(t *testing.T) {
	limits := func(c *configv1.Config) {
		c.Limits = &configv1.Limits{BodyTimeout: durationpb.New(300 * time.Millisecond)}
	}
	for _, path := range []struct {
		name  string
		build func(*snapshot.Options)
	}{{"direct", nil}, {"vanguard", func(o *snapshot.Options) { o.WebVanguardOnly = true }}} {
		env := servertest.Start(t, servertest.Options{Config: limits, Build: path.build})
		for _, tc := range []struct{ name, method, ct, start, wantStatus, wantCode string }{
			{"connect json", "GetBook", "application/json\r\nConnect-Protocol-Version: 1", `{"name":`, "504", `"code":"deadline_exceeded"`},
			{"connect proto", "GetBook", "application/proto\r\nConnect-Protocol-Version: 1", "\x0a", "504", `"code":"deadline_exceeded"`},
			{"grpc-web", "GetBook", "application/grpc-web+proto", "\x00\x00\x00\x00\x10", "200", "Grpc-Status: 4"},
			{"grpc-web-text", "GetBook", "application/grpc-web-text", "AAAAABA", "200", "Grpc-Status: 4"},
			{"connect stream", "WatchBooks", "application/connect+json", "\x00\x00\x00\x00\x10{", "200", `"code":"deadline_exceeded"`},
			{"grpc-web stream", "WatchBooks", "application/grpc-web+proto", "\x00\x00\x00\x00\x10", "200", "Grpc-Status: 4"},
		} {
			t.Run(path.name+"/"+tc.name, func(t *testing.T) {
				conn, err := net.Dial("tcp", strings.TrimPrefix(env.URL, "http://"))
				if err != nil {
					t.Fatal(err)
				}
				defer conn.Close()
				start := time.Now()
				fmt.Fprintf(conn, "POST %s%s HTTP/1.1\r\nHost: x\r\nContent-Type: %s\r\nContent-Length: 100\r\n\r\n%s", bookstoreSvc, tc.method, tc.ct, tc.start)
				_ = conn.SetReadDeadline(time.Now().Add(10 * time.Second))
				resp, err := http.ReadResponse(bufio.NewReader(conn), nil)
				if err != nil {
					t.Fatalf("reading the response: %v", err)
				}
				out, _ := io.ReadAll(resp.Body)
				var got strings.Builder
				_ = resp.Header.Write(&got)
				if fmt.Sprint(resp.StatusCode) != tc.wantStatus || !strings.Contains(got.String()+string(out), tc.wantCode) {
					t.Errorf("got %d\n%s%q\nwant %s with %s", resp.StatusCode, got.String(), out, tc.wantStatus, tc.wantCode)
				}
				if d := time.Since(start); d > 5*time.Second {
					t.Errorf("answered after %v, want about the 300ms body timeout", d)
				}
			})
		}
		if n := env.Backend.Calls(); n != 0 {
			t.Errorf("%s: the backend got %d calls, want 0", path.name, n)
		}
	}
}
