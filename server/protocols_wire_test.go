package server_test

// Golden wire bytes of one unary call per protocol, the same answer over
// every protocol, and bad input over gRPC-Web and Connect.

import (
	"bytes"
	"encoding/base64"
	"encoding/binary"
	"encoding/json"
	"flag"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"connectrpc.com/connect"
	bookstorev1 "github.com/portico-gw/portico/gen/example/bookstore/v1"
	configv1 "github.com/portico-gw/portico/gen/portico/config/v1"
	"github.com/portico-gw/portico/server/servertest"
	"google.golang.org/protobuf/encoding/protojson"
	"google.golang.org/protobuf/proto"
)

var update = flag.Bool("update", false, "rewrite server/testdata/wire/*.golden")

// envelope frames a message as gRPC-Web and Connect streams do.
func envelope(flags byte, msg []byte) []byte {
	out := make([]byte, 5, 5+len(msg))
	out[0] = flags
	binary.BigEndian.PutUint32(out[1:], uint32(len(msg)))
	return append(out, msg...)
}

func getBookProto(t testing.TB) []byte {
	b, err := proto.Marshal(&bookstorev1.GetBookRequest{Name: "shelves/1/books/1"})
	if err != nil {
		t.Fatal(err)
	}
	return b
}

var requestIDPattern = regexp.MustCompile(`[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[0-9a-f]{4}-[0-9a-f]{12}`)

// wireCall posts body with headers and returns the answer as the golden
// file holds it: status, the selected headers, the body (quoted).
func wireCall(t *testing.T, url string, headers map[string]string, body []byte) string {
	t.Helper()
	req, _ := http.NewRequest(http.MethodPost, url, bytes.NewReader(body))
	for k, v := range headers {
		req.Header.Set(k, v)
	}
	resp, out := do(t, req)
	var b strings.Builder
	fmt.Fprintf(&b, "request: %q\n", body)
	fmt.Fprintf(&b, "status: %d\n", resp.StatusCode)
	for _, h := range []string{"Content-Type", "Content-Encoding", "Connect-Content-Encoding", "Grpc-Status", "Grpc-Message", "X-Request-Id"} {
		if vs := resp.Header.Values(h); len(vs) > 0 {
			fmt.Fprintf(&b, "%s: %s\n", h, strings.Join(vs, ", "))
		}
	}
	if strings.HasPrefix(resp.Header.Get("Content-Type"), "application/json") {
		// protojson varies its spaces from build to build on purpose.
		var c bytes.Buffer
		if json.Compact(&c, out) == nil {
			out = c.Bytes()
		}
	}
	fmt.Fprintf(&b, "body: %q\n", out)
	return requestIDPattern.ReplaceAllString(b.String(), "<request-id>")
}

func TestProtocolsWireGolden(t *testing.T) {
	env := servertest.Start(t, servertest.Options{})
	url := env.URL + bookstoreSvc + "GetBook"
	msg := getBookProto(t)
	for _, tc := range []struct {
		name    string
		headers map[string]string
		body    []byte
	}{
		{"connect_json", map[string]string{"Content-Type": "application/json", "Connect-Protocol-Version": "1"}, []byte(`{"name":"shelves/1/books/1"}`)},
		{"connect_proto", map[string]string{"Content-Type": "application/proto", "Connect-Protocol-Version": "1"}, msg},
		{"grpc_web", map[string]string{"Content-Type": "application/grpc-web+proto", "X-Grpc-Web": "1"}, envelope(0, msg)},
		{"grpc_web_text", map[string]string{"Content-Type": "application/grpc-web-text", "X-Grpc-Web": "1"}, []byte(base64.StdEncoding.EncodeToString(envelope(0, msg)))},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got := wireCall(t, url, tc.headers, tc.body)
			path := filepath.Join("testdata", "wire", tc.name+".golden")
			if *update {
				if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
					t.Fatal(err)
				}
				if err := os.WriteFile(path, []byte(got), 0o644); err != nil {
					t.Fatal(err)
				}
			}
			want, err := os.ReadFile(path)
			if err != nil {
				t.Fatalf("%v (run with -update)", err)
			}
			if got != string(want) {
				t.Errorf("got:\n%s\nwant:\n%s", got, want)
			}
		})
	}
}

