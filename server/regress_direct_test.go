package server_test

import (
	"strings"
	"testing"

	"github.com/portico-gw/portico/server/servertest"
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
