package compression

import (
	"bytes"
	"io"
	"strings"
	"testing"

	"google.golang.org/grpc/encoding"
)

// TestGRPCCompressors: gzip and zstd are registered with grpc-go by this
// package, and zstd round-trips (its pooled encoders and decoders reused).
func TestGRPCCompressors(t *testing.T) {
	for _, name := range []string{"gzip", "zstd"} {
		c := encoding.GetCompressor(name)
		if c == nil {
			t.Fatalf("%s: not registered with grpc-go", name)
		}
		for i := range 3 {
			msg := strings.Repeat("message "+name, 100*(i+1))
			var buf bytes.Buffer
			w, err := c.Compress(&buf)
			if err != nil {
				t.Fatal(err)
			}
			if _, err := io.WriteString(w, msg); err != nil {
				t.Fatal(err)
			}
			if err := w.Close(); err != nil {
				t.Fatal(err)
			}
			if buf.Len() >= len(msg) {
				t.Errorf("%s: %d bytes compressed to %d", name, len(msg), buf.Len())
			}
			r, err := c.Decompress(&buf)
			if err != nil {
				t.Fatal(err)
			}
			got, err := io.ReadAll(r)
			if err != nil || string(got) != msg {
				t.Errorf("%s round %d: got %d bytes, %v; want the %d sent", name, i, len(got), err, len(msg))
			}
		}
	}
}
