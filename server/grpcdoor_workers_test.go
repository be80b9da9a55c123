package server_test

import (
	"errors"
	"io"
	"testing"

	bookstorev1 "github.com/portico-gw/portico/gen/example/bookstore/v1"
	"github.com/portico-gw/portico/server/servertest"
)

// The gRPC door runs calls on a pool of goroutines (grpcdoor's
// streamWorkers, 64): calls beyond it still run at once, each on a
// goroutine of its own. 150 streams are held open together, each having
// had its answer, before any is closed.
func TestGRPCDoorCallsBeyondWorkerPool(t *testing.T) {
	const open = 150
	env := servertest.Start(t, servertest.Options{})
	client := bookstorev1.NewBookstoreServiceClient(env.Conn)
	ctx := ctxT(t)
	var streams []bookstorev1.BookstoreService_LookupBooksClient
	for i := range open {
		s, err := client.LookupBooks(ctx)
		if err != nil {
			t.Fatalf("stream %d: LookupBooks: %v", i, err)
		}
		if err := s.Send(&bookstorev1.GetBookRequest{Name: "shelves/1/books/2"}); err != nil {
			t.Fatalf("stream %d: Send: %v", i, err)
		}
		book, err := s.Recv()
		if err != nil {
			t.Fatalf("stream %d of %d held open: Recv: %v", i+1, open, err)
		}
		if got, want := book.GetTitle(), "Dune"; got != want {
			t.Fatalf("stream %d: title: got %q, want %q", i, got, want)
		}
		streams = append(streams, s)
	}
	for i, s := range streams {
		if err := s.CloseSend(); err != nil {
			t.Fatalf("stream %d: CloseSend: %v", i, err)
		}
		if _, err := s.Recv(); !errors.Is(err, io.EOF) {
			t.Errorf("stream %d: Recv after CloseSend: got %v, want io.EOF", i, err)
		}
	}
}
