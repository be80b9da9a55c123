package httpbackend

// The backend's answer: its status, its streams, and the calls it does
// not answer.

import (
	"context"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/portico-gw/portico/examples/bookstore"
	bookstorev1 "github.com/portico-gw/portico/gen/example/bookstore/v1"
	configv1 "github.com/portico-gw/portico/gen/portico/config/v1"
	"google.golang.org/genproto/googleapis/rpc/errdetails"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/metadata"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/durationpb"
)

// TestBackendStatus: a backend's error answer becomes its gRPC status,
// details kept when it is a gateway's error body; the call's metadata
// reaches the backend as headers, its response headers come back as
// header metadata.
func TestBackendStatus(t *testing.T) {
	rest := startREST(t)
	i, ms, _ := newIntegration(t, rest.URL, nil)
	_, err := i.Unary(testContext(t), method(t, ms, "GetBook"), &bookstorev1.GetBookRequest{Name: "shelves/1/books/99"})
	if st := status.Convert(err); st.Code() != codes.NotFound {
		t.Errorf("missing book: got %v, want NotFound", err)
	}

	ctx := metadata.NewIncomingContext(testContext(t), metadata.Pairs(bookstore.FailKey, "PERMISSION_DENIED", "x-portico-principal", "alice"))
	_, err = i.Unary(ctx, method(t, ms, "GetShelf"), &bookstorev1.GetShelfRequest{Shelf: 1})
	st := status.Convert(err)
	if st.Code() != codes.PermissionDenied || st.Message() != bookstore.FailMessage {
		t.Errorf("got %v %q, want PermissionDenied %q", st.Code(), st.Message(), bookstore.FailMessage)
	}
	if len(st.Details()) != 1 {
		t.Fatalf("got %d details, want the backend's ErrorInfo", len(st.Details()))
	}
	if ei, ok := st.Details()[0].(*errdetails.ErrorInfo); !ok || ei.GetReason() != bookstore.FailReason {
		t.Errorf("got detail %v, want ErrorInfo %s", st.Details()[0], bookstore.FailReason)
	}
	if got := rest.last().Header.Get("X-Portico-Principal"); got != "alice" {
		t.Errorf("backend got X-Portico-Principal %q, want alice (identity metadata passes)", got)
	}

	// Response headers come back as header metadata.
	tr := &headerStream{}
	ctx = grpc.NewContextWithServerTransportStream(metadata.NewIncomingContext(testContext(t), metadata.Pairs(bookstore.EchoKey, "hi")), tr)
	if _, err := i.Unary(ctx, method(t, ms, "GetShelf"), &bookstorev1.GetShelfRequest{Shelf: 1}); err != nil {
		t.Fatal(err)
	}
	if got := tr.header.Get(bookstore.EchoKey); len(got) != 1 || got[0] != "hi" {
		t.Errorf("got header metadata %v, want x-echo: hi (the gateway's Grpc-Metadata-X-Echo)", tr.header)
	}
	if got := tr.header.Get("content-type"); len(got) != 0 {
		t.Errorf("got content-type %q in the metadata, want it dropped", got)
	}
}

// headerStream records grpc.SetHeader.
type headerStream struct {
	header metadata.MD
}

func (s *headerStream) Method() string { return "/x/y" }
func (s *headerStream) SetHeader(md metadata.MD) error {
	s.header = metadata.Join(s.header, md)
	return nil
}
func (s *headerStream) SendHeader(md metadata.MD) error { return s.SetHeader(md) }
func (s *headerStream) SetTrailer(metadata.MD) error    { return nil }

// TestServerStream: a server stream is read from grpc-gateway's
// newline-delimited results.
func TestServerStream(t *testing.T) {
	rest := startREST(t)
	i, ms, _ := newIntegration(t, rest.URL, nil)
	ss := &collectStream{ctx: testContext(t), in: &bookstorev1.WatchBooksRequest{Parent: "shelves/1"}}
	if err := i.Stream(ss.ctx, method(t, ms, "WatchBooks"), ss); err != nil {
		t.Fatalf("Stream: %v", err)
	}
	if len(ss.out) != 2 || ss.out[1].(*bookstorev1.Book).GetTitle() != "Dune" {
		t.Errorf("got %v, want the two books of shelf 1", ss.out)
	}
	ss = &collectStream{ctx: testContext(t), in: &bookstorev1.WatchBooksRequest{Parent: "shelves/9"}}
	if err := i.Stream(ss.ctx, method(t, ms, "WatchBooks"), ss); status.Code(err) != codes.NotFound {
		t.Errorf("missing shelf: got %v, want NotFound", err)
	}
}

