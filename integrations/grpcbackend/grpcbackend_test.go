package grpcbackend

import (
	"context"
	"io"
	"net"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/portico-gw/portico/catalog"
	"github.com/portico-gw/portico/examples/bookstore"
	bookstorev1 "github.com/portico-gw/portico/gen/example/bookstore/v1"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/metadata"
	"google.golang.org/grpc/status"
	"google.golang.org/grpc/test/bufconn"
	"google.golang.org/protobuf/proto"
)

func TestNewEmptyTarget(t *testing.T) {
	_, err := New("books", Options{})
	if err == nil {
		t.Fatal("got nil error, want one for an empty target")
	}
	if want := `integration "books": empty target`; err.Error() != want {
		t.Errorf("got %q, want %q", err, want)
	}
}

func TestNewName(t *testing.T) {
	i, err := New("books", Options{Target: "passthrough:///nowhere"})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { i.Close() })
	if got := i.Name(); got != "books" {
		t.Errorf("got name %q, want books", got)
	}
}

// fakeTransportStream records what grpc.SetHeader / grpc.SetTrailer report
// for a unary call.
type fakeTransportStream struct {
	mu              sync.Mutex
	header, trailer metadata.MD
}

func (s *fakeTransportStream) Method() string { return "/fake/Method" }

func (s *fakeTransportStream) SetHeader(md metadata.MD) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.header = metadata.Join(s.header, md)
	return nil
}

func (s *fakeTransportStream) SendHeader(md metadata.MD) error { return s.SetHeader(md) }

func (s *fakeTransportStream) SetTrailer(md metadata.MD) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.trailer = metadata.Join(s.trailer, md)
	return nil
}

// env is a bookstore backend on a bufconn listener, an integration dialing
// it, and the catalog methods of the bookstore served by the integration.
type env struct {
	store   *bookstore.Server
	integ   *Integration
	methods map[string]*catalog.Method
	lis     *bufconn.Listener
	srv     *grpc.Server
}

func (e *env) method(t *testing.T, name string) *catalog.Method {
	t.Helper()
	m, ok := e.methods["/example.bookstore.v1.BookstoreService/"+name]
	if !ok {
		t.Fatalf("no method %s in the catalog", name)
	}
	return m
}

func newEnv(t *testing.T, timeout time.Duration) *env {
	t.Helper()
	lis := bufconn.Listen(1 << 20)
	store := bookstore.NewServer()
	srv := store.Serve(lis)
	t.Cleanup(srv.Stop)
	integ, err := New("bookstore", Options{
		Target:        "passthrough:///bufnet",
		Timeout:       timeout,
		StreamTimeout: timeout,
		DialOptions: []grpc.DialOption{grpc.WithContextDialer(func(ctx context.Context, _ string) (net.Conn, error) {
			return lis.DialContext(ctx)
		})},
	})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { integ.Close() })
	cat, err := catalog.New(catalog.Options{APIs: []catalog.API{{
		Where:       "apis[0]",
		Services:    []string{"example.bookstore.v1.BookstoreService"},
		Backend:     integ,
		BackendName: "bookstore",
	}}})
	if err != nil {
		t.Fatal(err)
	}
	return &env{store: store, integ: integ, methods: cat.Methods, lis: lis, srv: srv}
}

func testContext(t *testing.T) context.Context {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	t.Cleanup(cancel)
	return ctx
}

func TestUnary(t *testing.T) {
	e := newEnv(t, 0)
	ts := &fakeTransportStream{}
	ctx := grpc.NewContextWithServerTransportStream(testContext(t), ts)
	ctx = metadata.NewIncomingContext(ctx, metadata.Pairs("x-echo", "hello", "x-echo", "again"))
	resp, err := e.integ.Unary(ctx, e.method(t, "GetShelf"), &bookstorev1.GetShelfRequest{Shelf: 1})
	if err != nil {
		t.Fatalf("Unary: %v", err)
	}
	shelf, ok := resp.(*bookstorev1.Shelf)
	if !ok {
		t.Fatalf("got response %T, want *bookstorev1.Shelf", resp)
	}
	if want := (&bookstorev1.Shelf{Id: 1, Theme: "Fiction"}); !proto.Equal(shelf, want) {
		t.Errorf("got %v, want %v", shelf, want)
	}
	ts.mu.Lock()
	defer ts.mu.Unlock()
	if got := ts.header.Get("x-echo"); !slices.Equal(got, []string{"hello", "again"}) {
		t.Errorf("header x-echo: got %q, want [hello again] (incoming metadata forwarded, response header reported)", got)
	}
	if got := ts.trailer.Get(bookstore.ServedByKey); !slices.Equal(got, []string{bookstore.ServedByValue}) {
		t.Errorf("trailer %s: got %q, want [%s]", bookstore.ServedByKey, got, bookstore.ServedByValue)
	}
}

