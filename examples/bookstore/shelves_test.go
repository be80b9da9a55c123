package bookstore

import (
	"testing"

	"google.golang.org/grpc/codes"

	bookstorev1 "github.com/portico-gw/portico/gen/example/bookstore/v1"
)

func TestCreateShelf(t *testing.T) {
	_, c := newTestClient(t)
	ctx := testContext(t)
	got, err := c.CreateShelf(ctx, &bookstorev1.CreateShelfRequest{Shelf: &bookstorev1.Shelf{Theme: "Poetry"}})
	if err != nil {
		t.Fatalf("CreateShelf: %v", err)
	}
	wantProto(t, got, &bookstorev1.Shelf{Id: 3, Theme: "Poetry"})
	fetched, err := c.GetShelf(ctx, &bookstorev1.GetShelfRequest{Shelf: 3})
	if err != nil {
		t.Fatalf("GetShelf: %v", err)
	}
	wantProto(t, fetched, got)

	// A client-chosen id is used, and the next assigned one skips it.
	got, err = c.CreateShelf(ctx, &bookstorev1.CreateShelfRequest{Shelf: &bookstorev1.Shelf{Id: 4, Theme: "History"}})
	if err != nil {
		t.Fatalf("CreateShelf(id 4): %v", err)
	}
	wantProto(t, got, &bookstorev1.Shelf{Id: 4, Theme: "History"})
	got, err = c.CreateShelf(ctx, &bookstorev1.CreateShelfRequest{Shelf: &bookstorev1.Shelf{Theme: "Art"}})
	if err != nil {
		t.Fatalf("CreateShelf: %v", err)
	}
	wantProto(t, got, &bookstorev1.Shelf{Id: 5, Theme: "Art"})
}

func TestCreateShelfErrors(t *testing.T) {
	_, c := newTestClient(t)
	tests := []struct {
		desc string
		req  *bookstorev1.CreateShelfRequest
		want codes.Code
	}{
		{"no shelf", &bookstorev1.CreateShelfRequest{}, codes.InvalidArgument},
		{"negative id", &bookstorev1.CreateShelfRequest{Shelf: &bookstorev1.Shelf{Id: -1, Theme: "x"}}, codes.InvalidArgument},
		{"taken id", &bookstorev1.CreateShelfRequest{Shelf: &bookstorev1.Shelf{Id: 1, Theme: "x"}}, codes.AlreadyExists},
	}
	for _, tt := range tests {
		t.Run(tt.desc, func(t *testing.T) {
			_, err := c.CreateShelf(testContext(t), tt.req)
			wantCode(t, err, tt.want)
		})
	}
}

func TestGetShelf(t *testing.T) {
	_, c := newTestClient(t)
	tests := []struct {
		shelf int64
		want  codes.Code
	}{
		{1, codes.OK},
		{2, codes.OK},
		{3, codes.NotFound},
		{0, codes.InvalidArgument},
		{-2, codes.InvalidArgument},
	}
	for _, tt := range tests {
		got, err := c.GetShelf(testContext(t), &bookstorev1.GetShelfRequest{Shelf: tt.shelf})
		wantCode(t, err, tt.want)
		if err == nil && got.GetId() != tt.shelf {
			t.Errorf("GetShelf(%d) returned shelf %d", tt.shelf, got.GetId())
		}
	}
}

func TestDeleteShelf(t *testing.T) {
	_, c := newTestClient(t)
	ctx := testContext(t)
	if _, err := c.DeleteShelf(ctx, &bookstorev1.DeleteShelfRequest{Shelf: 1}); err != nil {
		t.Fatalf("DeleteShelf: %v", err)
	}
	_, err := c.GetShelf(ctx, &bookstorev1.GetShelfRequest{Shelf: 1})
	wantCode(t, err, codes.NotFound)
	_, err = c.GetBook(ctx, &bookstorev1.GetBookRequest{Name: "shelves/1/books/1"})
	wantCode(t, err, codes.NotFound)
	_, err = c.DeleteShelf(ctx, &bookstorev1.DeleteShelfRequest{Shelf: 1})
	wantCode(t, err, codes.NotFound)
	_, err = c.DeleteShelf(ctx, &bookstorev1.DeleteShelfRequest{})
	wantCode(t, err, codes.InvalidArgument)

	// Deleted ids are not reused.
	got, err := c.CreateShelf(ctx, &bookstorev1.CreateShelfRequest{Shelf: &bookstorev1.Shelf{Theme: "New"}})
	if err != nil {
		t.Fatalf("CreateShelf: %v", err)
	}
	if got.GetId() != 3 {
		t.Errorf("got id %d, want 3", got.GetId())
	}
	resp, err := c.Reindex(ctx, &bookstorev1.ReindexRequest{})
	if err != nil {
		t.Fatalf("Reindex: %v", err)
	}
	if got, want := resp.GetBooks(), int32(1); got != want {
		t.Errorf("Reindex after deleting shelf 1 counted %d books, want %d", got, want)
	}
}

func TestGetShelfStats(t *testing.T) {
	_, c := newTestClient(t)
	tests := []struct {
		shelf int64
		want  *bookstorev1.ShelfStats
		code  codes.Code
	}{
		{1, &bookstorev1.ShelfStats{Shelf: 1, BookCount: 2}, codes.OK},
		{2, &bookstorev1.ShelfStats{Shelf: 2, BookCount: 1}, codes.OK},
		{7, nil, codes.NotFound},
		{0, nil, codes.InvalidArgument},
	}
	for _, tt := range tests {
		got, err := c.GetShelfStats(testContext(t), &bookstorev1.GetShelfStatsRequest{Shelf: tt.shelf})
		wantCode(t, err, tt.code)
		if err == nil {
			wantProto(t, got, tt.want)
		}
	}
}

func TestReindex(t *testing.T) {
	_, c := newTestClient(t)
	ctx := testContext(t)
	for _, full := range []bool{false, true} {
		resp, err := c.Reindex(ctx, &bookstorev1.ReindexRequest{Full: full})
		if err != nil {
			t.Fatalf("Reindex: %v", err)
		}
		if got, want := resp.GetBooks(), int32(3); got != want {
			t.Errorf("Reindex(full=%v) = %d books, want %d", full, got, want)
		}
	}
}
