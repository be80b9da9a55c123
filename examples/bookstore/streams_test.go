package bookstore

import (
	"context"
	"errors"
	"io"
	"slices"
	"testing"

	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/metadata"

	bookstorev1 "github.com/portico-gw/portico/gen/example/bookstore/v1"
)

func TestWatchBooks(t *testing.T) {
	_, c := newTestClient(t)
	ctx := testContext(t)
	// Ten more books, so that id order (books/10 after books/9) is visible.
	for range 10 {
		if _, err := c.CreateBook(ctx, &bookstorev1.CreateBookRequest{Parent: "shelves/1", Book: &bookstorev1.Book{Title: "t"}}); err != nil {
			t.Fatalf("CreateBook: %v", err)
		}
	}
	stream, err := c.WatchBooks(ctx, &bookstorev1.WatchBooksRequest{Parent: "shelves/1"})
	if err != nil {
		t.Fatalf("WatchBooks: %v", err)
	}
	var got []string
	for {
		b, err := stream.Recv()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			t.Fatalf("Recv: %v", err)
		}
		got = append(got, b.GetName())
	}
	var want []string
	for i := range 12 {
		want = append(want, bookName(1, int64(i+1)))
	}
	if !slices.Equal(got, want) {
		t.Errorf("got %q, want %q", got, want)
	}
}

func TestWatchBooksErrors(t *testing.T) {
	_, c := newTestClient(t)
	tests := []struct {
		parent string
		want   codes.Code
	}{
		{"shelves/9", codes.NotFound},
		{"shelves", codes.InvalidArgument},
	}
	for _, tt := range tests {
		stream, err := c.WatchBooks(testContext(t), &bookstorev1.WatchBooksRequest{Parent: tt.parent})
		if err != nil {
			t.Fatalf("WatchBooks: %v", err)
		}
		_, err = stream.Recv()
		wantCode(t, err, tt.want)
	}
}

// cancellingStream is a WatchBooks stream whose call is cancelled once it
// has sent one book.
type cancellingStream struct {
	grpc.ServerStream // nil: only the methods below are used
	ctx               context.Context
	cancel            context.CancelFunc
	sent              []*bookstorev1.Book
}

func (s *cancellingStream) Context() context.Context    { return s.ctx }
func (s *cancellingStream) SetHeader(metadata.MD) error { return nil }
func (s *cancellingStream) SetTrailer(metadata.MD)      {}
func (s *cancellingStream) Send(b *bookstorev1.Book) error {
	s.sent = append(s.sent, b)
	s.cancel()
	return nil
}

func TestWatchBooksStopsWhenCancelled(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	t.Cleanup(cancel)
	stream := &cancellingStream{ctx: ctx, cancel: cancel}
	err := NewServer().WatchBooks(&bookstorev1.WatchBooksRequest{Parent: "shelves/1"}, stream)
	wantCode(t, err, codes.Canceled)
	if got := len(stream.sent); got != 1 {
		t.Errorf("sent %d books after cancellation, want 1", got)
	}
}

func TestImportBooks(t *testing.T) {
	_, c := newTestClient(t)
	ctx := testContext(t)
	stream, err := c.ImportBooks(ctx)
	if err != nil {
		t.Fatalf("ImportBooks: %v", err)
	}
	for _, req := range []*bookstorev1.CreateBookRequest{
		{Parent: "shelves/1", Book: &bookstorev1.Book{Title: "A"}},
		{Parent: "shelves/2", Book: &bookstorev1.Book{Title: "B"}},
		{Parent: "shelves/1", Book: &bookstorev1.Book{Title: "C"}},
	} {
		if err := stream.Send(req); err != nil {
			t.Fatalf("Send: %v", err)
		}
	}
	resp, err := stream.CloseAndRecv()
	if err != nil {
		t.Fatalf("CloseAndRecv: %v", err)
	}
	wantProto(t, resp, &bookstorev1.ImportBooksResponse{
		Imported: 3,
		Names:    []string{"shelves/1/books/3", "shelves/2/books/2", "shelves/1/books/4"},
	})
	b, err := c.GetBook(ctx, &bookstorev1.GetBookRequest{Name: "shelves/2/books/2"})
	if err != nil {
		t.Fatalf("GetBook: %v", err)
	}
	if got, want := b.GetTitle(), "B"; got != want {
		t.Errorf("got title %q, want %q", got, want)
	}
}

