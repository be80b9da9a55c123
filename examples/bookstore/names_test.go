package bookstore

import (
	"testing"

	"google.golang.org/grpc/codes"
)

func TestParseBookName(t *testing.T) {
	tests := []struct {
		name          string
		shelf, book   int64
		wantMalformed bool
	}{
		{"shelves/1/books/2", 1, 2, false},
		{"shelves/10/books/200", 10, 200, false},
		{"shelves/01/books/2", 1, 2, false},
		{"shelves/0/books/2", 0, 0, true},
		{"shelves/1/books/0", 0, 0, true},
		{"shelves/+1/books/2", 0, 0, true},
		{"shelves/1/books/2/", 0, 0, true},
		{"/shelves/1/books/2", 0, 0, true},
		{"shelves/1/book/2", 0, 0, true},
		{"shelves//books/2", 0, 0, true},
		{"shelves/99999999999999999999/books/2", 0, 0, true},
		{"", 0, 0, true},
	}
	for _, tt := range tests {
		shelf, book, err := parseBookName("name", tt.name)
		if tt.wantMalformed {
			wantCode(t, err, codes.InvalidArgument)
			continue
		}
		if err != nil || shelf != tt.shelf || book != tt.book {
			t.Errorf("parseBookName(%q) = %d, %d, %v, want %d, %d, nil", tt.name, shelf, book, err, tt.shelf, tt.book)
		}
	}
}

func TestParseShelfName(t *testing.T) {
	tests := []struct {
		name          string
		want          int64
		wantMalformed bool
	}{
		{"shelves/1", 1, false},
		{"shelves/42", 42, false},
		{"shelves/", 0, true},
		{"shelves/1/", 0, true},
		{"shelves/-1", 0, true},
		{"shelves/1 ", 0, true},
		{"shelf/1", 0, true},
		{"1", 0, true},
	}
	for _, tt := range tests {
		got, err := parseShelfName("parent", tt.name)
		if tt.wantMalformed {
			wantCode(t, err, codes.InvalidArgument)
			continue
		}
		if err != nil || got != tt.want {
			t.Errorf("parseShelfName(%q) = %d, %v, want %d, nil", tt.name, got, err, tt.want)
		}
	}
}
