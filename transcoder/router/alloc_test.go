package router

import (
	"sync"
	"testing"
)

// TestLookupAllocs pins Lookup's allocations: none without variables, one
// (the Vars slice) with them, none for a 404, one (the Allow list) for a 405.
func TestLookupAllocs(t *testing.T) {
	if testing.CoverMode() != "" {
		t.Skip("coverage instrumentation allocates")
	}
	r, _ := build(t,
		"GET /v1/shelves",
		"GET /v1/shelves/{shelf}/books/{book}",
		"POST /v1/{name=shelves/*/books/*}:move",
		"GET /v1/files/{path=**}",
	)
	for _, tc := range []struct {
		method, path string
		want         float64
	}{
		{"GET", "/v1/shelves", 0},
		{"GET", "/v1/shelves/s1/books/b1", 1},
		{"POST", "/v1/shelves/s1/books/b1:move", 1},
		{"GET", "/v1/files/a/b/c", 1},
		{"GET", "/v2/shelves", 0},
		{"PUT", "/v1/shelves", 1},
	} {
		got := testing.AllocsPerRun(100, func() { r.Lookup(tc.method, tc.path) })
		if got != tc.want {
			t.Errorf("Lookup(%q, %q) got %v allocations, want %v", tc.method, tc.path, got, tc.want)
		}
	}
}

// Lookup is safe from many goroutines once the routes are added (run with
// -race).
func TestLookupConcurrent(t *testing.T) {
	r, _ := build(t,
		"GET /v1/shelves/{shelf}/books/{book}",
		"POST /v1/{name=shelves/*/books/*}:move",
		"GET /v1/files/{path=**}",
	)
	var wg sync.WaitGroup
	errs := make(chan string, 8)
	for g := 0; g < 8; g++ {
		wg.Go(func() {
			for i := 0; i < 200; i++ {
				m, _, ok := r.Lookup("GET", "/v1/shelves/s/books/b")
				if !ok || m.Vars[0] != "s" || m.Vars[1] != "b" {
					errs <- "GET /v1/shelves/s/books/b"
					return
				}
				if _, allowed, ok := r.Lookup("PUT", "/v1/files/x"); ok || len(allowed) != 1 {
					errs <- "PUT /v1/files/x"
					return
				}
			}
		})
	}
	wg.Wait()
	close(errs)
	for e := range errs {
		t.Errorf("concurrent Lookup(%s) got a wrong result", e)
	}
}
