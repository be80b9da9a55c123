package server_test

// The findings of the hardening issue about malformed and oversized
// requests (a hostile client against both doors; one test per finding,
// named for it).

import (
	"fmt"
	"net/http"
	"strings"
	"testing"

	configv1 "github.com/portico-gw/portico/gen/portico/config/v1"
	"github.com/portico-gw/portico/server/servertest"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/structpb"
)

func mustMarshal(t *testing.T, m proto.Message) []byte {
	t.Helper()
	b, err := proto.Marshal(m)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// TestRegressMapEntryPanic (finding 1): a map entry repeating its key with
// the wrong wire type made protobuf-go's slow path panic on a
// descriptor-only message, and the gRPC door decoded requests outside any
// recover (in streams, on a goroutine with none): one message took the
// process down. Now every shape answers INVALID_ARGUMENT and the gateway
// keeps serving.
func TestRegressMapEntryPanic(t *testing.T) {
	env := servertest.StartHostile(t, servertest.Options{})
	bad := map[string][]byte{
		"map<string,string>":        {0x1a, 0x05, 0x0a, 0x01, 0x61, 0x08, 0x00},
		"Struct":                    {0x22, 0x07, 0x0a, 0x05, 0x0a, 0x01, 0x61, 0x08, 0x00},
		"Value.struct_value":        {0x2a, 0x09, 0x2a, 0x07, 0x0a, 0x05, 0x0a, 0x01, 0x61, 0x08, 0x00},
		"map<string,Thing> message": {0x5a, 0x05, 0x0a, 0x01, 0x61, 0x08, 0x00},
	}
	good := []byte{0x0a, 0x02, 'o', 'k'} // name: "ok"
	shapes := []struct {
		method string
		desc   grpc.StreamDesc
		frames func(bad []byte) [][]byte
	}{
		{"Put", unaryDesc, func(b []byte) [][]byte { return [][]byte{b} }},
		{"Watch", serverDesc, func(b []byte) [][]byte { return [][]byte{b} }},
		{"Collect", clientDesc, func(b []byte) [][]byte { return [][]byte{good, b} }},
		{"Chat", bidiDesc, func(b []byte) [][]byte { return [][]byte{good, b} }},
		{"Collect", clientDesc, func(b []byte) [][]byte { return [][]byte{b} }},
		{"Chat", bidiDesc, func(b []byte) [][]byte { return [][]byte{b} }},
	}
	for name, b := range bad {
		for _, sh := range shapes {
			t.Run(fmt.Sprintf("%s/%s/%d messages", name, sh.method, len(sh.frames(b))), func(t *testing.T) {
				_, err := rawCall(t, env.Conn, nil, hostile+sh.method, sh.desc, sh.frames(b)...)
				wantCode(t, "call", err, codes.InvalidArgument)
			})
		}
	}
	// Still serving.
	resps, err := rawCall(t, env.Conn, nil, hostile+"Put", unaryDesc, good)
	if err != nil || len(resps) != 1 {
		t.Fatalf("a good call after the bad ones: got %d responses, %v", len(resps), err)
	}
}

// TestRegressGRPCDecodeErrors (finding 5): invalid wire data was INTERNAL;
// a unary call carrying two request messages was accepted silently; one
// carrying none was UNKNOWN "EOF". All are INVALID_ARGUMENT now, and none
// reaches the backend.
func TestRegressGRPCDecodeErrors(t *testing.T) {
	env := servertest.StartHostile(t, servertest.Options{})
	good := []byte{0x0a, 0x02, 'o', 'k'}
	cases := []struct {
		name   string
		frames [][]byte
	}{
		{"invalid wire data", [][]byte{{0xff, 0xff, 0xff, 0xff}}},
		{"truncated field", [][]byte{{0x0a, 0x10, 'x'}}},
		{"two request messages", [][]byte{good, good}},
		{"no request message", nil},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			// Sent as a client stream, so the client does not stop at one
			// message: the door sees what a misbehaving client sends.
			_, err := rawCall(t, env.Conn, nil, hostile+"Put", clientDesc, tc.frames...)
			wantCode(t, "Put", err, codes.InvalidArgument)
		})
	}
	if n := env.Mirror.Calls(); n != 0 {
		t.Errorf("backend calls: got %d, want 0", n)
	}
}

// deepValue is a google.protobuf.Value nested n lists deep.
func deepValue(n int) *structpb.Value {
	v := structpb.NewStringValue("x")
	for i := 0; i < n; i++ {
		v = structpb.NewListValue(&structpb.ListValue{Values: []*structpb.Value{v}})
	}
	return v
}

