package bookstore

import (
	"bytes"
	"slices"
	"testing"
	"time"

	"google.golang.org/genproto/googleapis/api/httpbody"
	"google.golang.org/grpc/codes"
	"google.golang.org/protobuf/types/known/durationpb"
	"google.golang.org/protobuf/types/known/fieldmaskpb"
	"google.golang.org/protobuf/types/known/timestamppb"
	"google.golang.org/protobuf/types/known/wrapperspb"

	bookstorev1 "github.com/portico-gw/portico/gen/example/bookstore/v1"
)

func bookNames(books []*bookstorev1.Book) []string {
	names := []string{}
	for _, b := range books {
		names = append(names, b.GetName())
	}
	return names
}

func TestListBooks(t *testing.T) {
	_, c := newTestClient(t)
	tests := []struct {
		desc string
		req  *bookstorev1.ListBooksRequest
		want []string
	}{
		{"all", &bookstorev1.ListBooksRequest{Parent: "shelves/1"}, []string{"shelves/1/books/1", "shelves/1/books/2"}},
		{"other shelf", &bookstorev1.ListBooksRequest{Parent: "shelves/2"}, []string{"shelves/2/books/1"}},
		{"page_size", &bookstorev1.ListBooksRequest{Parent: "shelves/1", PageSize: 1}, []string{"shelves/1/books/1"}},
		{"page_size above count", &bookstorev1.ListBooksRequest{Parent: "shelves/1", PageSize: 10}, []string{"shelves/1/books/1", "shelves/1/books/2"}},
		{"genre match", &bookstorev1.ListBooksRequest{Parent: "shelves/1", Genre: bookstorev1.Genre_GENRE_FICTION}, []string{"shelves/1/books/1", "shelves/1/books/2"}},
		{"genre mismatch", &bookstorev1.ListBooksRequest{Parent: "shelves/1", Genre: bookstorev1.Genre_GENRE_POETRY}, []string{}},
		{"one tag", &bookstorev1.ListBooksRequest{Parent: "shelves/1", Tags: []string{"classic"}}, []string{"shelves/1/books/1"}},
		{"shared tag", &bookstorev1.ListBooksRequest{Parent: "shelves/1", Tags: []string{"scifi"}}, []string{"shelves/1/books/1", "shelves/1/books/2"}},
		{"all tags", &bookstorev1.ListBooksRequest{Parent: "shelves/1", Tags: []string{"scifi", "desert"}}, []string{"shelves/1/books/2"}},
		{"tags nobody has all of", &bookstorev1.ListBooksRequest{Parent: "shelves/1", Tags: []string{"classic", "desert"}}, []string{}},
		{"author", &bookstorev1.ListBooksRequest{Parent: "shelves/1", Author: wrapperspb.String("Frank Herbert")}, []string{"shelves/1/books/2"}},
		{"author is exact", &bookstorev1.ListBooksRequest{Parent: "shelves/1", Author: wrapperspb.String("frank herbert")}, []string{}},
		{"empty author matches none", &bookstorev1.ListBooksRequest{Parent: "shelves/1", Author: wrapperspb.String("")}, []string{}},
		{"published_after", &bookstorev1.ListBooksRequest{Parent: "shelves/1", PublishedAfter: timestamppb.New(time.Date(1966, 1, 1, 0, 0, 0, 0, time.UTC))}, []string{"shelves/1/books/1"}},
		{"published_after is strict", &bookstorev1.ListBooksRequest{Parent: "shelves/1", PublishedAfter: timestamppb.New(time.Date(1969, 3, 1, 0, 0, 0, 0, time.UTC))}, []string{}},
		{"filters combine", &bookstorev1.ListBooksRequest{Parent: "shelves/1", Tags: []string{"scifi"}, PageSize: 1, PublishedAfter: timestamppb.New(time.Date(1900, 1, 1, 0, 0, 0, 0, time.UTC)), Genre: bookstorev1.Genre_GENRE_FICTION}, []string{"shelves/1/books/1"}},
		{"unused fields do not filter", &bookstorev1.ListBooksRequest{
			Parent:        "shelves/2",
			MaxAge:        durationpb.New(time.Second),
			ReadMask:      &fieldmaskpb.FieldMask{Paths: []string{"title"}},
			MinReview:     &bookstorev1.Review{Stars: 5},
			Genres:        []bookstorev1.Genre{bookstorev1.Genre_GENRE_POETRY},
			IncludeDrafts: true,
			MinRating:     4.5,
		}, []string{"shelves/2/books/1"}},
	}
	for _, tt := range tests {
		t.Run(tt.desc, func(t *testing.T) {
			resp, err := c.ListBooks(testContext(t), tt.req)
			if err != nil {
				t.Fatalf("ListBooks: %v", err)
			}
			if got := bookNames(resp.GetBooks()); !slices.Equal(got, tt.want) {
				t.Errorf("got books %q, want %q", got, tt.want)
			}
			wantProto(t, resp.GetRequest(), tt.req)
		})
	}
}

