package bookstore

import (
	"testing"
	"time"

	"google.golang.org/grpc/codes"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/fieldmaskpb"
	"google.golang.org/protobuf/types/known/timestamppb"
	"google.golang.org/protobuf/types/known/wrapperspb"

	bookstorev1 "github.com/portico-gw/portico/gen/example/bookstore/v1"
)

// seededBook1 is shelves/1/books/1 as NewServer stores it.
func seededBook1() *bookstorev1.Book {
	return &bookstorev1.Book{
		Name:        "shelves/1/books/1",
		Title:       "The Left Hand of Darkness",
		Author:      "Ursula K. Le Guin",
		Genre:       bookstorev1.Genre_GENRE_FICTION,
		PublishTime: timestamppb.New(time.Date(1969, time.March, 1, 0, 0, 0, 0, time.UTC)),
		Tags:        []string{"classic", "scifi"},
		PageCount:   wrapperspb.Int32(304),
		TopReview:   &bookstorev1.Review{Reviewer: "Genly Ai", Stars: 5},
	}
}

// with returns a copy of seededBook1 changed by f.
func with(f func(b *bookstorev1.Book)) *bookstorev1.Book {
	b := seededBook1()
	f(b)
	return b
}

func TestUpdateBook(t *testing.T) {
	patch := &bookstorev1.Book{
		Name:      "shelves/1/books/1",
		Title:     "New Title",
		Genre:     bookstorev1.Genre_GENRE_POETRY,
		Tags:      []string{"new"},
		PageCount: wrapperspb.Int32(1),
		TopReview: &bookstorev1.Review{Stars: 2},
	}
	tests := []struct {
		desc  string
		paths []string
		want  *bookstorev1.Book
	}{
		{"no mask replaces all but name", nil, proto.CloneOf(patch)},
		{"star replaces all", []string{"*"}, proto.CloneOf(patch)},
		{"title", []string{"title"}, with(func(b *bookstorev1.Book) { b.Title = "New Title" })},
		{"name is ignored", []string{"name", "title"}, with(func(b *bookstorev1.Book) { b.Title = "New Title" })},
		{"unset author clears it", []string{"author"}, with(func(b *bookstorev1.Book) { b.Author = "" })},
		{"genre and tags", []string{"genre", "tags"}, with(func(b *bookstorev1.Book) {
			b.Genre = bookstorev1.Genre_GENRE_POETRY
			b.Tags = []string{"new"}
		})},
		{"unset publish_time clears it", []string{"publish_time"}, with(func(b *bookstorev1.Book) { b.PublishTime = nil })},
		{"page_count", []string{"page_count"}, with(func(b *bookstorev1.Book) { b.PageCount = wrapperspb.Int32(1) })},
		{"top_review whole", []string{"top_review"}, with(func(b *bookstorev1.Book) { b.TopReview = &bookstorev1.Review{Stars: 2} })},
		{"top_review.stars keeps reviewer", []string{"top_review.stars"}, with(func(b *bookstorev1.Book) { b.TopReview.Stars = 2 })},
		{"top_review.reviewer cleared", []string{"top_review.reviewer"}, with(func(b *bookstorev1.Book) { b.TopReview.Reviewer = "" })},
	}
	for _, tt := range tests {
		t.Run(tt.desc, func(t *testing.T) {
			_, c := newTestClient(t)
			ctx := testContext(t)
			req := &bookstorev1.UpdateBookRequest{Book: patch}
			if tt.paths != nil {
				req.UpdateMask = &fieldmaskpb.FieldMask{Paths: tt.paths}
			}
			got, err := c.UpdateBook(ctx, req)
			if err != nil {
				t.Fatalf("UpdateBook: %v", err)
			}
			wantProto(t, got, tt.want)
			stored, err := c.GetBook(ctx, &bookstorev1.GetBookRequest{Name: "shelves/1/books/1"})
			if err != nil {
				t.Fatalf("GetBook: %v", err)
			}
			wantProto(t, stored, tt.want)
		})
	}
}