// TestRegressDeepJSON (finding 5): JSON nested 5,000 deep inside a
// google.protobuf.Value was accepted by the REST door and forwarded; the
// backend refused it and the client got a 500 with grpc-internal text.
// It is a 400 at the door now (and INVALID_ARGUMENT on the gRPC door), and
// the backend sees nothing.
func TestRegressDeepJSON(t *testing.T) {
	env := servertest.StartHostile(t, servertest.Options{})
	body := `{"value":` + strings.Repeat("[", 5000) + `1` + strings.Repeat("]", 5000) + `}`
	resp, out := post(t, env.URL+"/v1/things", body)
	if resp.StatusCode != http.StatusBadRequest || !strings.Contains(string(out), "deeper than 64") {
		t.Errorf("REST: got %d %s, want 400 naming the depth limit", resp.StatusCode, out)
	}
	thing := []byte{0x2a} // field 5, Value
	v := mustMarshal(t, deepValue(5000))
	thing = append(thing, protoLen(len(v))...)
	thing = append(thing, v...)
	_, err := rawCall(t, env.Conn, nil, hostile+"Put", unaryDesc, thing)
	wantCode(t, "gRPC", err, codes.InvalidArgument)
	if n := env.Mirror.Calls(); n != 0 {
		t.Errorf("backend calls: got %d, want 0", n)
	}
	// Nesting within the limit is served.
	ok := `{"value":` + strings.Repeat("[", 30) + `1` + strings.Repeat("]", 30) + `}`
	if resp, out := post(t, env.URL+"/v1/things", ok); resp.StatusCode != http.StatusOK {
		t.Errorf("30 levels: got %d %s, want 200", resp.StatusCode, out)
	}
}

// protoLen is a varint length prefix.
func protoLen(n int) []byte {
	var b []byte
	for n >= 0x80 {
		b = append(b, byte(n)|0x80)
		n >>= 7
	}
	return append(b, byte(n))
}

// TestRegressHTTPBodyNearLimit (finding 5): an HttpBody upload just under
// the body limit became a 429 "received message larger than max" from the
// backend. The encoded message is measured at the door: 413, as for any
// oversized body, and the backend sees nothing.
func TestRegressHTTPBodyNearLimit(t *testing.T) {
	env := servertest.StartHostile(t, servertest.Options{Config: func(c *configv1.Config) {
		c.Limits = &configv1.Limits{MaxBodyBytes: proto.Uint32(64 << 10)}
	}})
	req, _ := http.NewRequest("POST", env.URL+"/v1/uploads/big", strings.NewReader(strings.Repeat("x", 64<<10-4)))
	req.Header.Set("Content-Type", "application/octet-stream")
	resp, out := do(t, req)
	if resp.StatusCode != http.StatusRequestEntityTooLarge || !isJSONError(out) {
		t.Errorf("got %d %s, want a JSON 413", resp.StatusCode, out)
	}
	if n := env.Mirror.Calls(); n != 0 {
		t.Errorf("backend calls: got %d, want 0", n)
	}
	req, _ = http.NewRequest("POST", env.URL+"/v1/uploads/small", strings.NewReader(strings.Repeat("x", 1<<10)))
	if resp, out := do(t, req); resp.StatusCode != http.StatusOK {
		t.Errorf("1 KiB: got %d %s, want 200", resp.StatusCode, out)
	}
}

// TestRegressLongPath (finding 5): a 100 KB path got a plain-text 431 from
// net/http; docs/traffic.md (Limits) promises a JSON 414.
func TestRegressLongPath(t *testing.T) {
	env := servertest.StartHostile(t, servertest.Options{})
	resp, out := get(t, env.URL+"/v1/things/"+strings.Repeat("a", 100<<10))
	if resp.StatusCode != http.StatusRequestURITooLong || !isJSONError(out) {
		t.Errorf("got %d %q, want a JSON 414", resp.StatusCode, truncate(out))
	}
	// Headers over max_header_bytes are a JSON 431.
	req, _ := http.NewRequest("GET", env.URL+"/v1/things/a", nil)
	req.Header.Set("X-Big", strings.Repeat("b", 70<<10))
	resp, out = do(t, req)
	if resp.StatusCode != http.StatusRequestHeaderFieldsTooLarge || !isJSONError(out) {
		t.Errorf("large headers: got %d %q, want a JSON 431", resp.StatusCode, truncate(out))
	}
	if n := env.Mirror.Calls(); n != 0 {
		t.Errorf("backend calls: got %d, want 0", n)
	}
}

// TestRegressStreamFirstMessageInvalid (finding 5): client- and
// bidi-stream messages were validated only after the backend stream was
// opened, so an invalid first message still opened a backend stream. The
// first message is read and validated first now, on both doors.
func TestRegressStreamFirstMessageInvalid(t *testing.T) {
	env := servertest.StartHostile(t, servertest.Options{})
	long := strings.Repeat("n", 100) // name: max_len 64
	for _, path := range []string{"/v1/things:collect", "/v1/things:chat"} {
		resp, out := post(t, env.URL+path, `{"name":"`+long+`"}`+"\n"+`{"name":"ok"}`)
		if resp.StatusCode != http.StatusBadRequest {
			t.Errorf("REST %s: got %d %s, want 400", path, resp.StatusCode, out)
		}
	}
	bad := []byte{0x0a, 100}
	bad = append(bad, long...)
	for _, c := range []struct {
		method string
		desc   grpc.StreamDesc
	}{{"Collect", clientDesc}, {"Chat", bidiDesc}} {
		_, err := rawCall(t, env.Conn, nil, hostile+c.method, c.desc, bad, []byte{0x0a, 0x02, 'o', 'k'})
		wantCode(t, "gRPC "+c.method, err, codes.InvalidArgument)
	}
	if n := env.Mirror.Calls(); n != 0 {
		t.Errorf("backend calls: got %d, want 0 (no stream opened)", n)
	}
}
