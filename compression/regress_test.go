package compression

import (
	"io"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/klauspost/compress/gzhttp"
)

// TestRegressTrailersSentAsHeaders: gzhttp holds the status line of a
// short answer until the handler ends, so the trailers a REST answer
// declares (TE: trailers, Grpc-Trailer-*) were sent as headers. An answer
// that declares trailers is sent as it is now, its trailers as trailers.
func TestRegressTrailersSentAsHeaders(t *testing.T) {
	h := mustHandler(t, nil, http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Trailer", "Grpc-Trailer-X-Served-By")
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(http.StatusOK)
		_, _ = io.WriteString(w, `{"id":"1"}`)
		w.Header().Set("Grpc-Trailer-X-Served-By", "bookstore")
	}))
	srv := httptest.NewServer(h)
	t.Cleanup(srv.Close)
	req, _ := http.NewRequest("GET", srv.URL, nil)
	req.Header.Set("Accept-Encoding", "gzip")
	req.Header.Set("TE", "trailers")
	resp, err := srv.Client().Do(req)
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if v := resp.Header.Get("Grpc-Trailer-X-Served-By"); v != "" {
		t.Errorf("the trailer came as a header: %q", v)
	}
	if v := resp.Trailer.Get("Grpc-Trailer-X-Served-By"); v != "bookstore" || string(body) != `{"id":"1"}` {
		t.Errorf("got trailer %q and body %q, want bookstore and the body", v, body)
	}
	if resp.Header.Get(gzhttp.HeaderNoCompression) != "" {
		t.Errorf("gzhttp's marker header reached the client")
	}
}

// TestRegressWriterUsedAfterItsHandler: a door goroutine that outlives its
// handler (a stream's reader ending the call) used gzhttp's writer while
// gzhttp reset it for its pool (a data race, and a nil writer). Such uses
// are ordered before the reset now, and do nothing after it (run with
// -race).
func TestRegressWriterUsedAfterItsHandler(t *testing.T) {
	done := make(chan struct{})
	h := mustHandler(t, nil, http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		started := make(chan struct{})
		go func() {
			defer close(done)
			close(started)
			for range 200 {
				_, _ = w.Write([]byte(`{"a":1}`))
				_ = http.NewResponseController(w).Flush()
			}
		}()
		<-started
	}))
	srv := httptest.NewServer(h)
	t.Cleanup(srv.Close)
	req, _ := http.NewRequest("GET", srv.URL, nil)
	req.Header.Set("Accept-Encoding", "gzip")
	resp, err := srv.Client().Do(req)
	if err != nil {
		t.Fatal(err)
	}
	_, _ = io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	<-done
}
