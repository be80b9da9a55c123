package bookstore

import (
	"context"
	"strings"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/reflect/protoreflect"

	bookstorev1 "github.com/portico-gw/portico/gen/example/bookstore/v1"
)

// UpdateBook changes the book named by book.name and returns it.
//
// With an empty update_mask (or the single path "*") every field but the
// name is replaced by the request's. Otherwise each path, a dot-separated
// list of proto field names of Book ("title", "page_count",
// "top_review.stars"), is copied from the request, a field unset there
// being cleared. The path "name" is accepted and ignored: a PATCH body that
// repeats the name yields it in the automatic mask, and a book's name does
// not change. An unknown path, or one that goes through a repeated or
// scalar field, is InvalidArgument and changes nothing.
func (s *Server) UpdateBook(ctx context.Context, req *bookstorev1.UpdateBookRequest) (*bookstorev1.Book, error) {
	if err := s.begin(ctx); err != nil {
		return nil, err
	}
	if req.GetBook() == nil {
		return nil, status.Error(codes.InvalidArgument, "book: required")
	}
	name := req.GetBook().GetName()
	shelfID, bookID, err := parseBookName("book.name", name)
	if err != nil {
		return nil, err
	}
	paths := req.GetUpdateMask().GetPaths()
	if len(paths) == 1 && paths[0] == "*" {
		paths = nil
	}
	desc := req.GetBook().ProtoReflect().Descriptor()
	for _, p := range paths {
		if err := checkPath(desc, p); err != nil {
			return nil, err
		}
	}
	src := proto.CloneOf(req.GetBook())
	s.mu.Lock()
	defer s.mu.Unlock()
	b, ok := s.book(shelfID, bookID)
	if !ok {
		return nil, bookNotFound(name)
	}
	if len(paths) == 0 {
		src.Name = b.book.GetName()
		b.book = src
		return proto.CloneOf(b.book), nil
	}
	dst := proto.CloneOf(b.book)
	for _, p := range paths {
		if p == "name" {
			continue
		}
		copyPath(dst.ProtoReflect(), src.ProtoReflect(), strings.Split(p, "."))
	}
	b.book = dst
	return proto.CloneOf(dst), nil
}

// checkPath reports whether path names a field of desc, every element but
// the last being a singular message field.
func checkPath(desc protoreflect.MessageDescriptor, path string) error {
	parts := strings.Split(path, ".")
	for i, part := range parts {
		fd := desc.Fields().ByName(protoreflect.Name(part))
		if fd == nil {
			return status.Errorf(codes.InvalidArgument, "update_mask: unknown path %q", path)
		}
		if i == len(parts)-1 {
			return nil
		}
		if fd.Message() == nil || fd.IsList() || fd.IsMap() {
			return status.Errorf(codes.InvalidArgument, "update_mask: path %q goes through %s, which is not a singular message field", path, fd.Name())
		}
		desc = fd.Message()
	}
	return nil
}

// copyPath copies the field at the checked path parts from src to dst,
// clearing it in dst when src does not set it. src may be an invalid
// (absent) message.
func copyPath(dst, src protoreflect.Message, parts []string) {
	fd := dst.Descriptor().Fields().ByName(protoreflect.Name(parts[0]))
	if len(parts) == 1 {
		if src.IsValid() && src.Has(fd) {
			dst.Set(fd, src.Get(fd))
		} else {
			dst.Clear(fd)
		}
		return
	}
	if !dst.Has(fd) && !(src.IsValid() && src.Has(fd)) {
		return // nothing to copy, nothing to clear
	}
	var next protoreflect.Message
	if src.IsValid() {
		next = src.Get(fd).Message()
	}
	copyPath(dst.Mutable(fd).Message(), next, parts[1:])
}
