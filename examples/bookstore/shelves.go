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

// ListShelves returns every shelf, in id order.
func (s *Server) ListShelves(ctx context.Context, _ *bookstorev1.ListShelvesRequest) (*bookstorev1.ListShelvesResponse, error) {
	return read(ctx, s, func() (*bookstorev1.ListShelvesResponse, error) {
		resp := &bookstorev1.ListShelvesResponse{Shelves: make([]*bookstorev1.Shelf, 0, len(s.shelves))}
		for _, id := range s.shelfIDs() {
			resp.Shelves = append(resp.Shelves, proto.CloneOf(s.shelves[id].shelf))
		}
		return resp, nil
	})
}

// CreateShelf adds a shelf and returns it. The shelf gets the next free id,
// unless the request sets one: then that id is used, and AlreadyExists is
// returned if it is taken.
func (s *Server) CreateShelf(ctx context.Context, req *bookstorev1.CreateShelfRequest) (*bookstorev1.Shelf, error) {
	if err := s.begin(ctx); err != nil {
		return nil, err
	}
	if req.GetShelf() == nil {
		return nil, status.Error(codes.InvalidArgument, "shelf: required")
	}
	if id := req.GetShelf().GetId(); id < 0 {
		return nil, status.Errorf(codes.InvalidArgument, "shelf.id: must not be negative, got %d", id)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if id := req.GetShelf().GetId(); id != 0 {
		if _, ok := s.shelves[id]; ok {
			return nil, status.Errorf(codes.AlreadyExists, "shelf %q already exists", shelfName(id))
		}
	}
	e := s.addShelf(proto.CloneOf(req.GetShelf()))
	return proto.CloneOf(e.shelf), nil
}

// GetShelf returns one shelf.
func (s *Server) GetShelf(ctx context.Context, req *bookstorev1.GetShelfRequest) (*bookstorev1.Shelf, error) {
	return readShelf(ctx, s, req.GetShelf(), func(e *shelfEntry) *bookstorev1.Shelf {
		return proto.CloneOf(e.shelf)
	})
}

// DeleteShelf removes a shelf and the books on it.
func (s *Server) DeleteShelf(ctx context.Context, req *bookstorev1.DeleteShelfRequest) (*emptypb.Empty, error) {
	if err := s.begin(ctx); err != nil {
		return nil, err
	}
	if err := checkShelfID("shelf", req.GetShelf()); err != nil {
		return nil, err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if _, ok := s.shelves[req.GetShelf()]; !ok {
		return nil, shelfNotFound(req.GetShelf())
	}
	delete(s.shelves, req.GetShelf())
	return &emptypb.Empty{}, nil
}

// GetShelfStats returns the shelf's id and how many books it holds.
func (s *Server) GetShelfStats(ctx context.Context, req *bookstorev1.GetShelfStatsRequest) (*bookstorev1.ShelfStats, error) {
	return readShelf(ctx, s, req.GetShelf(), func(e *shelfEntry) *bookstorev1.ShelfStats {
		return &bookstorev1.ShelfStats{Shelf: req.GetShelf(), BookCount: int32(len(e.books))}
	})
}

// readShelf is read for a method on the shelf id, which the request's
// field shelf holds: f gets the shelf, if there is one.
func readShelf[T any](ctx context.Context, s *Server, id int64, f func(*shelfEntry) T) (T, error) {
	return read(ctx, s, func() (T, error) {
		var none T
		if err := checkShelfID("shelf", id); err != nil {
			return none, err
		}
		e, ok := s.shelves[id]
		if !ok {
			return none, shelfNotFound(id)
		}
		return f(e), nil
	})
}

// Reindex returns the number of books in the store; there is no index to
// rebuild, so full makes no difference.
func (s *Server) Reindex(ctx context.Context, _ *bookstorev1.ReindexRequest) (*bookstorev1.ReindexResponse, error) {
	return read(ctx, s, func() (*bookstorev1.ReindexResponse, error) {
		n := 0
		for _, e := range s.shelves {
			n += len(e.books)
		}
		return &bookstorev1.ReindexResponse{Books: int32(n)}, nil
	})
}

// addShelf stores shelf, which it owns from now on. A zero id is replaced by
// the next free one. The caller holds s.mu (or is NewServer).
func (s *Server) addShelf(shelf *bookstorev1.Shelf) *shelfEntry {
	if shelf.Id == 0 {
		for s.shelves[s.nextShelf] != nil {
			s.nextShelf++
		}
		shelf.Id = s.nextShelf
		s.nextShelf++
	}
	e := &shelfEntry{shelf: shelf, books: make(map[int64]*bookEntry), nextBook: 1}
	s.shelves[shelf.Id] = e
	return e
}

// shelfIDs returns the ids of every shelf, ascending. The caller holds s.mu.
func (s *Server) shelfIDs() []int64 {
	ids := make([]int64, 0, len(s.shelves))
	for id := range s.shelves {
		ids = append(ids, id)
	}
	slices.Sort(ids)
	return ids
}
