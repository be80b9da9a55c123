package webprotocols

import (
	"bytes"
	"encoding/binary"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/portico-gw/portico/catalog"
	"github.com/portico-gw/portico/codec"
	bookstorev1 "github.com/portico-gw/portico/gen/example/bookstore/v1"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/metadata"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/proto"
)

// noBackend is never called: the edge hands calls to the gRPC door.
type noBackend struct{ catalog.Backend }

const getBook = "/example.bookstore.v1.BookstoreService/GetBook"

func bookstoreEdge(t *testing.T, o Options) *Edge {
	t.Helper()
	cat, err := catalog.New(catalog.Options{APIs: []catalog.API{{Where: "apis[0]", Services: []string{"example.bookstore.v1.BookstoreService"}, Backend: noBackend{}}}})
	if err != nil {
		t.Fatal(err)
	}
	o.MaxMessageBytes = 1 << 20
	o.OnError = func(w http.ResponseWriter, _ *http.Request, err error) {
		http.Error(w, err.Error(), http.StatusBadRequest)
	}
	e, err := New(cat, nil, o)
	if err != nil {
		t.Fatal(err)
	}
	return e
}

// entries counts which way calls went: vanguard's target (the gRPC
// door's grpc.Server) or the direct entry, which answers GetBook with the
// book the request names, echoing its metadata x-echo as a header.
type entries struct{ vanguard, direct int }

func (n *entries) serve(e *Edge, r *http.Request) *httptest.ResponseRecorder {
	ctx := WithTarget(r.Context(), http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		n.vanguard++
		w.Header().Set("Content-Type", "application/grpc")
		w.Header().Set("Grpc-Status", "12")
	}))
	ctx = WithDirect(ctx, func(s Stream) {
		n.direct++
		var f codec.Frame
		err := s.RecvMsg(&f)
		var req bookstorev1.GetBookRequest
		if err == nil {
			err = proto.Unmarshal(f.Bytes(), &req)
		}
		if err == nil {
			md, _ := metadata.FromIncomingContext(s.Context())
			_ = s.SetHeader(metadata.Pairs("x-echo", strings.Join(md.Get("x-echo"), ",")))
			s.SetTrailer(metadata.Pairs("x-served-by", "test"))
			err = s.SendMsg(&bookstorev1.Book{Name: req.GetName(), Title: "T"})
		}
		if s.Method() != getBook || s.TransportStream().Method() != getBook {
			err = status.Errorf(codes.Internal, "method %q", s.Method())
		}
		s.End(err)
	})
	w := httptest.NewRecorder()
	e.Handler(http.NotFoundHandler()).ServeHTTP(w, r.WithContext(ctx))
	return w
}

func frame(flags byte, b []byte) []byte {
	out := make([]byte, 5, 5+len(b))
	out[0] = flags
	binary.BigEndian.PutUint32(out[1:], uint32(len(b)))
	return append(out, b...)
}

// TestDirectPathTaken: unary Connect and gRPC-Web calls reach the direct
// entry and never vanguard; a stream, a GET, a compressed body and
// gRPC-Web +json go to vanguard; with VanguardOnly everything does.
func TestDirectPathTaken(t *testing.T) {
	msg, _ := proto.Marshal(&bookstorev1.GetBookRequest{Name: "shelves/1/books/1"})
	req := func(method, path, ct string, body []byte, h ...string) *http.Request {
		r := httptest.NewRequest(method, path, bytes.NewReader(body))
		if ct != "" {
			r.Header.Set("Content-Type", ct)
		}
		for i := 0; i+1 < len(h); i += 2 {
			r.Header.Set(h[i], h[i+1])
		}
		return r
	}
	direct := []*http.Request{
		req("POST", getBook, "application/json", []byte(`{"name":"shelves/1/books/1"}`), "Connect-Protocol-Version", "1", "X-Echo", "e"),
		req("POST", getBook, "application/proto", msg, "Connect-Protocol-Version", "1", "X-Echo", "e"),
		req("POST", getBook, "application/grpc-web+proto", frame(0, msg), "X-Echo", "e"),
		req("POST", getBook, "Application/GRPC-Web", frame(0, msg), "X-Echo", "e"),
	}
	viaVanguard := []*http.Request{
		req("POST", "/example.bookstore.v1.BookstoreService/WatchBooks", "application/grpc-web+proto", frame(0, nil)),
		req("POST", "/example.bookstore.v1.BookstoreService/WatchBooks", "application/connect+json", frame(0, []byte("{}"))),
		req("GET", getBook+"?connect=v1&encoding=json&message=%7B%7D", "", nil),
		req("POST", getBook, "application/json", []byte(`{}`), "Connect-Protocol-Version", "1", "Content-Encoding", "gzip"),
		req("POST", getBook, "application/grpc-web+json", frame(0, []byte("{}"))),
		req("POST", getBook, "application/grpc-web+proto", frame(1, msg), "Grpc-Encoding", "gzip"),
	}
	e := bookstoreEdge(t, Options{})
	for _, r := range direct {
		var n entries
		w := n.serve(e, r)
		if n.direct != 1 || n.vanguard != 0 {
			t.Errorf("%s %s: got %d direct, %d through vanguard; want 1, 0", r.Header.Get("Content-Type"), r.URL, n.direct, n.vanguard)
		}
		if w.Code != http.StatusOK || !strings.Contains(w.Body.String(), "shelves/1/books/1") || w.Header().Get("X-Echo") != "e" {
			t.Errorf("%s: got %d %v %q, want 200 with the book and X-Echo: e", r.Header.Get("Content-Type"), w.Code, w.Header(), w.Body)
		}
	}
	for _, r := range viaVanguard {
		var n entries
		n.serve(e, r)
		if n.direct != 0 {
			t.Errorf("%s %s %s: served on the direct path, want vanguard", r.Method, r.Header.Get("Content-Type"), r.URL)
		}
	}
	off := bookstoreEdge(t, Options{VanguardOnly: true})
	for _, r := range direct[:1] {
		r = req("POST", getBook, "application/proto", msg, "Connect-Protocol-Version", "1")
		var n entries
		n.serve(off, r)
		if n.direct != 0 || n.vanguard != 1 {
			t.Errorf("VanguardOnly: got %d direct, %d through vanguard; want 0, 1", n.direct, n.vanguard)
		}
	}
}