func TestListBooksErrors(t *testing.T) {
	_, c := newTestClient(t)
	tests := []struct {
		req  *bookstorev1.ListBooksRequest
		want codes.Code
	}{
		{&bookstorev1.ListBooksRequest{Parent: "shelves/9"}, codes.NotFound},
		{&bookstorev1.ListBooksRequest{}, codes.InvalidArgument},
		{&bookstorev1.ListBooksRequest{Parent: "1"}, codes.InvalidArgument},
		{&bookstorev1.ListBooksRequest{Parent: "shelves/x"}, codes.InvalidArgument},
		{&bookstorev1.ListBooksRequest{Parent: "shelves/1/books"}, codes.InvalidArgument},
		{&bookstorev1.ListBooksRequest{Parent: "shelves/1", PageSize: -1}, codes.InvalidArgument},
	}
	for _, tt := range tests {
		_, err := c.ListBooks(testContext(t), tt.req)
		wantCode(t, err, tt.want)
	}
}

func TestCreateBook(t *testing.T) {
	_, c := newTestClient(t)
	ctx := testContext(t)
	in := &bookstorev1.Book{
		Name:      "ignored",
		Title:     "Foundation",
		Author:    "Isaac Asimov",
		Genre:     bookstorev1.Genre_GENRE_FICTION,
		Tags:      []string{"scifi"},
		PageCount: wrapperspb.Int32(255),
	}
	got, err := c.CreateBook(ctx, &bookstorev1.CreateBookRequest{Parent: "shelves/1", Book: in})
	if err != nil {
		t.Fatalf("CreateBook: %v", err)
	}
	want := &bookstorev1.Book{
		Name:      "shelves/1/books/3",
		Title:     "Foundation",
		Author:    "Isaac Asimov",
		Genre:     bookstorev1.Genre_GENRE_FICTION,
		Tags:      []string{"scifi"},
		PageCount: wrapperspb.Int32(255),
	}
	wantProto(t, got, want)
	fetched, err := c.GetBook(ctx, &bookstorev1.GetBookRequest{Name: "shelves/1/books/3"})
	if err != nil {
		t.Fatalf("GetBook: %v", err)
	}
	wantProto(t, fetched, want)

	for _, tt := range []struct {
		req  *bookstorev1.CreateBookRequest
		want codes.Code
	}{
		{&bookstorev1.CreateBookRequest{Parent: "shelves/9", Book: in}, codes.NotFound},
		{&bookstorev1.CreateBookRequest{Parent: "shelf/1", Book: in}, codes.InvalidArgument},
		{&bookstorev1.CreateBookRequest{Parent: "shelves/1"}, codes.InvalidArgument},
	} {
		_, err := c.CreateBook(ctx, tt.req)
		wantCode(t, err, tt.want)
	}
}

