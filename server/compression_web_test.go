package server_test

// Decompression bombs on the browser protocols: about 1 MiB of gzip
// expanding to 1 GiB, sent as a Connect unary body (Content-Encoding), a
// Connect stream message (Connect-Content-Encoding) and a gRPC-Web message
// (grpc-encoding), is refused with RESOURCE_EXHAUSTED once max_body_bytes
// are decompressed, with bounded memory, and never forwarded.

import (
	"bytes"
	"encoding/binary"
	"encoding/json"
	"net/http"
	"strings"
	"testing"

	"github.com/klauspost/compress/zstd"
	"github.com/portico-gw/portico/server/servertest"
)

// envelopes splits a Connect stream or gRPC-Web body into its frames.
func envelopes(t *testing.T, body []byte) (flags []byte, msgs [][]byte) {
	t.Helper()
	for len(body) > 0 {
		if len(body) < 5 {
			t.Fatalf("truncated envelope: % x", body)
		}
		n := binary.BigEndian.Uint32(body[1:5])
		if uint32(len(body)-5) < n {
			t.Fatalf("envelope of %d bytes, %d left", n, len(body)-5)
		}
		flags = append(flags, body[0])
		msgs = append(msgs, body[5:5+n])
		body = body[5+n:]
	}
	return flags, msgs
}

// webBombCall is the bomb sent as one protocol's request: code reads the
// call's code from the answer (Connect's name, or gRPC's number as a
// string).
type webBombCall struct {
	name        string
	path        string
	contentType string
	headers     map[string]string
	body        func(bomb []byte) []byte
	code        func(t *testing.T, resp *http.Response, body []byte) string
	want        string
}

func TestCompressionBombWebProtocols(t *testing.T) {
	env := servertest.StartHostile(t, servertest.Options{})
	b := bomb(t)
	zb := zstdBomb(t)
	for _, tc := range []webBombCall{{
		name:        "connect unary zstd",
		path:        hostile + "Put",
		contentType: "application/proto",
		headers:     map[string]string{"Connect-Protocol-Version": "1", "Content-Encoding": "zstd"},
		body:        func([]byte) []byte { return zb },
		code:        connectUnaryCode,
		want:        "resource_exhausted",
	}, {
		name:        "connect unary",
		path:        hostile + "Put",
		contentType: "application/proto",
		headers:     map[string]string{"Connect-Protocol-Version": "1", "Content-Encoding": "gzip"},
		body:        func(b []byte) []byte { return b },
		code:        connectUnaryCode,
		want:        "resource_exhausted",
	}, {
		name:        "connect stream",
		path:        hostile + "Watch",
		contentType: "application/connect+proto",
		headers:     map[string]string{"Connect-Protocol-Version": "1", "Connect-Content-Encoding": "gzip"},
		body:        func(b []byte) []byte { return envelope(1, b) },
		code:        connectStreamCode,
		want:        "resource_exhausted",
	}, {
		name:        "grpc-web",
		path:        hostile + "Put",
		contentType: "application/grpc-web+proto",
		headers:     map[string]string{"X-Grpc-Web": "1", "Grpc-Encoding": "gzip"},
		body:        func(b []byte) []byte { return envelope(1, b) },
		code:        grpcWebCode,
		want:        "8",
	}} {
		t.Run(tc.name, func(t *testing.T) { refusesBomb(t, env, b, tc) })
	}
}

// refusesBomb sends tc's bomb (b, 1 MiB of gzip expanding to 1 GiB) and
// checks it is refused in tc's protocol, in bounded memory, reaching no
// backend.
func refusesBomb(t *testing.T, env *servertest.HostileEnv, b []byte, tc webBombCall) {
	t.Helper()
	before := env.Mirror.Calls()
	wire := tc.body(b)
	var resp *http.Response
	var rb []byte
	alloc := allocatedDuring(func() {
		req, _ := http.NewRequest("POST", env.URL+tc.path, bytes.NewReader(wire))
		req.Header.Set("Content-Type", tc.contentType)
		for k, v := range tc.headers {
			req.Header.Set(k, v)
		}
		resp, rb = do(t, req)
	})
	if resp.StatusCode >= 500 {
		t.Errorf("bomb: got HTTP %d %s, want no 5xx", resp.StatusCode, truncate(rb))
	}
	if got := tc.code(t, resp, rb); got != tc.want {
		t.Errorf("bomb: got code %q (HTTP %d, %s), want %q", got, resp.StatusCode, truncate(rb), tc.want)
	}
	t.Logf("bomb refused; %d MiB allocated meanwhile", alloc>>20)
	if alloc > bombBound {
		t.Errorf("bomb: %d MiB allocated, want at most %d MiB", alloc>>20, bombBound>>20)
	}
	if env.Mirror.Calls() != before {
		t.Error("the bomb reached the backend")
	}
}

// connectUnaryCode reads a Connect unary error body's code.
func connectUnaryCode(t *testing.T, resp *http.Response, body []byte) string {
	t.Helper()
	var e struct{ Code string }
	if err := json.Unmarshal(body, &e); err != nil {
		t.Errorf("Connect error body %q (HTTP %d): %v", truncate(body), resp.StatusCode, err)
	}
	return e.Code
}

// connectStreamCode reads the code of a Connect stream's end message
// (flag 2).
func connectStreamCode(t *testing.T, _ *http.Response, body []byte) string {
	t.Helper()
	flags, msgs := envelopes(t, body)
	for i, f := range flags {
		if f&2 != 0 {
			var end struct{ Error struct{ Code string } }
			if err := json.Unmarshal(msgs[i], &end); err != nil {
				t.Errorf("Connect end message %q: %v", msgs[i], err)
			}
			return end.Error.Code
		}
	}
	t.Errorf("Connect stream without an end message: % x", body)
	return ""
}

// grpcWebCode reads grpc-status from a gRPC-Web answer: the trailers
// frame (flag 0x80), or the headers of a trailers-only answer.
func grpcWebCode(t *testing.T, resp *http.Response, body []byte) string {
	t.Helper()
	if s := resp.Header.Get("Grpc-Status"); s != "" {
		return s
	}
	flags, msgs := envelopes(t, body)
	for i, f := range flags {
		if f&0x80 != 0 {
			for _, line := range strings.Split(string(msgs[i]), "\r\n") {
				if k, v, ok := strings.Cut(line, ":"); ok && strings.EqualFold(strings.TrimSpace(k), "grpc-status") {
					return strings.TrimSpace(v)
				}
			}
		}
	}
	t.Errorf("gRPC-Web answer without grpc-status: % x", body)
	return ""
}

// zstdBomb is zstd that expands to 1 GiB of zeros: 1024 frames of 1 MiB
// each (a decoder reads them as one stream).
func zstdBomb(t *testing.T) []byte {
	t.Helper()
	enc, err := zstd.NewWriter(nil, zstd.WithEncoderLevel(zstd.SpeedBestCompression))
	if err != nil {
		t.Fatal(err)
	}
	defer enc.Close()
	return bytes.Repeat(enc.EncodeAll(make([]byte, 1<<20), nil), 1024)
}
