package bookstore

import (
	"context"
	"fmt"
	"net"
	"testing"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/credentials/insecure"
	healthpb "google.golang.org/grpc/health/grpc_health_v1"
	reflectionpb "google.golang.org/grpc/reflection/grpc_reflection_v1"
	"google.golang.org/grpc/status"
	"google.golang.org/grpc/test/bufconn"
	"google.golang.org/protobuf/encoding/prototext"
	"google.golang.org/protobuf/proto"

	bookstorev1 "github.com/portico-gw/portico/gen/example/bookstore/v1"
)

// dial serves s on a new bufconn listener and returns a client connection
// to it; t.Cleanup stops both.
func dial(t *testing.T, s *Server) *grpc.ClientConn {
	t.Helper()
	lis := bufconn.Listen(1 << 20)
	gs := s.Serve(lis)
	t.Cleanup(gs.Stop)
	return dialListener(t, lis)
}

func dialListener(t *testing.T, lis *bufconn.Listener) *grpc.ClientConn {
	t.Helper()
	conn, err := grpc.NewClient("passthrough:///bufconn",
		grpc.WithContextDialer(func(ctx context.Context, _ string) (net.Conn, error) { return lis.DialContext(ctx) }),
		grpc.WithTransportCredentials(insecure.NewCredentials()),
	)
	if err != nil {
		t.Fatalf("grpc.NewClient: %v", err)
	}
	t.Cleanup(func() { conn.Close() })
	return conn
}

// newTestClient returns a fresh seeded server and a client of it.
func newTestClient(t *testing.T) (*Server, bookstorev1.BookstoreServiceClient) {
	t.Helper()
	s := NewServer()
	return s, bookstorev1.NewBookstoreServiceClient(dial(t, s))
}

// testContext is a context for one test call, with a generous deadline so a
// bug hangs no test for long.
func testContext(t *testing.T) context.Context {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	t.Cleanup(cancel)
	return ctx
}

// wantCode fails the test unless err is a status with code want.
func wantCode(t *testing.T, err error, want codes.Code) {
	t.Helper()
	if got := status.Code(err); got != want {
		t.Fatalf("got code %v (err %v), want %v", got, err, want)
	}
}

// wantProto fails the test unless got equals want.
func wantProto(t *testing.T, got, want proto.Message) {
	t.Helper()
	if !proto.Equal(got, want) {
		t.Fatalf("got %s, want %s", prototext.Format(got), prototext.Format(want))
	}
}

func TestServeHealth(t *testing.T) {
	conn := dial(t, NewServer())
	hc := healthpb.NewHealthClient(conn)
	for _, service := range []string{"", "example.bookstore.v1.BookstoreService"} {
		resp, err := hc.Check(testContext(t), &healthpb.HealthCheckRequest{Service: service})
		if err != nil {
			t.Fatalf("Check(%q): %v", service, err)
		}
		if got, want := resp.GetStatus(), healthpb.HealthCheckResponse_SERVING; got != want {
			t.Errorf("Check(%q) = %v, want %v", service, got, want)
		}
	}
}

func TestServeReflection(t *testing.T) {
	conn := dial(t, NewServer())
	stream, err := reflectionpb.NewServerReflectionClient(conn).ServerReflectionInfo(testContext(t))
	if err != nil {
		t.Fatalf("ServerReflectionInfo: %v", err)
	}
	req := &reflectionpb.ServerReflectionRequest{
		MessageRequest: &reflectionpb.ServerReflectionRequest_ListServices{},
	}
	if err := stream.Send(req); err != nil {
		t.Fatalf("Send: %v", err)
	}
	resp, err := stream.Recv()
	if err != nil {
		t.Fatalf("Recv: %v", err)
	}
	found := map[string]bool{}
	for _, svc := range resp.GetListServicesResponse().GetService() {
		found[svc.GetName()] = true
	}
	for _, want := range []string{"example.bookstore.v1.BookstoreService", "grpc.health.v1.Health"} {
		if !found[want] {
			t.Errorf("reflection lists %v, want it to include %s", found, want)
		}
	}
}

func TestPackageServe(t *testing.T) {
	lis := bufconn.Listen(1 << 20)
	gs := Serve(lis)
	t.Cleanup(gs.Stop)
	c := bookstorev1.NewBookstoreServiceClient(dialListener(t, lis))
	resp, err := c.ListShelves(testContext(t), &bookstorev1.ListShelvesRequest{})
	if err != nil {
		t.Fatalf("ListShelves: %v", err)
	}
	if got, want := len(resp.GetShelves()), 2; got != want {
		t.Errorf("got %d shelves, want %d", got, want)
	}
}

func TestRegister(t *testing.T) {
	lis := bufconn.Listen(1 << 20)
	gs := grpc.NewServer()
	NewServer().Register(gs)
	go gs.Serve(lis)
	t.Cleanup(gs.Stop)
	c := bookstorev1.NewBookstoreServiceClient(dialListener(t, lis))
	b, err := c.GetBook(testContext(t), &bookstorev1.GetBookRequest{Name: "shelves/2/books/1"})
	if err != nil {
		t.Fatalf("GetBook: %v", err)
	}
	if got, want := b.GetTitle(), "A Brief History of Time"; got != want {
		t.Errorf("got title %q, want %q", got, want)
	}
}