type collectStream struct {
	grpc.ServerStream
	ctx  context.Context
	in   proto.Message
	out  []proto.Message
	read bool
}

func (s *collectStream) Context() context.Context    { return s.ctx }
func (s *collectStream) SetHeader(metadata.MD) error { return nil }
func (s *collectStream) SendMsg(m any) error         { s.out = append(s.out, m.(proto.Message)); return nil }
func (s *collectStream) RecvMsg(m any) error {
	if s.read {
		return io.EOF
	}
	s.read = true
	proto.Merge(m.(proto.Message), s.in)
	return nil
}

// TestStatusMapping: HTTP statuses of plain HTTP backends map to codes;
// a body that looks like a gateway's error but disagrees with the HTTP
// status is not trusted.
func TestStatusMapping(t *testing.T) {
	tests := []struct {
		status   int
		body     string
		wantCode codes.Code
		wantMsg  string
	}{
		{404, "not here", codes.NotFound, "Not Found"},
		{409, "", codes.Aborted, "Conflict"},
		{429, "", codes.ResourceExhausted, "Too Many Requests"},
		{503, "", codes.Unavailable, "Service Unavailable"},
		{504, "", codes.DeadlineExceeded, "Gateway Timeout"},
		{418, "", codes.FailedPrecondition, "I'm a teapot"},
		{302, "", codes.Unknown, "Found"},
		{400, `{"type":"about:blank","title":"Bad","detail":"page_size too big","status":400}`, codes.InvalidArgument, "page_size too big"},
		{404, `{"error":{"code":404,"message":"no such thing","status":"NOT_FOUND"}}`, codes.NotFound, "no such thing"},
		{500, `{"code":5,"message":"app error 5"}`, codes.Internal, "Internal Server Error"},
		{404, `{"code":5,"message":"shelf 9"}`, codes.NotFound, "shelf 9"},
	}
	for _, tt := range tests {
		srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Location", "http://elsewhere.example/")
			w.WriteHeader(tt.status)
			io.WriteString(w, tt.body)
		}))
		i, ms, _ := newIntegration(t, srv.URL, nil)
		_, err := i.Unary(testContext(t), method(t, ms, "GetShelf"), &bookstorev1.GetShelfRequest{Shelf: 1})
		st := status.Convert(err)
		if st.Code() != tt.wantCode || st.Message() != tt.wantMsg {
			t.Errorf("HTTP %d %s: got %v %q, want %v %q", tt.status, tt.body, st.Code(), st.Message(), tt.wantCode, tt.wantMsg)
		}
		srv.Close()
	}
}

// TestBackendDownAndSlow: a backend that cannot be reached is the plain
// UNAVAILABLE; one slower than the timeout is DEADLINE_EXCEEDED; a bad
// answer is INTERNAL.
func TestBackendDownAndSlow(t *testing.T) {
	lis, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := lis.Addr().String()
	lis.Close()
	i, ms, _ := newIntegration(t, "http://"+addr, nil)
	_, err = i.Unary(testContext(t), method(t, ms, "GetShelf"), &bookstorev1.GetShelfRequest{Shelf: 1})
	if st := status.Convert(err); st.Code() != codes.Unavailable || st.Message() != "backend unavailable" {
		t.Errorf("down: got %v %q, want Unavailable %q", st.Code(), st.Message(), "backend unavailable")
	}

	release := make(chan struct{})
	slow := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		select {
		case <-release:
		case <-r.Context().Done():
		}
	}))
	t.Cleanup(slow.Close)
	t.Cleanup(func() { close(release) })
	i, ms, _ = newIntegration(t, slow.URL, &configv1.HttpIntegration{Timeout: durationpb.New(100 * time.Millisecond)})
	_, err = i.Unary(testContext(t), method(t, ms, "GetShelf"), &bookstorev1.GetShelfRequest{Shelf: 1})
	if status.Code(err) != codes.DeadlineExceeded {
		t.Errorf("slow: got %v, want DeadlineExceeded", err)
	}

	bad := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { io.WriteString(w, `{"id": "x"}`) }))
	t.Cleanup(bad.Close)
	i, ms, _ = newIntegration(t, bad.URL, nil)
	_, err = i.Unary(testContext(t), method(t, ms, "GetShelf"), &bookstorev1.GetShelfRequest{Shelf: 1})
	if st := status.Convert(err); st.Code() != codes.Internal || !strings.Contains(st.Message(), "not a example.bookstore.v1.Shelf") {
		t.Errorf("bad answer: got %v, want Internal", err)
	}
}
