package webprotocols

import (
	"bytes"
	"encoding/base64"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"testing"
	"testing/iotest"
)

func readText(in string) ([]byte, error) {
	b := &textBody{src: io.NopCloser(iotest.OneByteReader(bytes.NewReader([]byte(in))))}
	return io.ReadAll(b)
}

func TestTextBody(t *testing.T) {
	msg := []byte("\x00\x00\x00\x00\x05hello")
	one := base64.StdEncoding.EncodeToString(msg)
	// Two chunks, each padded, as a client may send them.
	two := base64.StdEncoding.EncodeToString(msg[:4]) + base64.StdEncoding.EncodeToString(msg[4:])
	for _, in := range []string{one, two, ""} {
		got, err := readText(in)
		want := msg
		if in == "" {
			want = nil
		}
		if err != nil || !bytes.Equal(got, want) {
			t.Errorf("%q: got %q, %v, want %q", in, got, err, want)
		}
	}
	for _, in := range []string{"AAA", "A===", "!!!!", "AAAAA"} {
		if _, err := readText(in); !errors.Is(err, errBadBase64) {
			t.Errorf("%q: got %v, want %v", in, err, errBadBase64)
		}
	}
}

func TestTextWriter(t *testing.T) {
	rec := httptest.NewRecorder()
	rec.Header().Set("Content-Type", "application/grpc-web+proto")
	w := &textWriter{ResponseWriter: rec}
	_, _ = w.Write([]byte("ab"))
	_, _ = w.Write([]byte("cde"))
	w.Flush()
	if got, want := rec.Header().Get("Content-Type"), "application/grpc-web-text+proto"; got != want {
		t.Errorf("Content-Type: got %q, want %q", got, want)
	}
	if got, want := rec.Body.String(), "YWI=Y2Rl"; got != want {
		t.Errorf("body: got %q, want %q", got, want)
	}
	if !rec.Flushed {
		t.Errorf("Flush did not reach the connection")
	}
	var _ http.Flusher = w
}
