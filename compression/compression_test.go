package compression

import (
	"bufio"
	"bytes"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/klauspost/compress/gzip"
	"github.com/klauspost/compress/zstd"
	configv1 "github.com/portico-gw/portico/gen/portico/config/v1"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/proto"

	"github.com/portico-gw/portico/call"
)

func mustHandler(t *testing.T, c *configv1.Compression, next http.Handler) http.Handler {
	t.Helper()
	comp, err := New(c)
	if err != nil {
		t.Fatal(err)
	}
	h, err := comp.Handler(next, func(w http.ResponseWriter, _ *http.Request, err error) {
		code, _, _ := call.HTTPStatusOf(err)
		http.Error(w, status.Convert(err).Message(), code)
	})
	if err != nil {
		t.Fatal(err)
	}
	return h
}

// answer writes body with content type ct.
func answer(ct, body string) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", ct)
		_, _ = io.WriteString(w, body)
	})
}

func decode(t *testing.T, enc string, body []byte) string {
	t.Helper()
	var r io.Reader
	switch enc {
	case "gzip":
		gz, err := gzip.NewReader(bytes.NewReader(body))
		if err != nil {
			t.Fatalf("gzip: %v", err)
		}
		r = gz
	case "zstd":
		zd, err := zstd.NewReader(bytes.NewReader(body))
		if err != nil {
			t.Fatal(err)
		}
		defer zd.Close()
		r = zd
	default:
		return string(body)
	}
	out, err := io.ReadAll(r)
	if err != nil {
		t.Fatalf("%s: %v", enc, err)
	}
	return string(out)
}

func TestResponseNegotiation(t *testing.T) {
	big := `{"text":"` + strings.Repeat("portico ", 512) + `"}`
	gzipFirst := &configv1.Compression{Algorithms: []string{"gzip", "zstd"}}
	for _, tc := range []struct {
		name, accept, ct, body string
		cfg                    *configv1.Compression
		want                   string // Content-Encoding
	}{
		{"zstd preferred by default", "gzip, zstd", "application/json", big, nil, "zstd"},
		{"gzip only", "gzip", "application/json", big, nil, "gzip"},
		{"config order", "zstd, gzip", "application/json", big, gzipFirst, "gzip"},
		{"nothing the client takes", "br", "application/json", big, nil, ""},
		{"no Accept-Encoding", "", "application/json", big, nil, ""},
		{"under min_bytes", "gzip", "application/json", `{"a":1}`, nil, ""},
		{"min_bytes lowered", "gzip", "application/json", `{"a":1}`, &configv1.Compression{MinBytes: proto.Uint32(1)}, "gzip"},
		{"identity only", "gzip", "application/json", big, &configv1.Compression{Algorithms: []string{"identity"}}, ""},
		{"gRPC-Web frames its own", "gzip", "application/grpc-web+proto", big, nil, ""},
		{"Connect stream frames its own", "gzip", "application/connect+json", big, nil, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			h := mustHandler(t, tc.cfg, answer(tc.ct, tc.body))
			r := httptest.NewRequest("GET", "/", nil)
			if tc.accept != "" {
				r.Header.Set("Accept-Encoding", tc.accept)
			}
			w := httptest.NewRecorder()
			h.ServeHTTP(w, r)
			if got := w.Header().Get("Content-Encoding"); got != tc.want {
				t.Errorf("Content-Encoding: got %q, want %q", got, tc.want)
			}
			if got := decode(t, w.Header().Get("Content-Encoding"), w.Body.Bytes()); got != tc.body {
				t.Errorf("body: got %d bytes, want the %d written", len(got), len(tc.body))
			}
			if cfgAlgs := tc.cfg.GetAlgorithms(); (len(cfgAlgs) == 0 || cfgAlgs[0] != "identity") && !strings.Contains(w.Header().Get("Vary"), "Accept-Encoding") {
				t.Errorf("Vary: got %q, want Accept-Encoding", w.Header().Get("Vary"))
			}
		})
	}
}