func TestImportBooksEmpty(t *testing.T) {
	_, c := newTestClient(t)
	stream, err := c.ImportBooks(testContext(t))
	if err != nil {
		t.Fatalf("ImportBooks: %v", err)
	}
	resp, err := stream.CloseAndRecv()
	if err != nil {
		t.Fatalf("CloseAndRecv: %v", err)
	}
	wantProto(t, resp, &bookstorev1.ImportBooksResponse{})
}

func TestImportBooksUnknownShelf(t *testing.T) {
	_, c := newTestClient(t)
	ctx := testContext(t)
	stream, err := c.ImportBooks(ctx)
	if err != nil {
		t.Fatalf("ImportBooks: %v", err)
	}
	// The server may fail the call before the client has sent everything;
	// Send then reports io.EOF and CloseAndRecv has the status.
	for _, req := range []*bookstorev1.CreateBookRequest{
		{Parent: "shelves/1", Book: &bookstorev1.Book{Title: "A"}},
		{Parent: "shelves/9", Book: &bookstorev1.Book{Title: "B"}},
		{Parent: "shelves/1", Book: &bookstorev1.Book{Title: "C"}},
	} {
		if err := stream.Send(req); err != nil {
			break
		}
	}
	_, err = stream.CloseAndRecv()
	wantCode(t, err, codes.NotFound)
	// The book before the failure stays; the one after it was not created.
	stats, err := c.GetShelfStats(ctx, &bookstorev1.GetShelfStatsRequest{Shelf: 1})
	if err != nil {
		t.Fatalf("GetShelfStats: %v", err)
	}
	if got, want := stats.GetBookCount(), int32(3); got != want {
		t.Errorf("shelf 1 has %d books, want %d", got, want)
	}
}

func TestLookupBooks(t *testing.T) {
	_, c := newTestClient(t)
	stream, err := c.LookupBooks(testContext(t))
	if err != nil {
		t.Fatalf("LookupBooks: %v", err)
	}
	// One request at a time: each answer comes before the next request.
	for _, tt := range []struct{ name, title string }{
		{"shelves/1/books/2", "Dune"},
		{"shelves/2/books/1", "A Brief History of Time"},
		{"shelves/1/books/2", "Dune"},
	} {
		if err := stream.Send(&bookstorev1.GetBookRequest{Name: tt.name}); err != nil {
			t.Fatalf("Send: %v", err)
		}
		b, err := stream.Recv()
		if err != nil {
			t.Fatalf("Recv: %v", err)
		}
		if b.GetName() != tt.name || b.GetTitle() != tt.title {
			t.Errorf("got %s %q, want %s %q", b.GetName(), b.GetTitle(), tt.name, tt.title)
		}
	}
	if err := stream.CloseSend(); err != nil {
		t.Fatalf("CloseSend: %v", err)
	}
	if _, err := stream.Recv(); !errors.Is(err, io.EOF) {
		t.Errorf("Recv after CloseSend: got %v, want io.EOF", err)
	}
}

func TestLookupBooksNotFound(t *testing.T) {
	_, c := newTestClient(t)
	stream, err := c.LookupBooks(testContext(t))
	if err != nil {
		t.Fatalf("LookupBooks: %v", err)
	}
	for _, name := range []string{"shelves/1/books/1", "shelves/1/books/99"} {
		if err := stream.Send(&bookstorev1.GetBookRequest{Name: name}); err != nil {
			t.Fatalf("Send: %v", err)
		}
	}
	if _, err := stream.Recv(); err != nil {
		t.Fatalf("first Recv: %v", err)
	}
	_, err = stream.Recv()
	wantCode(t, err, codes.NotFound)
}
