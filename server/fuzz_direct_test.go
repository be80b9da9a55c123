package server_test

import (
	"encoding/base64"
	"strings"
	"testing"
)

// FuzzDirectMatchesVanguard: any unary Connect or gRPC-Web request gets
// the same answer (status, headers, body) on the direct path as through
// vanguard, and never a 5xx the gateway made.
func FuzzDirectMatchesVanguard(f *testing.F) {
	f.Add(uint8(0), []byte(`{"name":"shelves/1/books/1"}`), "e")
	f.Add(uint8(1), []byte("\n\x11shelves/1/books/1"), "")
	f.Add(uint8(2), envelope(0, []byte("\n\x11shelves/1/books/1")), "x")
	f.Add(uint8(3), envelope(0, []byte("\n\x11shelves/1/books/1")), "")
	f.Add(uint8(0), []byte(`{"name":`), "")
	f.Add(uint8(2), []byte{0, 0, 0, 0, 9, 0xff}, "")
	f.Add(uint8(5), []byte(`{"shelf":{"theme":"x"}}`), "")
	direct, vanguard := startDirectPair(f)
	cts := []string{"application/json", "application/proto", "application/grpc-web+proto", "application/grpc-web-text", "application/grpc-web"}
	methods := []string{"GetBook", "GetBook", "GetBook", "GetBook", "GetBook", "CreateShelf", "ListShelves", "DeleteBook"}
	f.Fuzz(func(t *testing.T, kind uint8, body []byte, echo string) {
		if strings.IndexFunc(echo, func(r rune) bool { return r < ' ' || r > '~' }) >= 0 {
			return // not a header value a client can send
		}
		ct := cts[int(kind)%len(cts)]
		c := webCall{name: ct, path: bookstoreSvc + methods[int(kind)%len(methods)], headers: map[string]string{"Content-Type": ct, "X-Echo": echo}, body: body}
		if strings.HasPrefix(ct, "application/grpc-web-text") {
			c.body = []byte(base64.StdEncoding.EncodeToString(body))
		}
		if !strings.HasPrefix(ct, "application/grpc-web") {
			c.headers["Connect-Protocol-Version"] = "1"
		}
		got, want := seen(t, direct.URL, c), seen(t, vanguard.URL, c)
		if got != want {
			t.Fatalf("%s %q: direct:\n%s\nvanguard:\n%s", ct, body, got, want)
		}
		if strings.HasPrefix(got, "status: 5") && !strings.Contains(got, "X-Served-By") {
			t.Fatalf("%s %q: got a 5xx from the gateway:\n%s", ct, body, got)
		}
	})
}
