package bookstore

import (
	"errors"
	"io"

	"google.golang.org/grpc"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/proto"

	bookstorev1 "github.com/portico-gw/portico/gen/example/bookstore/v1"
)

// The streaming methods honour the same metadata as the unary ones
// (x-echo, x-served-by, x-delay, x-fail), applied before the first message.

// WatchBooks sends each book of the shelf named by parent, in id order, then
// returns. Books are those on the shelf when the call starts. It stops with
// the context's status if the call is cancelled.
func (s *Server) WatchBooks(req *bookstorev1.WatchBooksRequest, stream grpc.ServerStreamingServer[bookstorev1.Book]) error {
	if err := s.beginStream(stream); err != nil {
		return err
	}
	shelfID, err := parseShelfName("parent", req.GetParent())
	if err != nil {
		return err
	}
	s.mu.RLock()
	e, ok := s.shelves[shelfID]
	var books []*bookstorev1.Book
	if ok {
		for _, id := range e.bookIDs() {
			books = append(books, proto.CloneOf(e.books[id].book))
		}
	}
	s.mu.RUnlock()
	if !ok {
		return shelfNotFound(shelfID)
	}
	ctx := stream.Context()
	for _, b := range books {
		if err := ctx.Err(); err != nil {
			return status.FromContextError(err).Err()
		}
		if err := stream.Send(b); err != nil {
			return err
		}
	}
	return nil
}

// ImportBooks creates a book for each request received (each naming its own
// parent) and, when the client closes its side, answers with how many were
// created and their names, in order. A request that fails (an unknown or
// malformed parent, a missing book) ends the call with that request's
// status; books created before it stay.
func (s *Server) ImportBooks(stream grpc.ClientStreamingServer[bookstorev1.CreateBookRequest, bookstorev1.ImportBooksResponse]) error {
	if err := s.beginStream(stream); err != nil {
		return err
	}
	resp := &bookstorev1.ImportBooksResponse{Names: []string{}}
	for {
		req, err := stream.Recv()
		if errors.Is(err, io.EOF) {
			return stream.SendAndClose(resp)
		}
		if err != nil {
			return err
		}
		b, err := s.createBook(req)
		if err != nil {
			return err
		}
		resp.Imported++
		resp.Names = append(resp.Names, b.GetName())
	}
}

// LookupBooks answers each request with the book it names, as GetBook would,
// until the client closes its side. A name that names no book ends the
// stream with NotFound.
func (s *Server) LookupBooks(stream grpc.BidiStreamingServer[bookstorev1.GetBookRequest, bookstorev1.Book]) error {
	if err := s.beginStream(stream); err != nil {
		return err
	}
	for {
		req, err := stream.Recv()
		if errors.Is(err, io.EOF) {
			return nil
		}
		if err != nil {
			return err
		}
		b, err := s.getBook(req.GetName())
		if err != nil {
			return err
		}
		if err := stream.Send(b); err != nil {
			return err
		}
	}
}