// TestUnaryWithoutTransportStream: a backend's metadata with nowhere to go
// (no server transport stream in ctx) does not fail the call.
func TestUnaryWithoutTransportStream(t *testing.T) {
	e := newEnv(t, 0)
	ctx := metadata.NewIncomingContext(testContext(t), metadata.Pairs("x-echo", "x"))
	resp, err := e.integ.Unary(ctx, e.method(t, "GetShelf"), &bookstorev1.GetShelfRequest{Shelf: 2})
	if err != nil {
		t.Fatalf("Unary: %v", err)
	}
	if got := resp.(*bookstorev1.Shelf).GetTheme(); got != "Science" {
		t.Errorf("got theme %q, want Science", got)
	}
}

// TestUnaryTransportMetadataNotForwarded: keys describing the client's
// connection to the gateway do not reach the backend; the call still
// succeeds (a forwarded content-type or grpc-timeout would confuse it).
func TestUnaryTransportMetadataNotForwarded(t *testing.T) {
	e := newEnv(t, 0)
	ts := &fakeTransportStream{}
	ctx := grpc.NewContextWithServerTransportStream(testContext(t), ts)
	ctx = metadata.NewIncomingContext(ctx, metadata.Pairs(
		":authority", "gateway.example",
		"content-type", "application/grpc+proto",
		"grpc-timeout", "1n",
		"user-agent", "curl/8",
		"x-echo", "kept",
	))
	if _, err := e.integ.Unary(ctx, e.method(t, "GetShelf"), &bookstorev1.GetShelfRequest{Shelf: 1}); err != nil {
		t.Fatalf("Unary: %v", err)
	}
	ts.mu.Lock()
	defer ts.mu.Unlock()
	if got := ts.header.Get("x-echo"); !slices.Equal(got, []string{"kept"}) {
		t.Errorf("header x-echo: got %q, want [kept]", got)
	}
}

func TestUnaryBackendStatus(t *testing.T) {
	e := newEnv(t, 0)
	ctx := metadata.NewIncomingContext(testContext(t), metadata.Pairs("x-echo", "e", bookstore.FailKey, "PERMISSION_DENIED"))
	ctx = grpc.NewContextWithServerTransportStream(ctx, &fakeTransportStream{})
	_, err := e.integ.Unary(ctx, e.method(t, "GetShelf"), &bookstorev1.GetShelfRequest{Shelf: 1})
	st := status.Convert(err)
	if st.Code() != codes.PermissionDenied || st.Message() != bookstore.FailMessage {
		t.Fatalf("got %v %q, want PermissionDenied %q", st.Code(), st.Message(), bookstore.FailMessage)
	}
	if len(st.Details()) != 1 {
		t.Errorf("got %d details, want the backend's ErrorInfo", len(st.Details()))
	}
}