func TestGetBook(t *testing.T) {
	_, c := newTestClient(t)
	tests := []struct {
		name string
		want codes.Code
	}{
		{"shelves/1/books/1", codes.OK},
		{"shelves/2/books/1", codes.OK},
		{"shelves/1/books/3", codes.NotFound},
		{"shelves/3/books/1", codes.NotFound},
		// Names arriving through /v1/books/{name=**}: anything unknown is
		// NotFound, not InvalidArgument.
		{"shelves/1/books/1/extra", codes.NotFound},
		{"a/b/c", codes.NotFound},
		{"dune", codes.NotFound},
		{"shelves/-1/books/1", codes.NotFound},
		{"", codes.InvalidArgument},
	}
	for _, tt := range tests {
		got, err := c.GetBook(testContext(t), &bookstorev1.GetBookRequest{Name: tt.name})
		wantCode(t, err, tt.want)
		if err == nil && got.GetName() != tt.name {
			t.Errorf("GetBook(%q) returned %q", tt.name, got.GetName())
		}
	}
}

func TestDeleteBook(t *testing.T) {
	_, c := newTestClient(t)
	ctx := testContext(t)
	if _, err := c.DeleteBook(ctx, &bookstorev1.DeleteBookRequest{Name: "shelves/1/books/1"}); err != nil {
		t.Fatalf("DeleteBook: %v", err)
	}
	_, err := c.GetBook(ctx, &bookstorev1.GetBookRequest{Name: "shelves/1/books/1"})
	wantCode(t, err, codes.NotFound)
	_, err = c.DeleteBook(ctx, &bookstorev1.DeleteBookRequest{Name: "shelves/1/books/1"})
	wantCode(t, err, codes.NotFound)
	_, err = c.DeleteBook(ctx, &bookstorev1.DeleteBookRequest{Name: "books/1"})
	wantCode(t, err, codes.InvalidArgument)

	// Names are not reused after a delete.
	got, err := c.CreateBook(ctx, &bookstorev1.CreateBookRequest{Parent: "shelves/1", Book: &bookstorev1.Book{Title: "New"}})
	if err != nil {
		t.Fatalf("CreateBook: %v", err)
	}
	if got, want := got.GetName(), "shelves/1/books/3"; got != want {
		t.Errorf("got name %q, want %q", got, want)
	}
}

func TestMoveBook(t *testing.T) {
	_, c := newTestClient(t)
	ctx := testContext(t)
	cover := &httpbody.HttpBody{ContentType: "image/jpeg", Data: []byte("jpeg")}
	if _, err := c.UploadBookCover(ctx, &bookstorev1.UploadBookCoverRequest{Name: "shelves/1/books/2", Cover: cover}); err != nil {
		t.Fatalf("UploadBookCover: %v", err)
	}
	moved, err := c.MoveBook(ctx, &bookstorev1.MoveBookRequest{Name: "shelves/1/books/2", OtherShelf: "shelves/2"})
	if err != nil {
		t.Fatalf("MoveBook: %v", err)
	}
	if got, want := moved.GetName(), "shelves/2/books/2"; got != want {
		t.Errorf("moved book's name is %q, want %q", got, want)
	}
	if got, want := moved.GetTitle(), "Dune"; got != want {
		t.Errorf("moved book's title is %q, want %q", got, want)
	}
	_, err = c.GetBook(ctx, &bookstorev1.GetBookRequest{Name: "shelves/1/books/2"})
	wantCode(t, err, codes.NotFound)
	fetched, err := c.GetBook(ctx, &bookstorev1.GetBookRequest{Name: "shelves/2/books/2"})
	if err != nil {
		t.Fatalf("GetBook: %v", err)
	}
	wantProto(t, fetched, moved)
	gotCover, err := c.GetBookCover(ctx, &bookstorev1.GetBookCoverRequest{Name: "shelves/2/books/2"})
	if err != nil {
		t.Fatalf("GetBookCover: %v", err)
	}
	wantProto(t, gotCover, cover)

	// To its own shelf: unchanged.
	same, err := c.MoveBook(ctx, &bookstorev1.MoveBookRequest{Name: "shelves/2/books/2", OtherShelf: "shelves/2"})
	if err != nil {
		t.Fatalf("MoveBook to own shelf: %v", err)
	}
	wantProto(t, same, moved)

	for _, tt := range []struct {
		req  *bookstorev1.MoveBookRequest
		want codes.Code
	}{
		{&bookstorev1.MoveBookRequest{Name: "shelves/1/books/2", OtherShelf: "shelves/2"}, codes.NotFound},
		{&bookstorev1.MoveBookRequest{Name: "shelves/1/books/1", OtherShelf: "shelves/9"}, codes.NotFound},
		{&bookstorev1.MoveBookRequest{Name: "shelves/1/books/1", OtherShelf: "9"}, codes.InvalidArgument},
		{&bookstorev1.MoveBookRequest{Name: "shelves/1", OtherShelf: "shelves/2"}, codes.InvalidArgument},
	} {
		_, err := c.MoveBook(ctx, tt.req)
		wantCode(t, err, tt.want)
	}
}

