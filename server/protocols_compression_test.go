package server_test

// Connect's and gRPC-Web's content encodings with connect-go's client: a
// call sent gzip-compressed is read, and answered gzip-compressed, unary
// and streaming, on both listeners.

import (
	"errors"
	"io"
	"net/http"
	"sync"
	"testing"
	"time"

	"connectrpc.com/connect"
	bookstorev1 "github.com/portico-gw/portico/gen/example/bookstore/v1"
	configv1 "github.com/portico-gw/portico/gen/portico/config/v1"
	"github.com/portico-gw/portico/server/servertest"
)

// encodingsSeen is an HTTP transport that records the coding header of
// each request it sends and of each answer.
type encodingsSeen struct {
	header string // Content-Encoding, Connect-Content-Encoding or Grpc-Encoding
	mu     sync.Mutex
	sent   []string
	got    []string
}

func (e *encodingsSeen) RoundTrip(r *http.Request) (*http.Response, error) {
	e.mu.Lock()
	e.sent = append(e.sent, r.Header.Get(e.header))
	e.mu.Unlock()
	resp, err := http.DefaultTransport.RoundTrip(r)
	if err == nil {
		e.mu.Lock()
		e.got = append(e.got, resp.Header.Get(e.header))
		e.mu.Unlock()
	}
	return resp, err
}

func (e *encodingsSeen) seen() (sent, got []string) {
	e.mu.Lock()
	defer e.mu.Unlock()
	return append([]string(nil), e.sent...), append([]string(nil), e.got...)
}

func TestConnectContentEncodings(t *testing.T) {
	env := servertest.Start(t, servertest.Options{})
	for _, base := range []string{env.URL, "http://" + env.Server.GRPCAddr} {
		for _, tc := range []struct {
			name                  string
			opts                  []connect.ClientOption
			unaryHeader, stHeader string
		}{
			{"connect+proto", nil, "Content-Encoding", "Connect-Content-Encoding"},
			{"connect+json", []connect.ClientOption{connect.WithProtoJSON()}, "Content-Encoding", "Connect-Content-Encoding"},
			{"grpc-web+proto", []connect.ClientOption{connect.WithGRPCWeb()}, "Grpc-Encoding", "Grpc-Encoding"},
		} {
			t.Run(tc.name, func(t *testing.T) {
				opts := append([]connect.ClientOption{connect.WithSendGzip()}, tc.opts...)
				unary := &encodingsSeen{header: tc.unaryHeader}
				cl := connect.NewClient[bookstorev1.GetBookRequest, bookstorev1.Book](
					&http.Client{Transport: unary, Timeout: 10 * time.Second}, base+bookstoreSvc+"GetBook", opts...)
				resp, err := cl.CallUnary(callCtx(t), connect.NewRequest(&bookstorev1.GetBookRequest{Name: "shelves/1/books/1"}))
				if err != nil {
					t.Fatalf("GetBook: %v", err)
				}
				if got := resp.Msg.GetName(); got != "shelves/1/books/1" {
					t.Errorf("GetBook: got %q, want shelves/1/books/1", got)
				}
				wantGzip(t, "GetBook", unary)

				stream := &encodingsSeen{header: tc.stHeader}
				scl := connect.NewClient[bookstorev1.WatchBooksRequest, bookstorev1.Book](
					&http.Client{Transport: stream, Timeout: 10 * time.Second}, base+bookstoreSvc+"WatchBooks", opts...)
				st, err := scl.CallServerStream(callCtx(t), connect.NewRequest(&bookstorev1.WatchBooksRequest{Parent: "shelves/1"}))
				if err != nil {
					t.Fatalf("WatchBooks: %v", err)
				}
				defer st.Close()
				n := 0
				for st.Receive() {
					n++
				}
				if err := st.Err(); (err != nil && !errors.Is(err, io.EOF)) || n != 2 {
					t.Errorf("WatchBooks: got %d books, %v; want 2", n, err)
				}
				wantGzip(t, "WatchBooks", stream)
			})
		}
	}
}

// wantGzip checks that the one call seen was sent and answered with gzip.
func wantGzip(t *testing.T, what string, e *encodingsSeen) {
	t.Helper()
	sent, got := e.seen()
	if len(sent) != 1 || sent[0] != "gzip" {
		t.Errorf("%s: sent %s %q, want [gzip]", what, e.header, sent)
	}
	if len(got) != 1 || got[0] != "gzip" {
		t.Errorf("%s: answered with %s %q, want [gzip]", what, e.header, got)
	}
}

// TestConnectUnaryAnswersCompressed: a Connect unary call sent as it is
// (as browsers send theirs) by a client that accepts gzip is answered
// gzip-compressed once the answer reaches compression.min_bytes, and as
// it is below, on both listeners. Before, its answer was never compressed:
// the gRPC door answers an uncompressed call uncompressed, and the
// translator keeps the door's coding (found by the browser tests).
func TestConnectUnaryAnswersCompressed(t *testing.T) {
	for _, minBytes := range []uint32{1, 1 << 20} {
		env := servertest.Start(t, servertest.Options{Config: func(c *configv1.Config) {
			c.Compression = &configv1.Compression{Algorithms: []string{"gzip"}, MinBytes: proto32(minBytes)}
		}})
		want := "gzip"
		if minBytes > 1 {
			want = ""
		}
		for _, base := range []string{env.URL, "http://" + env.Server.GRPCAddr} {
			for _, tc := range []struct {
				name string
				opts []connect.ClientOption
			}{
				{"connect+json", []connect.ClientOption{connect.WithProtoJSON()}},
				{"connect+proto", nil},
			} {
				seen := &encodingsSeen{header: "Content-Encoding"}
				cl := connect.NewClient[bookstorev1.GetBookRequest, bookstorev1.Book](
					&http.Client{Transport: seen, Timeout: 10 * time.Second}, base+bookstoreSvc+"GetBook", tc.opts...)
				resp, err := cl.CallUnary(callCtx(t), connect.NewRequest(&bookstorev1.GetBookRequest{Name: "shelves/1/books/1"}))
				if err != nil {
					t.Fatalf("%s GetBook (min_bytes %d): %v", tc.name, minBytes, err)
				}
				if got := resp.Msg.GetName(); got != "shelves/1/books/1" {
					t.Errorf("%s GetBook: got %q, want shelves/1/books/1", tc.name, got)
				}
				sent, got := seen.seen()
				if len(sent) != 1 || sent[0] != "" || len(got) != 1 || got[0] != want {
					t.Errorf("%s %s GetBook, min_bytes %d: sent Content-Encoding %q, answered %q; want sent as it is, answered %q",
						base, tc.name, minBytes, sent, got, want)
				}
			}
		}
	}
}
