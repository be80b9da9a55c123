package grpcbackend

// Streaming calls to the backend, the gateway's side played by a fake
// server stream.

import (
	"context"
	"io"
	"slices"
	"sync"
	"testing"

	"github.com/portico-gw/portico/catalog"
	"github.com/portico-gw/portico/examples/bookstore"
	bookstorev1 "github.com/portico-gw/portico/gen/example/bookstore/v1"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/metadata"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/proto"
)

// fakeServerStream is the gateway side of a streaming call: requests come
// from in (closing it is the client's half-close), responses go to out.
type fakeServerStream struct {
	ctx    context.Context
	in     chan proto.Message
	recvFn func() error // when set, RecvMsg returns its error instead
	out    chan proto.Message

	mu      sync.Mutex
	events  []string // "header", "msg" in the order they happened
	header  metadata.MD
	trailer metadata.MD
}

func newFakeServerStream(ctx context.Context) *fakeServerStream {
	return &fakeServerStream{ctx: ctx, in: make(chan proto.Message), out: make(chan proto.Message, 16)}
}

func (s *fakeServerStream) Context() context.Context { return s.ctx }

func (s *fakeServerStream) SetHeader(md metadata.MD) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.header = metadata.Join(s.header, md)
	return nil
}

func (s *fakeServerStream) SendHeader(md metadata.MD) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.header = metadata.Join(s.header, md)
	s.events = append(s.events, "header")
	return nil
}

func (s *fakeServerStream) SetTrailer(md metadata.MD) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.trailer = metadata.Join(s.trailer, md)
}

func (s *fakeServerStream) SendMsg(m any) error {
	s.mu.Lock()
	s.events = append(s.events, "msg")
	s.mu.Unlock()
	s.out <- proto.Clone(m.(proto.Message))
	return nil
}

func (s *fakeServerStream) RecvMsg(m any) error {
	if s.recvFn != nil {
		return s.recvFn()
	}
	select {
	case req, ok := <-s.in:
		if !ok {
			return io.EOF
		}
		proto.Merge(m.(proto.Message), req)
		return nil
	case <-s.ctx.Done():
		return s.ctx.Err()
	}
}

// startStream runs Integration.Stream in the background; the returned
// channel yields its result.
func startStream(e *env, m *catalog.Method, ss *fakeServerStream) <-chan error {
	done := make(chan error, 1)
	go func() { done <- e.integ.Stream(ss.ctx, m, ss) }()
	return done
}

func recvBook(t *testing.T, ss *fakeServerStream) *bookstorev1.Book {
	t.Helper()
	select {
	case m := <-ss.out:
		b, ok := m.(*bookstorev1.Book)
		if !ok {
			t.Fatalf("got message %T, want *bookstorev1.Book", m)
		}
		return b
	case <-ss.ctx.Done():
		t.Fatal("no message before the test deadline")
		return nil
	}
}

func TestStreamBidi(t *testing.T) {
	e := newEnv(t, 0)
	ctx := metadata.NewIncomingContext(testContext(t), metadata.Pairs(bookstore.EchoKey, "hi"))
	ss := newFakeServerStream(ctx)
	done := startStream(e, e.method(t, "LookupBooks"), ss)

	// Each answer arrives before the next request is sent: the call is
	// proxied message by message, not buffered.
	for _, tt := range []struct{ name, title string }{
		{"shelves/1/books/2", "Dune"},
		{"shelves/2/books/1", "A Brief History of Time"},
	} {
		ss.in <- &bookstorev1.GetBookRequest{Name: tt.name}
		b := recvBook(t, ss)
		if b.GetName() != tt.name || b.GetTitle() != tt.title {
			t.Errorf("got %s %q, want %s %q", b.GetName(), b.GetTitle(), tt.name, tt.title)
		}
	}
	close(ss.in)
	if err := <-done; err != nil {
		t.Fatalf("Stream: %v", err)
	}
	ss.mu.Lock()
	defer ss.mu.Unlock()
	if want := []string{"header", "msg", "msg"}; !slices.Equal(ss.events, want) {
		t.Errorf("got events %q, want %q (the header before the first message)", ss.events, want)
	}
	if got := ss.header.Get(bookstore.EchoKey); !slices.Equal(got, []string{"hi"}) {
		t.Errorf("header %s: got %q, want [hi]", bookstore.EchoKey, got)
	}
	if got := ss.trailer.Get(bookstore.ServedByKey); !slices.Equal(got, []string{bookstore.ServedByValue}) {
		t.Errorf("trailer %s: got %q, want [%s]", bookstore.ServedByKey, got, bookstore.ServedByValue)
	}
}

