package grpcbackend

import (
	"context"
	"net"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/portico-gw/portico/catalog"
	"github.com/portico-gw/portico/examples/bookstore"
	"google.golang.org/grpc"
	"google.golang.org/grpc/metadata"
	"google.golang.org/grpc/test/bufconn"
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
	return &env{store: store, integ: integ, methods: cat.Methods(), lis: lis, srv: srv}
}

func testContext(t *testing.T) context.Context {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	t.Cleanup(cancel)
	return ctx
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
