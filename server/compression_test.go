package server_test

// Compression on every door: REST responses by Accept-Encoding (curl
// --compressed), request bodies with Content-Encoding, grpc-encoding on
// the gRPC door, and decompression bombs refused with bounded memory.

import (
	"bufio"
	"bytes"
	"context"
	"crypto/tls"
	"encoding/binary"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"os/exec"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/klauspost/compress/gzip"
	"github.com/portico-gw/portico/codec"
	"github.com/portico-gw/portico/examples/bookstore"
	configv1 "github.com/portico-gw/portico/gen/portico/config/v1"
	"github.com/portico-gw/portico/server/servertest"
	"golang.org/x/net/http2"
	"google.golang.org/grpc"
	"google.golang.org/grpc/stats"
)

// bomb is about 1 MiB of gzip that expands to 1 GiB of zeros: 1024
// members of 1 MiB each (a gzip reader reads them as one stream).
func bomb(t *testing.T) []byte {
	t.Helper()
	var member bytes.Buffer
	zw, _ := gzip.NewWriterLevel(&member, gzip.BestCompression)
	if _, err := zw.Write(make([]byte, 1<<20)); err != nil {
		t.Fatal(err)
	}
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	return bytes.Repeat(member.Bytes(), 1024)
}

func gzipped(t *testing.T, data []byte) []byte {
	t.Helper()
	var buf bytes.Buffer
	zw := gzip.NewWriter(&buf)
	if _, err := zw.Write(data); err != nil {
		t.Fatal(err)
	}
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

// allocatedDuring returns the bytes the process allocated while f ran.
func allocatedDuring(f func()) uint64 {
	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	f()
	runtime.ReadMemStats(&after)
	return after.TotalAlloc - before.TotalAlloc
}

// bombBound is the most a refused bomb may cost in allocations: a few
// times max_body_bytes (4 MiB by default), far from the 1 GiB it expands to.
const bombBound = 64 << 20

func TestCompressionREST(t *testing.T) {
	env := servertest.StartHostile(t, servertest.Options{})
	text := strings.Repeat("compressible ", 400)
	body, _ := json.Marshal(map[string]string{"name": "big", "text": text})

	// curl --compressed: asks for gzip (and more), decodes the answer.
	out, err := exec.Command("curl", "-sS", "--compressed", "-D", "-", "-H", "Content-Type: application/json",
		"--data-binary", string(body), env.URL+"/v1/things").CombinedOutput()
	if err != nil {
		t.Fatalf("curl: %v: %s", err, out)
	}
	head, payload, _ := strings.Cut(string(out), "\r\n\r\n")
	lower := strings.ToLower(head)
	if !strings.Contains(lower, "content-encoding: zstd") && !strings.Contains(lower, "content-encoding: gzip") {
		t.Errorf("curl --compressed: headers %q, want a Content-Encoding", head)
	}
	if !strings.Contains(lower, "vary: accept-encoding") {
		t.Errorf("curl --compressed: headers %q, want Vary: Accept-Encoding", head)
	}
	var got map[string]any
	if err := json.Unmarshal([]byte(payload), &got); err != nil || got["text"] != text {
		t.Errorf("curl --compressed: body %.100q (%v), want the thing back", payload, err)
	}

	// A gzip request body is read decompressed.
	req, _ := http.NewRequest("POST", env.URL+"/v1/things", bytes.NewReader(gzipped(t, body)))
	req.Header.Set("Content-Encoding", "gzip")
	resp, rb := do(t, req)
	if err := json.Unmarshal(rb, &got); resp.StatusCode != http.StatusOK || err != nil || got["text"] != text {
		t.Errorf("gzip request body: got %d %.100s, want 200 and the thing back", resp.StatusCode, rb)
	}

	// An unknown coding is refused before anything reaches the backend.
	before := env.Mirror.Calls()
	req, _ = http.NewRequest("POST", env.URL+"/v1/things", bytes.NewReader(body))
	req.Header.Set("Content-Encoding", "br")
	if resp, rb := do(t, req); resp.StatusCode != http.StatusUnsupportedMediaType || !isJSONError(rb) {
		t.Errorf("Content-Encoding br: got %d %s, want 415 with a JSON error", resp.StatusCode, rb)
	}
	if env.Mirror.Calls() != before {
		t.Error("a body in an unknown coding reached the backend")
	}
}

// TestCompressionBombREST: a gzip body of about 1 MiB expanding to 1 GiB
// is refused (413) once max_body_bytes are decompressed, without the
// gateway allocating anything near its size, and nothing is forwarded.
func TestCompressionBombREST(t *testing.T) {
	env := servertest.StartHostile(t, servertest.Options{})
	b := bomb(t)
	before := env.Mirror.Calls()
	var resp *http.Response
	var rb []byte
	alloc := allocatedDuring(func() {
		req, _ := http.NewRequest("POST", env.URL+"/v1/things", bytes.NewReader(b))
		req.Header.Set("Content-Encoding", "gzip")
		resp, rb = do(t, req)
	})
	if resp.StatusCode != http.StatusRequestEntityTooLarge || !isJSONError(rb) {
		t.Errorf("bomb: got %d %s, want 413 with a JSON error", resp.StatusCode, rb)
	}
	t.Logf("bomb refused; %d MiB allocated meanwhile", alloc>>20)
	if alloc > bombBound {
		t.Errorf("bomb: %d MiB allocated, want at most %d MiB", alloc>>20, bombBound>>20)
	}
	if env.Mirror.Calls() != before {
		t.Error("the bomb reached the backend")
	}
}

// TestCompressionGRPC: grpc-go clients calling with gzip and zstd.
func TestCompressionGRPC(t *testing.T) {
	env := servertest.StartHostile(t, servertest.Options{})
	msg := append([]byte{0x3a, 0xa0, 0x1f}, bytes.Repeat([]byte("z"), 4000)...) // Thing{text: 4000 z}
	for _, c := range []string{"gzip", "zstd"} {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		cs, err := env.Conn.NewStream(ctx, &unaryDesc, hostile+"Put", grpc.ForceCodecV2(codec.Client{}), grpc.UseCompressor(c))
		if err != nil {
			t.Fatal(err)
		}
		if err := cs.SendMsg(codec.NewFrame(msg)); err != nil {
			t.Fatalf("%s: %v", c, err)
		}
		_ = cs.CloseSend()
		var f codec.Frame
		err = cs.RecvMsg(&f)
		if err != nil || !bytes.Equal(f.Bytes(), msg) {
			t.Errorf("%s: got %d bytes, %v; want the message back", c, len(f.Bytes()), err)
		}
		cancel()
	}
}

// TestCompressionBombGRPC: a gzip message of about 1 MiB expanding to
// 1 GiB, on the gRPC door (raw HTTP/2: no client would compress it), ends
// with RESOURCE_EXHAUSTED once max_body_bytes are decompressed, with
// bounded memory, and is not forwarded.
func TestCompressionBombGRPC(t *testing.T) {
	env := servertest.StartHostile(t, servertest.Options{})
	b := bomb(t)
	frame := make([]byte, 5, 5+len(b))
	frame[0] = 1 // compressed
	binary.BigEndian.PutUint32(frame[1:], uint32(len(b)))
	frame = append(frame, b...)
	tr := &http2.Transport{AllowHTTP: true, DialTLSContext: func(ctx context.Context, network, addr string, _ *tls.Config) (net.Conn, error) {
		var d net.Dialer
		return d.DialContext(ctx, network, addr)
	}}
	t.Cleanup(tr.CloseIdleConnections)
	before := env.Mirror.Calls()
	var grpcStatus string
	alloc := allocatedDuring(func() {
		req, _ := http.NewRequest("POST", "http://"+env.Server.GRPCAddr+"/"+strings.TrimPrefix(hostile, "/")+"Put", bytes.NewReader(frame))
		req.Header.Set("Content-Type", "application/grpc")
		req.Header.Set("Te", "trailers")
		req.Header.Set("Grpc-Encoding", "gzip")
		resp, err := tr.RoundTrip(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		_, _ = io.Copy(io.Discard, resp.Body)
		grpcStatus = resp.Trailer.Get("Grpc-Status")
		if grpcStatus == "" {
			grpcStatus = resp.Header.Get("Grpc-Status") // trailers-only
		}
	})
	if grpcStatus != "8" {
		t.Errorf("bomb: grpc-status %q, want 8 (RESOURCE_EXHAUSTED)", grpcStatus)
	}
	t.Logf("bomb refused; %d MiB allocated meanwhile", alloc>>20)
	if alloc > bombBound {
		t.Errorf("bomb: %d MiB allocated, want at most %d MiB", alloc>>20, bombBound>>20)
	}
	if env.Mirror.Calls() != before {
		t.Error("the bomb reached the backend")
	}
}

// encodingRecorder records the grpc-encoding of the calls a server gets.
type encodingRecorder struct {
	mu  sync.Mutex
	got []string
}

func (e *encodingRecorder) TagRPC(ctx context.Context, _ *stats.RPCTagInfo) context.Context {
	return ctx
}
func (e *encodingRecorder) TagConn(ctx context.Context, _ *stats.ConnTagInfo) context.Context {
	return ctx
}
func (e *encodingRecorder) HandleConn(context.Context, stats.ConnStats) {}
func (e *encodingRecorder) HandleRPC(_ context.Context, s stats.RPCStats) {
	if h, ok := s.(*stats.InHeader); ok {
		e.mu.Lock()
		e.got = append(e.got, h.Compression)
		e.mu.Unlock()
	}
}

// TestCompressionBackends: compression.backends is what the gateway asks
// its gRPC integrations for.
func TestCompressionBackends(t *testing.T) {
	for _, want := range []string{"gzip", "zstd", ""} {
		lis, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		rec := &encodingRecorder{}
		srv := grpc.NewServer(grpc.StatsHandler(rec))
		bookstore.NewServer().Register(srv)
		go srv.Serve(lis)
		t.Cleanup(srv.Stop)
		env := servertest.StartGateway(t, lis.Addr().String(), servertest.Options{Config: func(c *configv1.Config) {
			c.Compression = &configv1.Compression{Backends: want}
		}})
		if code, body := restGet(t, env.URL+"/v1/shelves/1"); code != http.StatusOK {
			t.Fatalf("backends %q: got %d %s", want, code, body)
		}
		rec.mu.Lock()
		got := rec.got
		rec.mu.Unlock()
		if len(got) != 1 || got[0] != want {
			t.Errorf("backends %q: the backend got grpc-encoding %q, want [%q]", want, got, want)
		}
	}
}

// TestCompressionStreamFlushedPerMessage: a bidi NDJSON stream answered
// with gzip still gives the client each message as it is sent: every
// message sent on the request is echoed, decompressed, before the next
// one is sent (a compressor holding data would stall the test).
func TestCompressionStreamFlushedPerMessage(t *testing.T) {
	env := servertest.StartHostile(t, servertest.Options{})
	pr, pw := io.Pipe()
	t.Cleanup(func() { pw.Close() })
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	req, _ := http.NewRequestWithContext(ctx, "POST", env.URL+"/v1/things:chat", pr)
	req.Header.Set("Content-Type", "application/x-ndjson")
	req.Header.Set("Accept-Encoding", "gzip")
	// The body is written as the test goes (an io.Pipe blocks until the
	// gateway reads).
	next := make(chan int, 1)
	go func() {
		for i := range next {
			if _, err := fmt.Fprintf(pw, `{"name":"m%d"}`+"\n", i); err != nil {
				return // the test fails on the missing echo
			}
		}
	}()
	t.Cleanup(func() { close(next) })
	send := func(i int) { next <- i }
	send(0) // the first message opens the stream (it is validated first)
	resp, err := (&http.Transport{DisableCompression: true}).RoundTrip(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if ce := resp.Header.Get("Content-Encoding"); resp.StatusCode != 200 || ce != "gzip" {
		t.Fatalf("got %d with Content-Encoding %q, want 200 gzip", resp.StatusCode, ce)
	}
	gz, err := gzip.NewReader(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	lines := bufio.NewReader(gz)
	const messages = 5
	var slowest time.Duration
	for i := range messages {
		start := time.Now()
		if i > 0 {
			send(i)
		}
		line, err := lines.ReadString('\n')
		if err != nil {
			t.Fatalf("message %d: %v (not flushed?)", i, err)
		}
		if !strings.Contains(line, fmt.Sprintf(`"m%d"`, i)) {
			t.Errorf("message %d: got %q, want its echo", i, line)
		}
		slowest = max(slowest, time.Since(start))
	}
	t.Logf("%d messages, each echoed compressed before the next was sent; slowest round trip %v", messages, slowest)
}
