// Package bookstore is the in-memory backend of Portico's example API,
// example.bookstore.v1.BookstoreService. The gateway's demo, tests and
// benchmarks run it behind Portico.
//
// Besides the API itself, every method honours three request metadata keys
// that let gateway tests provoke backend behaviour (see metadata.go):
// x-echo (echoed back as a response header), x-fail (forces a status code)
// and x-delay (sleeps before answering). Every response carries the trailer
// x-served-by: bookstore.
package bookstore

import (
	"context"
	"net"
	"sync"
	"sync/atomic"

	"google.golang.org/genproto/googleapis/api/httpbody"
	"google.golang.org/grpc"
	"google.golang.org/grpc/health"
	healthpb "google.golang.org/grpc/health/grpc_health_v1"
	"google.golang.org/grpc/reflection"

	bookstorev1 "github.com/portico-gw/portico/gen/example/bookstore/v1"
)

// Server is an in-memory BookstoreService. Safe for concurrent use.
//
// Its methods may also be called directly, without gRPC, for example from
// benchmarks; header and trailer metadata are then silently dropped.
type Server struct {
	bookstorev1.UnimplementedBookstoreServiceServer

	calls atomic.Int64

	mu        sync.RWMutex
	shelves   map[int64]*shelfEntry
	nextShelf int64
}

// shelfEntry is a shelf and the books on it. Guarded by Server.mu.
type shelfEntry struct {
	shelf    *bookstorev1.Shelf
	books    map[int64]*bookEntry
	nextBook int64
}

// bookEntry is a stored book and its cover, if one was uploaded. Guarded by
// Server.mu.
type bookEntry struct {
	book  *bookstorev1.Book
	cover *httpbody.HttpBody
}

// read begins a call (see beginWith), then runs f under the read lock:
// every method that only reads the store.
func read[T any](ctx context.Context, s *Server, f func() (T, error)) (T, error) {
	if err := s.begin(ctx); err != nil {
		var none T
		return none, err
	}
	s.mu.RLock()
	defer s.mu.RUnlock()
	return f()
}

// NewServer returns a store seeded with sample data: shelf 1 "Fiction"
// holding "The Left Hand of Darkness" (shelves/1/books/1) and "Dune"
// (shelves/1/books/2), and shelf 2 "Science" holding "A Brief History of
// Time" (shelves/2/books/1). See seed.go for every field.
func NewServer() *Server {
	s := &Server{shelves: make(map[int64]*shelfEntry), nextShelf: 1}
	s.seed()
	return s
}

// Register registers the service on r (a *grpc.Server or any
// grpc.ServiceRegistrar).
func (s *Server) Register(r grpc.ServiceRegistrar) {
	bookstorev1.RegisterBookstoreServiceServer(r, s)
}

// Calls returns the number of BookstoreService RPCs received so far, failed
// ones included. Health checks and reflection are not counted.
func (s *Server) Calls() int64 {
	return s.calls.Load()
}

// Serve starts a grpc.Server for a new, seeded bookstore on lis, with the
// health service (grpc.health.v1) reporting SERVING and server reflection,
// and returns it; the caller stops it.
func Serve(lis net.Listener) *grpc.Server {
	return NewServer().Serve(lis)
}

// Serve starts a grpc.Server for s on lis, built with opts, with the health
// service (grpc.health.v1) reporting SERVING for the whole server and for
// example.bookstore.v1.BookstoreService, and server reflection. It returns
// at once; the caller stops the server.
func (s *Server) Serve(lis net.Listener, opts ...grpc.ServerOption) *grpc.Server {
	gs := grpc.NewServer(opts...)
	s.Register(gs)
	hs := health.NewServer()
	hs.SetServingStatus("", healthpb.HealthCheckResponse_SERVING)
	hs.SetServingStatus(bookstorev1.BookstoreService_ServiceDesc.ServiceName, healthpb.HealthCheckResponse_SERVING)
	healthpb.RegisterHealthServer(gs, hs)
	reflection.Register(gs)
	go func() {
		// Serve returns when the caller stops gs; a listener error leaves
		// the server unreachable, which the caller sees on its first call.
		_ = gs.Serve(lis)
	}()
	return gs
}