func TestStreamClientStreaming(t *testing.T) {
	e := newEnv(t, 0)
	ss := newFakeServerStream(testContext(t))
	done := startStream(e, e.method(t, "ImportBooks"), ss)
	for _, title := range []string{"Cosmos", "Contact"} {
		ss.in <- &bookstorev1.CreateBookRequest{Parent: "shelves/2", Book: &bookstorev1.Book{Title: title}}
	}
	close(ss.in)
	if err := <-done; err != nil {
		t.Fatalf("Stream: %v", err)
	}
	select {
	case m := <-ss.out:
		want := &bookstorev1.ImportBooksResponse{Imported: 2, Names: []string{"shelves/2/books/2", "shelves/2/books/3"}}
		if !proto.Equal(m, want) {
			t.Errorf("got %v, want %v", m, want)
		}
	default:
		t.Fatal("got no response")
	}
}

func TestStreamBackendError(t *testing.T) {
	e := newEnv(t, 0)
	ss := newFakeServerStream(testContext(t))
	done := startStream(e, e.method(t, "LookupBooks"), ss)
	ss.in <- &bookstorev1.GetBookRequest{Name: "shelves/1/books/1"}
	recvBook(t, ss)
	ss.in <- &bookstorev1.GetBookRequest{Name: "shelves/1/books/99"}
	err := <-done
	if got := status.Code(err); got != codes.NotFound {
		t.Errorf("got %v, want NotFound", err)
	}
	ss.mu.Lock()
	defer ss.mu.Unlock()
	if got := ss.trailer.Get(bookstore.ServedByKey); !slices.Equal(got, []string{bookstore.ServedByValue}) {
		t.Errorf("trailer on error: got %q, want [%s]", got, bookstore.ServedByValue)
	}
}

// TestStreamClientError: a failure reading the client (a bad message, a
// validation error) ends the call with that error, not with the
// cancellation of the backend call it causes.
func TestStreamClientError(t *testing.T) {
	e := newEnv(t, 0)
	ss := newFakeServerStream(testContext(t))
	clientErr := status.Error(codes.InvalidArgument, "invalid request: name: value is required")
	ss.recvFn = func() error { return clientErr }
	err := <-startStream(e, e.method(t, "LookupBooks"), ss)
	if err != clientErr {
		t.Errorf("got %v, want %v", err, clientErr)
	}
}

func TestStreamBackendDown(t *testing.T) {
	e := newEnv(t, 0)
	e.srv.Stop()
	e.lis.Close()
	ss := newFakeServerStream(testContext(t))
	close(ss.in) // the backend stream opens at the first message or the half-close
	err := <-startStream(e, e.method(t, "LookupBooks"), ss)
	st := status.Convert(err)
	if st.Code() != codes.Unavailable || st.Message() != "backend unavailable" {
		t.Errorf("got %v %q, want Unavailable %q", st.Code(), st.Message(), "backend unavailable")
	}
}

// TestStreamBackendUnavailableStatus: as for unary calls, an UNAVAILABLE
// the backend returns on a stream is kept unchanged.
func TestStreamBackendUnavailableStatus(t *testing.T) {
	for _, echo := range []bool{true, false} {
		name := "trailers-only"
		if echo {
			name = "after headers"
		}
		t.Run(name, func(t *testing.T) {
			e := newEnv(t, 0)
			pairs := []string{bookstore.FailKey, "UNAVAILABLE"}
			if echo {
				pairs = append(pairs, bookstore.EchoKey, "x")
			}
			ctx := metadata.NewIncomingContext(testContext(t), metadata.Pairs(pairs...))
			ss := newFakeServerStream(ctx)
			close(ss.in)
			err := <-startStream(e, e.method(t, "LookupBooks"), ss)
			st := status.Convert(err)
			if st.Code() != codes.Unavailable || st.Message() != bookstore.FailMessage {
				t.Errorf("got %v %q, want Unavailable %q", st.Code(), st.Message(), bookstore.FailMessage)
			}
			if len(st.Details()) != 1 {
				t.Errorf("got %d details, want the backend's ErrorInfo", len(st.Details()))
			}
		})
	}
}
