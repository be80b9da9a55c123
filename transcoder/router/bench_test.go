package router

import (
	"fmt"
	"testing"

	"github.com/portico-gw/portico/catalog/httprule"
)

// benchRouter returns a router with n routes shaped like a real catalog:
// services svc0, svc1... each with get, list-like, create, custom-verb and
// delete routes.
func benchRouter(b *testing.B, n int) *Router[int] {
	b.Helper()
	shapes := []struct{ method, tpl string }{
		{"GET", "/v1/svc%d/{name=items/*}/parts/{part}"},
		{"GET", "/v1/svc%d/{name=items/*}"},
		{"POST", "/v1/svc%d/items"},
		{"POST", "/v1/svc%d/{name=items/*}:archive"},
		{"DELETE", "/v1/svc%d/{name=items/*}"},
	}
	r := New[int]()
	for i := 0; i < n; i++ {
		s := shapes[i%len(shapes)]
		tpl, err := httprule.Parse(fmt.Sprintf(s.tpl, i/len(shapes)))
		if err != nil {
			b.Fatal(err)
		}
		if err := r.Add(s.method, tpl, i); err != nil {
			b.Fatal(err)
		}
	}
	return r
}

// BenchmarkLookup looks up the same route among 10, 1000 and 10000 routes:
// the cost should not grow with the number of routes.
func BenchmarkLookup(b *testing.B) {
	for _, n := range []int{10, 1000, 10000} {
		b.Run(fmt.Sprintf("routes=%d", n), func(b *testing.B) {
			r := benchRouter(b, n)
			const path = "/v1/svc1/items/abc/parts/p1"
			if m, _, ok := r.Lookup("GET", path); !ok || m.Value != 5 {
				b.Fatalf("Lookup(%q) got %v, %v, want route 5", path, m.Value, ok)
			}
			b.ReportAllocs()
			for b.Loop() {
				r.Lookup("GET", path)
			}
		})
	}
}

// BenchmarkLookupKinds shows the other outcomes of a lookup at 10000 routes.
func BenchmarkLookupKinds(b *testing.B) {
	r := benchRouter(b, 10000)
	for _, c := range []struct{ name, method, path string }{
		{"literal", "POST", "/v1/svc1/items"},
		{"verb", "POST", "/v1/svc1/items/abc:archive"},
		{"405", "PUT", "/v1/svc1/items/abc"},
		{"404", "GET", "/v1/nosuch/items/abc"},
	} {
		b.Run(c.name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				r.Lookup(c.method, c.path)
			}
		})
	}
}