// TestUnaryBackendUnavailableStatus: an UNAVAILABLE the backend itself
// returns is its answer, kept unchanged (message and details), like any
// other backend status.
func TestUnaryBackendUnavailableStatus(t *testing.T) {
	for _, echo := range []bool{true, false} {
		name := "trailers-only"
		if echo {
			name = "after headers"
		}
		t.Run(name, func(t *testing.T) {
			e := newEnv(t, 0)
			pairs := []string{bookstore.FailKey, "UNAVAILABLE"}
			if echo {
				pairs = append(pairs, bookstore.EchoKey, "x") // makes the backend send headers first
			}
			ctx := metadata.NewIncomingContext(testContext(t), metadata.Pairs(pairs...))
			ctx = grpc.NewContextWithServerTransportStream(ctx, &fakeTransportStream{})
			_, err := e.integ.Unary(ctx, e.method(t, "GetShelf"), &bookstorev1.GetShelfRequest{Shelf: 1})
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

// TestUnaryBackendDown: a backend that cannot be reached fails at once with
// a plain UNAVAILABLE that names no address.
func TestUnaryBackendDown(t *testing.T) {
	e := newEnv(t, 0)
	e.srv.Stop()
	e.lis.Close()
	start := time.Now()
	_, err := e.integ.Unary(testContext(t), e.method(t, "GetShelf"), &bookstorev1.GetShelfRequest{Shelf: 1})
	st := status.Convert(err)
	if st.Code() != codes.Unavailable || st.Message() != "backend unavailable" {
		t.Errorf("got %v %q, want Unavailable %q", st.Code(), st.Message(), "backend unavailable")
	}
	if d := time.Since(start); d > 5*time.Second {
		t.Errorf("failing took %v; want an immediate failure (no wait-for-ready)", d)
	}
	if got := e.store.Calls(); got != 0 {
		t.Errorf("got %d backend calls, want 0", got)
	}
}

func TestUnaryTimeout(t *testing.T) {
	tests := []struct {
		name     string
		timeout  time.Duration // the integration's
		deadline time.Duration // the client's, 0 for none
		delay    string        // the backend's x-delay
		wantCode codes.Code
		maxTime  time.Duration
	}{
		{"integration timeout caps a longer client deadline", 100 * time.Millisecond, 20 * time.Second, "10s", codes.DeadlineExceeded, 5 * time.Second},
		{"integration timeout applies without a client deadline", 100 * time.Millisecond, 0, "10s", codes.DeadlineExceeded, 5 * time.Second},
		{"shorter client deadline wins", 20 * time.Second, 100 * time.Millisecond, "10s", codes.DeadlineExceeded, 5 * time.Second},
		{"no timeout at all", 0, 0, "1ms", codes.OK, 10 * time.Second},
		{"call within the timeout", 20 * time.Second, 0, "1ms", codes.OK, 10 * time.Second},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := newEnv(t, tt.timeout)
			ctx := context.Background()
			if tt.deadline > 0 {
				var cancel context.CancelFunc
				ctx, cancel = context.WithTimeout(ctx, tt.deadline)
				t.Cleanup(cancel)
			}
			ctx = metadata.NewIncomingContext(ctx, metadata.Pairs(bookstore.DelayKey, tt.delay))
			start := time.Now()
			_, err := e.integ.Unary(ctx, e.method(t, "GetShelf"), &bookstorev1.GetShelfRequest{Shelf: 1})
			if got := status.Code(err); got != tt.wantCode {
				t.Errorf("got %v (%v), want %v", got, err, tt.wantCode)
			}
			if d := time.Since(start); d > tt.maxTime {
				t.Errorf("call took %v, want under %v", d, tt.maxTime)
			}
			if err == nil && e.store.Calls() != 1 {
				t.Errorf("got %d backend calls, want 1", e.store.Calls())
			}
		})
	}
}

func TestCallContext(t *testing.T) {
	i := &Integration{}

	// Incoming metadata becomes outgoing, filtered.
	in := metadata.NewIncomingContext(context.Background(), metadata.Pairs("x-a", "1", "grpc-timeout", "5S", ":path", "/x"))
	ctx, cancel := i.callContext(in, time.Minute)
	defer cancel()
	out, _ := metadata.FromOutgoingContext(ctx)
	if want := metadata.Pairs("x-a", "1"); len(out) != len(want) || !slices.Equal(out.Get("x-a"), want.Get("x-a")) {
		t.Errorf("outgoing: got %v, want %v", out, want)
	}
	dl, ok := ctx.Deadline()
	if !ok || time.Until(dl) > time.Minute {
		t.Errorf("deadline: got %v (set %v), want within a minute", time.Until(dl), ok)
	}

	// Outgoing metadata already on ctx (say, from the gateway's own client
	// code) does not leak to the backend.
	stale := metadata.AppendToOutgoingContext(context.Background(), "x-stale", "1")
	ctx2, cancel2 := i.callContext(stale, time.Minute)
	defer cancel2()
	if out, _ := metadata.FromOutgoingContext(ctx2); len(out) != 0 {
		t.Errorf("no incoming metadata: got outgoing %v, want none", out)
	}

	// A shorter client deadline is kept as is.
	short, cancelShort := context.WithTimeout(context.Background(), time.Second)
	defer cancelShort()
	want, _ := short.Deadline()
	ctx3, cancel3 := i.callContext(short, time.Minute)
	defer cancel3()
	if got, _ := ctx3.Deadline(); !got.Equal(want) {
		t.Errorf("shorter client deadline: got %v, want %v", got, want)
	}

	// No timeout: no deadline added.
	ctx4, cancel4 := (&Integration{}).callContext(context.Background(), 0)
	defer cancel4()
	if _, ok := ctx4.Deadline(); ok {
		t.Error("zero timeout: got a deadline, want none")
	}
}

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