// TestStreamFlushedPerMessage: each message of a compressed stream reaches
// the client before the next is written.
func TestStreamFlushedPerMessage(t *testing.T) {
	const messages = 5
	next := make(chan struct{})
	h := mustHandler(t, nil, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/x-ndjson")
		for i := range messages {
			_, _ = io.WriteString(w, `{"n":`+string(rune('0'+i))+`}`+"\n")
			if err := http.NewResponseController(w).Flush(); err != nil {
				t.Errorf("flush: %v", err)
				return
			}
			select {
			case <-next: // the client read the message
			case <-r.Context().Done():
				return
			}
		}
	}))
	srv := httptest.NewServer(h)
	t.Cleanup(srv.Close)
	req, _ := http.NewRequest("GET", srv.URL, nil)
	req.Header.Set("Accept-Encoding", "gzip")
	resp, err := (&http.Transport{DisableCompression: true}).RoundTrip(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if ce := resp.Header.Get("Content-Encoding"); ce != "gzip" {
		t.Fatalf("Content-Encoding: got %q, want gzip", ce)
	}
	gz, err := gzip.NewReader(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	lines := bufio.NewReader(gz)
	for i := range messages {
		line, err := lines.ReadString('\n')
		if err != nil {
			t.Fatalf("message %d: %v (not flushed?)", i, err)
		}
		if want := `{"n":` + string(rune('0'+i)) + "}\n"; line != want {
			t.Errorf("message %d: got %q, want %q", i, line, want)
		}
		next <- struct{}{}
	}
}

func compress(t *testing.T, enc string, data []byte) []byte {
	t.Helper()
	var buf bytes.Buffer
	var w io.WriteCloser
	switch enc {
	case "gzip":
		w = gzip.NewWriter(&buf)
	case "zstd":
		zw, err := zstd.NewWriter(&buf)
		if err != nil {
			t.Fatal(err)
		}
		w = zw
	}
	if _, err := w.Write(data); err != nil {
		t.Fatal(err)
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

func TestRequestDecoding(t *testing.T) {
	const body = `{"name":"compressed"}`
	echo := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Header.Get("Content-Encoding") != "" || r.ContentLength != -1 {
			t.Errorf("next got Content-Encoding %q, length %d: want neither (they described the compressed bytes)", r.Header.Get("Content-Encoding"), r.ContentLength)
		}
		data, err := io.ReadAll(r.Body)
		if err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		_, _ = w.Write(data)
	})
	h := mustHandler(t, nil, echo)
	for _, enc := range []string{"gzip", "zstd", "GZIP"} {
		r := httptest.NewRequest("POST", "/", bytes.NewReader(compress(t, strings.ToLower(enc), []byte(body))))
		r.Header.Set("Content-Encoding", enc)
		w := httptest.NewRecorder()
		h.ServeHTTP(w, r)
		if w.Code != 200 || w.Body.String() != body {
			t.Errorf("%s: got %d %q, want 200 %q", enc, w.Code, w.Body, body)
		}
	}

	r := httptest.NewRequest("POST", "/", strings.NewReader(body))
	r.Header.Set("Content-Encoding", "br")
	w := httptest.NewRecorder()
	h.ServeHTTP(w, r)
	if w.Code != http.StatusUnsupportedMediaType {
		t.Errorf("br: got %d %q, want 415", w.Code, w.Body)
	}

	r = httptest.NewRequest("POST", "/", strings.NewReader("not gzip at all"))
	r.Header.Set("Content-Encoding", "gzip")
	w = httptest.NewRecorder()
	h.ServeHTTP(w, r)
	if w.Code != http.StatusBadRequest {
		t.Errorf("corrupt gzip: got %d %q, want the reader's error (400 here)", w.Code, w.Body)
	}
}

func TestNew(t *testing.T) {
	c, err := New(nil)
	if err != nil {
		t.Fatal(err)
	}
	if got := c.Algorithms(); len(got) != 2 || got[0] != "zstd" || got[1] != "gzip" || c.MinBytes() != 1024 || c.DialOptions() != nil {
		t.Errorf("defaults: got %v, %d, %d dial options, want [zstd gzip], 1024, none", got, c.MinBytes(), len(c.DialOptions()))
	}
	c, err = New(&configv1.Compression{Backends: "gzip"})
	if err != nil || len(c.DialOptions()) != 1 {
		t.Errorf("backends gzip: got %v dial options, %v; want one", c.DialOptions(), err)
	}
	if _, err := New(&configv1.Compression{Algorithms: []string{"gzip", "lz4"}}); err == nil || !strings.Contains(err.Error(), "algorithms[1]") {
		t.Errorf("lz4: got %v, want an error at algorithms[1]", err)
	}
}