func TestBookCover(t *testing.T) {
	_, c := newTestClient(t)
	ctx := testContext(t)
	got, err := c.GetBookCover(ctx, &bookstorev1.GetBookCoverRequest{Name: "shelves/1/books/1"})
	if err != nil {
		t.Fatalf("GetBookCover: %v", err)
	}
	if got.GetContentType() != "image/png" || !bytes.HasPrefix(got.GetData(), []byte("\x89PNG\r\n\x1a\n")) || !bytes.HasSuffix(got.GetData(), []byte("shelves/1/books/1")) {
		t.Errorf("placeholder cover = %q (%q), want image/png: PNG signature + name", got.GetData(), got.GetContentType())
	}

	up := &httpbody.HttpBody{ContentType: "image/gif", Data: []byte("GIF89a")}
	if _, err := c.UploadBookCover(ctx, &bookstorev1.UploadBookCoverRequest{Name: "shelves/1/books/1", Cover: up}); err != nil {
		t.Fatalf("UploadBookCover: %v", err)
	}
	got, err = c.GetBookCover(ctx, &bookstorev1.GetBookCoverRequest{Name: "shelves/1/books/1"})
	if err != nil {
		t.Fatalf("GetBookCover: %v", err)
	}
	wantProto(t, got, up)

	// No content type: stored as image/png.
	if _, err := c.UploadBookCover(ctx, &bookstorev1.UploadBookCoverRequest{Name: "shelves/1/books/1", Cover: &httpbody.HttpBody{Data: []byte("raw")}}); err != nil {
		t.Fatalf("UploadBookCover: %v", err)
	}
	got, err = c.GetBookCover(ctx, &bookstorev1.GetBookCoverRequest{Name: "shelves/1/books/1"})
	if err != nil {
		t.Fatalf("GetBookCover: %v", err)
	}
	wantProto(t, got, &httpbody.HttpBody{ContentType: "image/png", Data: []byte("raw")})

	_, err = c.GetBookCover(ctx, &bookstorev1.GetBookCoverRequest{Name: "shelves/1/books/9"})
	wantCode(t, err, codes.NotFound)
	_, err = c.GetBookCover(ctx, &bookstorev1.GetBookCoverRequest{Name: "x"})
	wantCode(t, err, codes.InvalidArgument)
	_, err = c.UploadBookCover(ctx, &bookstorev1.UploadBookCoverRequest{Name: "shelves/1/books/9", Cover: up})
	wantCode(t, err, codes.NotFound)
	_, err = c.UploadBookCover(ctx, &bookstorev1.UploadBookCoverRequest{Name: "shelves/1/books/1"})
	wantCode(t, err, codes.InvalidArgument)
	_, err = c.UploadBookCover(ctx, &bookstorev1.UploadBookCoverRequest{Name: "", Cover: up})
	wantCode(t, err, codes.InvalidArgument)
}
