package bookstore

import (
	"context"
	"slices"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/emptypb"

	bookstorev1 "github.com/portico-gw/portico/gen/example/bookstore/v1"
)

// ListBooks returns the books of the shelf named by parent, in id order,
// keeping those that match every filter that is set: genre, tags (the book
// has them all), author (exact match), published_after (strictly after; a
// book without publish_time never matches), then at most page_size books
// (0 means all). The other fields are not used as filters. The response's
// request field is a copy of req, so tests can see how the gateway mapped
// the HTTP request.
func (s *Server) ListBooks(ctx context.Context, req *bookstorev1.ListBooksRequest) (*bookstorev1.ListBooksResponse, error) {
	return read(ctx, s, func() (*bookstorev1.ListBooksResponse, error) {
		shelfID, err := parseShelfName("parent", req.GetParent())
		if err != nil {
			return nil, err
		}
		if req.GetPageSize() < 0 {
			return nil, status.Errorf(codes.InvalidArgument, "page_size: must not be negative, got %d", req.GetPageSize())
		}
		e, ok := s.shelves[shelfID]
		if !ok {
			return nil, shelfNotFound(shelfID)
		}
		resp := &bookstorev1.ListBooksResponse{
			Books:   []*bookstorev1.Book{},
			Request: proto.CloneOf(req),
		}
		for _, id := range e.bookIDs() {
			b := e.books[id].book
			if !matches(b, req) {
				continue
			}
			if req.GetPageSize() > 0 && len(resp.Books) == int(req.GetPageSize()) {
				break
			}
			resp.Books = append(resp.Books, proto.CloneOf(b))
		}
		return resp, nil
	})
}

// matches reports whether b passes the filters of req.
func matches(b *bookstorev1.Book, req *bookstorev1.ListBooksRequest) bool {
	if req.GetGenre() != bookstorev1.Genre_GENRE_UNSPECIFIED && b.GetGenre() != req.GetGenre() {
		return false
	}
	for _, t := range req.GetTags() {
		if !slices.Contains(b.GetTags(), t) {
			return false
		}
	}
	if req.GetAuthor() != nil && b.GetAuthor() != req.GetAuthor().GetValue() {
		return false
	}
	if req.GetPublishedAfter() != nil {
		if b.GetPublishTime() == nil || !b.GetPublishTime().AsTime().After(req.GetPublishedAfter().AsTime()) {
			return false
		}
	}
	return true
}

// CreateBook adds req.book to the shelf named by parent and returns it with
// its assigned name, shelves/{shelf}/books/{next}; a name in the request is
// ignored.
func (s *Server) CreateBook(ctx context.Context, req *bookstorev1.CreateBookRequest) (*bookstorev1.Book, error) {
	if err := s.begin(ctx); err != nil {
		return nil, err
	}
	return s.createBook(req)
}

// createBook is CreateBook without the metadata behaviour, shared with
// ImportBooks.
func (s *Server) createBook(req *bookstorev1.CreateBookRequest) (*bookstorev1.Book, error) {
	shelfID, err := parseShelfName("parent", req.GetParent())
	if err != nil {
		return nil, err
	}
	if req.GetBook() == nil {
		return nil, status.Error(codes.InvalidArgument, "book: required")
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	e, ok := s.shelves[shelfID]
	if !ok {
		return nil, shelfNotFound(shelfID)
	}
	b := s.addBook(e, proto.CloneOf(req.GetBook()))
	return proto.CloneOf(b.book), nil
}

// GetBook returns the book called name. Any name that names no book,
// malformed ones included, is NotFound: through the /v1/books/{name=**}
// binding the name arrives as the client wrote it. Only an empty name is
// InvalidArgument.
func (s *Server) GetBook(ctx context.Context, req *bookstorev1.GetBookRequest) (*bookstorev1.Book, error) {
	if err := s.begin(ctx); err != nil {
		return nil, err
	}
	return s.getBook(req.GetName())
}

// getBook is GetBook without the metadata behaviour, shared with
// LookupBooks.
func (s *Server) getBook(name string) (*bookstorev1.Book, error) {
	if name == "" {
		return nil, status.Error(codes.InvalidArgument, "name: required")
	}
	shelfID, bookID, err := parseBookName("name", name)
	if err != nil {
		return nil, bookNotFound(name)
	}
	s.mu.RLock()
	defer s.mu.RUnlock()
	b, ok := s.book(shelfID, bookID)
	if !ok {
		return nil, bookNotFound(name)
	}
	return proto.CloneOf(b.book), nil
}

// DeleteBook removes a book and its cover.
func (s *Server) DeleteBook(ctx context.Context, req *bookstorev1.DeleteBookRequest) (*emptypb.Empty, error) {
	if err := s.begin(ctx); err != nil {
		return nil, err
	}
	shelfID, bookID, err := parseBookName("name", req.GetName())
	if err != nil {
		return nil, err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if _, ok := s.book(shelfID, bookID); !ok {
		return nil, bookNotFound(req.GetName())
	}
	delete(s.shelves[shelfID].books, bookID)
	return &emptypb.Empty{}, nil
}

// MoveBook moves a book, with its cover, to other_shelf, where it gets the
// next free name, and returns it. Moving a book to the shelf it is on
// returns it unchanged.
func (s *Server) MoveBook(ctx context.Context, req *bookstorev1.MoveBookRequest) (*bookstorev1.Book, error) {
	if err := s.begin(ctx); err != nil {
		return nil, err
	}
	shelfID, bookID, err := parseBookName("name", req.GetName())
	if err != nil {
		return nil, err
	}
	toID, err := parseShelfName("other_shelf", req.GetOtherShelf())
	if err != nil {
		return nil, err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	b, ok := s.book(shelfID, bookID)
	if !ok {
		return nil, bookNotFound(req.GetName())
	}
	to, ok := s.shelves[toID]
	if !ok {
		return nil, shelfNotFound(toID)
	}
	if toID == shelfID {
		return proto.CloneOf(b.book), nil
	}
	delete(s.shelves[shelfID].books, bookID)
	moved := s.addBook(to, b.book)
	moved.cover = b.cover
	return proto.CloneOf(moved.book), nil
}

// addBook stores book, which it owns from now on, on shelf e under the next
// free name. The caller holds s.mu (or is NewServer).
func (s *Server) addBook(e *shelfEntry, book *bookstorev1.Book) *bookEntry {
	id := e.nextBook
	e.nextBook++
	book.Name = bookName(e.shelf.GetId(), id)
	b := &bookEntry{book: book}
	e.books[id] = b
	return b
}

// book returns the stored book bookID of shelf shelfID. The caller holds
// s.mu.
func (s *Server) book(shelfID, bookID int64) (*bookEntry, bool) {
	e, ok := s.shelves[shelfID]
	if !ok {
		return nil, false
	}
	b, ok := e.books[bookID]
	return b, ok
}

// bookIDs returns the ids of the shelf's books, ascending, so that
// shelves/1/books/2 comes before shelves/1/books/10. The caller holds s.mu.
func (e *shelfEntry) bookIDs() []int64 {
	ids := make([]int64, 0, len(e.books))
	for id := range e.books {
		ids = append(ids, id)
	}
	slices.Sort(ids)
	return ids
}