// TestProtocolsSameAnswer: the same call over REST, gRPC, Connect and
// gRPC-Web gets the same message.
func TestProtocolsSameAnswer(t *testing.T) {
	env := servertest.Start(t, servertest.Options{})
	ctx := callCtx(t)
	want, err := bookstorev1.NewBookstoreServiceClient(env.Conn).GetBook(ctx, &bookstorev1.GetBookRequest{Name: "shelves/1/books/1"})
	if err != nil {
		t.Fatalf("gRPC: %v", err)
	}
	resp, body := get(t, env.URL+"/v1/shelves/1/books/1")
	var rest bookstorev1.Book
	if resp.StatusCode != http.StatusOK || protojson.Unmarshal(body, &rest) != nil {
		t.Fatalf("REST: got %d %s", resp.StatusCode, body)
	}
	if !proto.Equal(&rest, want) {
		t.Errorf("REST: got %v, want %v", &rest, want)
	}
	for _, c := range connectClients {
		r, err := getBookClient(env.URL, c.opts...).CallUnary(ctx, connect.NewRequest(&bookstorev1.GetBookRequest{Name: "shelves/1/books/1"}))
		if err != nil {
			t.Errorf("%s: %v", c.name, err)
			continue
		}
		if !proto.Equal(r.Msg, want) {
			t.Errorf("%s: got %v, want %v", c.name, r.Msg, want)
		}
	}
}

// TestProtocolsBadInput: malformed envelopes, bad base64, an oversize
// message, an unknown method: a Connect or gRPC-Web error, never a 5xx,
// nothing forwarded.
func TestProtocolsBadInput(t *testing.T) {
	env := servertest.Start(t, servertest.Options{Config: func(c *configv1.Config) {
		c.Limits = &configv1.Limits{MaxBodyBytes: proto.Uint32(1024)}
	}})
	url := env.URL + bookstoreSvc + "GetBook"
	web := map[string]string{"Content-Type": "application/grpc-web+proto"}
	text := map[string]string{"Content-Type": "application/grpc-web-text"}
	cj := map[string]string{"Content-Type": "application/json", "Connect-Protocol-Version": "1"}
	cs := map[string]string{"Content-Type": "application/connect+proto"}
	big := envelope(0, append([]byte{0x0a, 0x82, 0x10}, bytes.Repeat([]byte("x"), 2050)...))
	for _, tc := range []struct {
		name    string
		url     string
		headers map[string]string
		body    []byte
		want    string // grpc-status (gRPC-Web) or the Connect code in the body
	}{
		{"grpc-web short envelope", url, web, []byte{0, 0, 0}, "Grpc-Status: 3"},
		{"grpc-web length beyond the body", url, web, []byte{0, 0, 0, 0, 9, 1}, "Grpc-Status: 3"},
		{"grpc-web garbage message", url, web, envelope(0, []byte{0xff, 0xff, 0xff}), "Grpc-Status: 3"},
		{"grpc-web oversize", url, web, big, "Grpc-Status: 8"},
		{"grpc-web-text bad base64", url, text, []byte("!!!!"), "Grpc-Status: 3"},
		{"grpc-web unknown method", env.URL + bookstoreSvc + "Nope", web, envelope(0, nil), ""},
		{"connect malformed JSON", url, cj, []byte(`{"name":`), `invalid_argument`},
		{"connect unknown field", url, cj, []byte(`{"nom":"x"}`), `invalid_argument`},
		{"connect stream bad envelope", env.URL + bookstoreSvc + "WatchBooks", cs, []byte{0, 0, 0, 0, 200}, `invalid_argument`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			before := env.Backend.Calls()
			got := wireCall(t, tc.url, tc.headers, tc.body)
			if strings.Contains(got, "status: 5") || !strings.Contains(got, tc.want) {
				t.Errorf("got:\n%s\nwant a 4xx or 200 with %s", got, tc.want)
			}
			if env.Backend.Calls() != before {
				t.Errorf("the backend was called")
			}
		})
	}
}
