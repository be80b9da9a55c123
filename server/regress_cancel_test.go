package server_test

// The finding of issue 14 about a client going away (one test per
// finding, named for it).

import (
	"context"
	"testing"
	"time"

	bookstorev1 "github.com/portico-gw/portico/gen/example/bookstore/v1"
)

// TestRegressCancelReachesBackend (issue 14, point 8): a REST client that
// went away during a call whose request body Portico had not read to its
// end (a body on a route that takes none — grpc-gateway's ExcessBody
// integration tests — or a client or bidi stream the backend was not
// reading) left the backend call running: net/http notices a client going
// away only while the body is read, or once it has been. The backend's
// context now ends within 100 ms of the client leaving, on both doors, for
// unary and streaming calls.
func TestRegressCancelReachesBackend(t *testing.T) {
	b, env := startHoldingBackend(t)
	const within = 100 * time.Millisecond
	rest := []struct {
		name, method string
		req          restCancel
	}{
		{"unary", "GetShelf", restCancel{method: "GET", path: "/v1/shelves/1"}},
		{"unary, a body its route does not take", "DeleteShelf", restCancel{method: "DELETE", path: "/v1/shelves/1", body: "{}"}},
		{"unary, excess after the body", "MoveBook", restCancel{method: "POST", path: "/v1/shelves/1/books/1:move", body: `{"otherShelf":"shelves/2"}.`}},
		{"server stream", "WatchBooks", restCancel{method: "GET", path: "/v1/shelves/1/books:watch"}},
		{"server stream, a body its route does not take", "WatchBooks", restCancel{method: "GET", path: "/v1/shelves/1/books:watch", body: "{}"}},
		{"client stream", "ImportBooks", restCancel{method: "POST", path: "/v1/books:import", body: `{"parent":"shelves/1","book":{"title":"x"}}` + "\n", open: true}},
		{"bidi stream", "LookupBooks", restCancel{method: "POST", path: "/v1/books:lookup", body: `{"name":"shelves/1/books/1"}` + "\n", open: true}},
	}
	for _, tc := range rest {
		t.Run("REST "+tc.name, func(t *testing.T) {
			cancel := tc.req.start(t, env.URL)
			if d := b.cancelled(t, tc.method, cancel); d > within {
				t.Errorf("the backend's context ended %v after the client went away, want within %v", d, within)
			}
		})
	}
	client := bookstorev1.NewBookstoreServiceClient(env.Conn)
	grpcCalls := []struct {
		name, method string
		call         func(ctx context.Context)
	}{
		{"unary", "GetShelf", func(ctx context.Context) { _, _ = client.GetShelf(ctx, &bookstorev1.GetShelfRequest{Shelf: 1}) }},
		{"server stream", "WatchBooks", func(ctx context.Context) {
			if s, err := client.WatchBooks(ctx, &bookstorev1.WatchBooksRequest{Parent: "shelves/1"}); err == nil {
				_, _ = s.Recv()
			}
		}},
		{"client stream", "ImportBooks", func(ctx context.Context) {
			if s, err := client.ImportBooks(ctx); err == nil {
				_ = s.Send(&bookstorev1.CreateBookRequest{Parent: "shelves/1", Book: &bookstorev1.Book{Title: "x"}})
				<-ctx.Done()
			}
		}},
		{"bidi stream", "LookupBooks", func(ctx context.Context) {
			if s, err := client.LookupBooks(ctx); err == nil {
				_ = s.Send(&bookstorev1.GetBookRequest{Name: "shelves/1/books/1"})
				_, _ = s.Recv()
			}
		}},
	}
	for _, tc := range grpcCalls {
		t.Run("gRPC "+tc.name, func(t *testing.T) {
			ctx, cancel := context.WithCancel(context.Background())
			done := make(chan struct{})
			go func() { defer close(done); tc.call(ctx) }()
			t.Cleanup(func() { cancel(); <-done })
			if d := b.cancelled(t, tc.method, cancel); d > within {
				t.Errorf("the backend's context ended %v after the client cancelled, want within %v", d, within)
			}
		})
	}
}