// TestUpdateBookNestedFromEmpty sets a nested field on a book without the
// parent message.
func TestUpdateBookNestedFromEmpty(t *testing.T) {
	_, c := newTestClient(t)
	ctx := testContext(t)
	got, err := c.UpdateBook(ctx, &bookstorev1.UpdateBookRequest{
		Book:       &bookstorev1.Book{Name: "shelves/2/books/1", TopReview: &bookstorev1.Review{Stars: 3}},
		UpdateMask: &fieldmaskpb.FieldMask{Paths: []string{"top_review.stars"}},
	})
	if err != nil {
		t.Fatalf("UpdateBook: %v", err)
	}
	wantProto(t, got.GetTopReview(), &bookstorev1.Review{Stars: 3})

	// Clearing a nested field of an absent message leaves it absent.
	got, err = c.UpdateBook(ctx, &bookstorev1.UpdateBookRequest{
		Book:       &bookstorev1.Book{Name: "shelves/1/books/2"},
		UpdateMask: &fieldmaskpb.FieldMask{Paths: []string{"top_review"}},
	})
	if err != nil {
		t.Fatalf("UpdateBook: %v", err)
	}
	if got.TopReview != nil {
		t.Errorf("after clearing top_review: got %v, want none", got.TopReview)
	}
	got, err = c.UpdateBook(ctx, &bookstorev1.UpdateBookRequest{
		Book:       &bookstorev1.Book{Name: "shelves/1/books/2"},
		UpdateMask: &fieldmaskpb.FieldMask{Paths: []string{"top_review.stars"}},
	})
	if err != nil {
		t.Fatalf("UpdateBook: %v", err)
	}
	if got.TopReview != nil {
		t.Errorf("got top_review %v, want none", got.TopReview)
	}
}

func TestUpdateBookErrors(t *testing.T) {
	_, c := newTestClient(t)
	ctx := testContext(t)
	tests := []struct {
		desc string
		req  *bookstorev1.UpdateBookRequest
		want codes.Code
	}{
		{"no book", &bookstorev1.UpdateBookRequest{}, codes.InvalidArgument},
		{"no name", &bookstorev1.UpdateBookRequest{Book: &bookstorev1.Book{Title: "x"}}, codes.InvalidArgument},
		{"unknown book", &bookstorev1.UpdateBookRequest{Book: &bookstorev1.Book{Name: "shelves/1/books/9", Title: "x"}}, codes.NotFound},
		{"unknown shelf", &bookstorev1.UpdateBookRequest{Book: &bookstorev1.Book{Name: "shelves/9/books/1", Title: "x"}}, codes.NotFound},
		{"unknown path", mask("titel"), codes.InvalidArgument},
		{"json name", mask("pageCount"), codes.InvalidArgument},
		{"unknown nested path", mask("top_review.rating"), codes.InvalidArgument},
		{"through a scalar", mask("title.x"), codes.InvalidArgument},
		{"through a list", mask("tags.x"), codes.InvalidArgument},
		{"star with others", mask("*", "title"), codes.InvalidArgument},
		{"empty path", mask(""), codes.InvalidArgument},
		{"one bad path of two", mask("title", "bogus"), codes.InvalidArgument},
	}
	for _, tt := range tests {
		t.Run(tt.desc, func(t *testing.T) {
			_, err := c.UpdateBook(ctx, tt.req)
			wantCode(t, err, tt.want)
		})
	}
	// Nothing above changed the book.
	got, err := c.GetBook(ctx, &bookstorev1.GetBookRequest{Name: "shelves/1/books/1"})
	if err != nil {
		t.Fatalf("GetBook: %v", err)
	}
	wantProto(t, got, seededBook1())
}

func mask(paths ...string) *bookstorev1.UpdateBookRequest {
	return &bookstorev1.UpdateBookRequest{
		Book:       &bookstorev1.Book{Name: "shelves/1/books/1", Title: "changed"},
		UpdateMask: &fieldmaskpb.FieldMask{Paths: paths},
	}
}
