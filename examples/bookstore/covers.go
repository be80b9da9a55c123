package bookstore

import (
	"context"

	"google.golang.org/genproto/googleapis/api/httpbody"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/emptypb"

	bookstorev1 "github.com/portico-gw/portico/gen/example/bookstore/v1"
)

// pngSignature is the 8-byte signature every PNG file starts with.
var pngSignature = []byte{0x89, 'P', 'N', 'G', '\r', '\n', 0x1a, '\n'}

// GetBookCover returns the book's cover: the one uploaded last, or else a
// placeholder of content type image/png whose data is the PNG signature
// followed by the book's name (not a decodable image, but stable and
// recognisable in tests).
func (s *Server) GetBookCover(ctx context.Context, req *bookstorev1.GetBookCoverRequest) (*httpbody.HttpBody, error) {
	if err := s.begin(ctx); err != nil {
		return nil, err
	}
	shelfID, bookID, err := parseBookName("name", req.GetName())
	if err != nil {
		return nil, err
	}
	s.mu.RLock()
	defer s.mu.RUnlock()
	b, ok := s.book(shelfID, bookID)
	if !ok {
		return nil, bookNotFound(req.GetName())
	}
	if b.cover != nil {
		return proto.CloneOf(b.cover), nil
	}
	return placeholderCover(b.book.GetName()), nil
}

// placeholderCover is the cover of a book that has none.
func placeholderCover(name string) *httpbody.HttpBody {
	data := make([]byte, 0, len(pngSignature)+len(name))
	data = append(data, pngSignature...)
	data = append(data, name...)
	return &httpbody.HttpBody{ContentType: "image/png", Data: data}
}

// UploadBookCover stores the cover (bytes and content type; an empty
// content type is stored as image/png) of an existing book.
func (s *Server) UploadBookCover(ctx context.Context, req *bookstorev1.UploadBookCoverRequest) (*emptypb.Empty, error) {
	if err := s.begin(ctx); err != nil {
		return nil, err
	}
	shelfID, bookID, err := parseBookName("name", req.GetName())
	if err != nil {
		return nil, err
	}
	if req.GetCover() == nil {
		return nil, status.Error(codes.InvalidArgument, "cover: required")
	}
	cover := proto.CloneOf(req.GetCover())
	if cover.ContentType == "" {
		cover.ContentType = "image/png"
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	b, ok := s.book(shelfID, bookID)
	if !ok {
		return nil, bookNotFound(req.GetName())
	}
	b.cover = cover
	return &emptypb.Empty{}, nil
}
