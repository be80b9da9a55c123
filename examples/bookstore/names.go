package bookstore

import (
	"strconv"
	"strings"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
)

// Resource names: shelves/{shelf} and shelves/{shelf}/books/{book}, with
// positive decimal ids.

// shelfName returns the resource name of shelf id.
func shelfName(id int64) string {
	return "shelves/" + strconv.FormatInt(id, 10)
}

// bookName returns the resource name of book id on shelf shelfID.
func bookName(shelfID, id int64) string {
	return shelfName(shelfID) + "/books/" + strconv.FormatInt(id, 10)
}

// parseShelfName parses shelves/{shelf}. A malformed name is an
// InvalidArgument status naming field.
func parseShelfName(field, name string) (int64, error) {
	rest, ok := strings.CutPrefix(name, "shelves/")
	if !ok {
		return 0, malformed(field, name, "shelves/{shelf}")
	}
	id, ok := parseID(rest)
	if !ok {
		return 0, malformed(field, name, "shelves/{shelf}")
	}
	return id, nil
}

// parseBookName parses shelves/{shelf}/books/{book}. A malformed name is an
// InvalidArgument status naming field.
func parseBookName(field, name string) (shelfID, bookID int64, err error) {
	parts := strings.Split(name, "/")
	if len(parts) != 4 || parts[0] != "shelves" || parts[2] != "books" {
		return 0, 0, malformed(field, name, "shelves/{shelf}/books/{book}")
	}
	shelfID, ok1 := parseID(parts[1])
	bookID, ok2 := parseID(parts[3])
	if !ok1 || !ok2 {
		return 0, 0, malformed(field, name, "shelves/{shelf}/books/{book}")
	}
	return shelfID, bookID, nil
}

// parseID parses a positive decimal id made of ASCII digits only (no sign,
// no spaces).
func parseID(s string) (int64, bool) {
	if s == "" {
		return 0, false
	}
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return 0, false
		}
	}
	id, err := strconv.ParseInt(s, 10, 64)
	if err != nil || id <= 0 {
		return 0, false
	}
	return id, true
}

// checkShelfID rejects ids that can never name a shelf.
func checkShelfID(field string, id int64) error {
	if id <= 0 {
		return status.Errorf(codes.InvalidArgument, "%s: shelf id must be positive, got %d", field, id)
	}
	return nil
}

func malformed(field, name, want string) error {
	return status.Errorf(codes.InvalidArgument, "%s: malformed resource name %q, want %s", field, name, want)
}

func shelfNotFound(id int64) error {
	return status.Errorf(codes.NotFound, "shelf %q not found", shelfName(id))
}

func bookNotFound(name string) error {
	return status.Errorf(codes.NotFound, "book %q not found", name)
}
