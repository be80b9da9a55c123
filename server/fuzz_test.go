package server_test

import (
	"context"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/portico-gw/portico/server/servertest"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
)

// FuzzGRPCDoor sends arbitrary request frames through the gRPC door to
// every method of the hostile API, which is known only from .proto sources
// (dynamicpb messages with maps, Struct, Value, Any, oneofs, HttpBody) in
// every streaming shape: one frame, or two for client streams. Whatever
// the bytes, the gateway answers with a status that is not INTERNAL or
// UNKNOWN (a malformed message is INVALID_ARGUMENT), and keeps serving: a
// panic anywhere ends the fuzzing process.
func FuzzGRPCDoor(f *testing.F) {
	seeds := []struct {
		method        uint8
		first, second []byte
	}{
		{0, []byte{0x1a, 0x05, 0x0a, 0x01, 0x61, 0x08, 0x00}, nil},                         // map entry, key as varint
		{0, []byte{0x22, 0x07, 0x0a, 0x05, 0x0a, 0x01, 0x61, 0x08, 0x00}, nil},             // the same in a Struct
		{3, []byte{0x2a, 0x09, 0x2a, 0x07, 0x0a, 0x05, 0x0a, 0x01, 0x61, 0x08, 0x00}, nil}, // in a Value
		{4, []byte{0x0a, 0x01, 'a'}, []byte{0x5a, 0x05, 0x0a, 0x01, 0x61, 0x08, 0x00}},     // second message of a client stream
		{5, []byte{0x0a, 0x01, 'a'}, []byte{0x1a, 0x05, 0x0a, 0x01, 0x61, 0x08, 0x00}},     // bidi
		{2, []byte{0x12, 0x06, 0x0a, 0x02, 'a', 'b', 0x12, 0x00}, nil},                     // HttpBody
		{0, []byte{0x32, 0x04, 0x0a, 0x02, 'x', 'y'}, nil},                                 // Any
		{0, []byte{0x4a, 0x02, 0x4a, 0x00}, nil},                                           // oneof child
		{1, []byte{0xff, 0xff, 0xff}, nil},
		{0, nil, nil},
	}
	for _, s := range seeds {
		f.Add(s.method, s.first, s.second)
	}
	env := servertest.StartHostile(f, servertest.Options{})
	methods := []struct {
		name string
		desc grpc.StreamDesc
	}{
		{"Put", unaryDesc}, {"Get", unaryDesc}, {"PutUpload", unaryDesc},
		{"Watch", serverDesc}, {"Collect", clientDesc}, {"Chat", bidiDesc},
	}
	f.Fuzz(func(t *testing.T, method uint8, first, second []byte) {
		m := methods[int(method)%len(methods)]
		frames := [][]byte{first}
		if m.desc.ClientStreams && len(second) > 0 {
			frames = append(frames, second)
		}
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		_, err := rawCall(t, env.Conn, ctx, hostile+m.name, m.desc, frames...)
		switch status.Code(err) {
		case codes.Internal, codes.Unknown, codes.Unavailable:
			t.Fatalf("%s % x / % x: got %v", m.name, first, second, err)
		}
	})
}

// FuzzPlainRoutes sends hostile paths, raw on the request line, to two
// plain routes of different auth to one recording backend: /legacy/public/
// (public, to the backend's /pub) and /legacy/ (an API key, to its
// /priv), both stripping their prefix; no key is ever sent. Whatever the
// path, the route chosen and what is forwarded agree: a request the
// public route's policy admitted reaches the backend only under /pub, at
// the path that was matched (the request's decoded path with /pub for
// /legacy/public), and the backend never sees a dot segment, an empty
// segment, an encoded slash or a backslash, in any encoding. The gateway
// never answers 5xx.
func FuzzPlainRoutes(f *testing.F) {
	for _, s := range []string{
		"/legacy/public/x", "/legacy/public", "/legacy/public/a%2Cb/%7Ec?q=..",
		"/legacy/public/../admin", "/legacy/public/%2e%2e/admin", "/legacy/public/.%2E/admin",
		"/legacy/public/..%2fadmin", `/legacy/public/..\admin`, "/legacy/public/..%5Cadmin",
		"/legacy/public//admin", "/legacy/public/..;/admin", "/legacy/public/%252e%252e/admin",
		"/legacy/public/%c0%ae%c0%ae/admin", "/legacy/public/%ef%bc%8e%ef%bc%8e/admin",
		"/legacy/public/admin./x", "/legacy/PUBLIC/admin", "/LEGACY/public/x", "/legacy/public/x%3F/../y",
		"/legacy/public/caf\xc3\xa9", "/legacy/public/%00", "*", "/legacy/admin",
	} {
		f.Add(s)
	}
	env, b := startPathsGateway(f)
	f.Fuzz(func(t *testing.T, target string) {
		if !strings.HasPrefix(target, "/") && target != "*" {
			target = "/legacy/public/" + target
		}
		if strings.ContainsAny(target, " \t\r\n") || len(target) > 4096 {
			return // not one request line
		}
		resp, body := rawRequest(t, env.URL, "GET", target)
		if resp.StatusCode >= 500 {
			t.Fatalf("GET %q: got %d %s", target, resp.StatusCode, truncate(body))
		}
		got := b.got()
		if len(got) == 0 {
			return
		}
		if len(got) != 1 || resp.StatusCode != http.StatusOK {
			t.Fatalf("GET %q: got %d, backend requests %q, want one request answered 200", target, resp.StatusCode, got)
		}
		sent, _, _ := strings.Cut(got[0], "?")
		if !strings.HasPrefix(sent, "/pub/") {
			t.Fatalf("GET %q without a key reached %q, outside the public route's base /pub/", target, got[0])
		}
		for _, seg := range strings.Split(sent[1:], "/") {
			d, err := url.PathUnescape(seg)
			if err != nil || d == "." || d == ".." || strings.ContainsAny(d, `/\`) {
				t.Fatalf("GET %q: the backend got %q, with the segment %q", target, got[0], seg)
			}
		}
		asked, _, _ := strings.Cut(target, "?")
		askedDec, err := url.PathUnescape(asked)
		sentDec, err2 := url.PathUnescape(sent)
		rest, under := strings.CutPrefix(askedDec, "/legacy/public")
		if rest == "" {
			rest = "/"
		}
		if err != nil || err2 != nil || !under || sentDec != "/pub"+rest {
			t.Fatalf("GET %q: the backend got %q, want /pub and the rest of the path matched", target, got[0])
		}
	})
}
