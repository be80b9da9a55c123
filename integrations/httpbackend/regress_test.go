package httpbackend

import (
	"testing"

	bookstorev1 "github.com/portico-gw/portico/gen/example/bookstore/v1"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
)

// TestRegressDotSegmentsInPathVariables: a "." or ".." segment in a path
// variable matched the pattern's "*" and was sent as it was, so the
// backend (or a proxy before it) resolved it into another resource's path
// (/v1/shelves/../books/1 is /v1/books/1). Such values are refused.
func TestRegressDotSegmentsInPathVariables(t *testing.T) {
	rest := startREST(t)
	i, ms, _ := newIntegration(t, rest.URL, nil)
	for _, name := range []string{"shelves/../books/1", "shelves/1/books/..", "shelves/./books/1"} {
		_, err := i.Unary(testContext(t), method(t, ms, "GetBook"), &bookstorev1.GetBookRequest{Name: name})
		if status.Code(err) != codes.InvalidArgument {
			t.Errorf("name %q: got %v, want InvalidArgument", name, err)
		}
	}
	rest.mu.Lock()
	defer rest.mu.Unlock()
	if len(rest.reqs) != 0 {
		t.Errorf("got %d backend requests, want none", len(rest.reqs))
	}
}