func TestCalls(t *testing.T) {
	s, c := newTestClient(t)
	if got := s.Calls(); got != 0 {
		t.Fatalf("Calls() before any call = %d, want 0", got)
	}
	ctx := testContext(t)
	_, _ = c.ListShelves(ctx, &bookstorev1.ListShelvesRequest{})
	_, _ = c.GetShelf(ctx, &bookstorev1.GetShelfRequest{Shelf: 99}) // failed calls count too
	stream, err := c.WatchBooks(ctx, &bookstorev1.WatchBooksRequest{Parent: "shelves/1"})
	if err != nil {
		t.Fatalf("WatchBooks: %v", err)
	}
	for {
		if _, err := stream.Recv(); err != nil {
			break
		}
	}
	// Health checks are not bookstore calls.
	_, _ = healthpb.NewHealthClient(dial(t, s)).Check(ctx, &healthpb.HealthCheckRequest{})
	if got, want := s.Calls(), int64(3); got != want {
		t.Errorf("Calls() = %d, want %d", got, want)
	}
}

func TestSeed(t *testing.T) {
	_, c := newTestClient(t)
	ctx := testContext(t)
	shelves, err := c.ListShelves(ctx, &bookstorev1.ListShelvesRequest{})
	if err != nil {
		t.Fatalf("ListShelves: %v", err)
	}
	wantProto(t, shelves, &bookstorev1.ListShelvesResponse{Shelves: []*bookstorev1.Shelf{
		{Id: 1, Theme: "Fiction"},
		{Id: 2, Theme: "Science"},
	}})
	tests := []struct {
		name, title, author string
		genre               bookstorev1.Genre
	}{
		{"shelves/1/books/1", "The Left Hand of Darkness", "Ursula K. Le Guin", bookstorev1.Genre_GENRE_FICTION},
		{"shelves/1/books/2", "Dune", "Frank Herbert", bookstorev1.Genre_GENRE_FICTION},
		{"shelves/2/books/1", "A Brief History of Time", "Stephen Hawking", bookstorev1.Genre_GENRE_SCIENCE},
	}
	for _, tt := range tests {
		b, err := c.GetBook(ctx, &bookstorev1.GetBookRequest{Name: tt.name})
		if err != nil {
			t.Fatalf("GetBook(%s): %v", tt.name, err)
		}
		if b.GetName() != tt.name || b.GetTitle() != tt.title || b.GetAuthor() != tt.author || b.GetGenre() != tt.genre {
			t.Errorf("GetBook(%s) = %s, want %s by %s, %v", tt.name, prototext.Format(b), tt.title, tt.author, tt.genre)
		}
		if b.GetPublishTime() == nil || b.GetPageCount() == nil || len(b.GetTags()) == 0 {
			t.Errorf("GetBook(%s) = %s, want publish_time, page_count and tags set", tt.name, prototext.Format(b))
		}
	}
}

// TestDirectCall checks that methods work when called without gRPC, as
// benchmarks may do: the metadata that cannot be sent is dropped.
func TestDirectCall(t *testing.T) {
	s := NewServer()
	b, err := s.GetBook(context.Background(), &bookstorev1.GetBookRequest{Name: "shelves/1/books/2"})
	if err != nil {
		t.Fatalf("GetBook: %v", err)
	}
	if got, want := b.GetTitle(), "Dune"; got != want {
		t.Errorf("got title %q, want %q", got, want)
	}
	if got, want := s.Calls(), int64(1); got != want {
		t.Errorf("Calls() = %d, want %d", got, want)
	}
}

// TestConcurrentUse runs writers and readers at once; run with -race.
func TestConcurrentUse(t *testing.T) {
	s, c := newTestClient(t)
	ctx := testContext(t)
	const workers, each = 8, 10
	errs := make(chan error, workers)
	for w := range workers {
		go func() {
			for i := range each {
				book := &bookstorev1.Book{Title: fmt.Sprintf("w%d-%d", w, i)}
				created, err := c.CreateBook(ctx, &bookstorev1.CreateBookRequest{Parent: "shelves/2", Book: book})
				if err != nil {
					errs <- err
					return
				}
				if _, err := c.ListBooks(ctx, &bookstorev1.ListBooksRequest{Parent: "shelves/2"}); err != nil {
					errs <- err
					return
				}
				if _, err := c.UpdateBook(ctx, &bookstorev1.UpdateBookRequest{Book: &bookstorev1.Book{Name: created.GetName(), Title: "x"}}); err != nil {
					errs <- err
					return
				}
			}
			errs <- nil
		}()
	}
	for range workers {
		if err := <-errs; err != nil {
			t.Fatal(err)
		}
	}
	stats, err := c.GetShelfStats(ctx, &bookstorev1.GetShelfStatsRequest{Shelf: 2})
	if err != nil {
		t.Fatalf("GetShelfStats: %v", err)
	}
	if got, want := stats.GetBookCount(), int32(1+workers*each); got != want {
		t.Errorf("got %d books, want %d", got, want)
	}
	if got, want := s.Calls(), int64(3*workers*each+1); got != want {
		t.Errorf("Calls() = %d, want %d", got, want)
	}
}

func ExampleNewServer() {
	s := NewServer()
	b, err := s.GetBook(context.Background(), &bookstorev1.GetBookRequest{Name: "shelves/1/books/2"})
	if err != nil {
		panic(err)
	}
	fmt.Println(b.GetName(), b.GetTitle(), "by", b.GetAuthor())
	// Output: shelves/1/books/2 Dune by Frank Herbert
}
