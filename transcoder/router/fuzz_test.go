package router

import (
	"reflect"
	"strings"
	"testing"

	"github.com/portico-gw/portico/catalog/httprule"
)

// fuzzRoutes exercise every kind of trie edge, verbs and "**" in several
// places.
var fuzzRoutes = []routeSpec{
	"GET /v1/shelves/{shelf}",
	"GET /v1/shelves/special",
	"GET /v1/shelves/{shelf}/books/{book}",
	"GET /v1/shelves/special/books/{book}",
	"POST /v1/{name=shelves/*/books/*}:move",
	"POST /v1/{name=shelves/**}:cancel",
	"GET /v1/files/{path=**}",
	"GET /v1/files/{path=**}:download",
	"GET /v1/{a}/{b}/c",
	"GET /v1/a/{b}/{c}",
	"PUT /v1/a/b/{c=**}",
	"DELETE /{all=**}:purge",
	"PATCH /**",
	"GET /v1:batchGet",
	"GET /v1/x%2Fy/{id}",
	"POST /v1/shelves",
	"POST /v1/example/{uuid}:custom",
	"POST /v1/example/{uuid}:custom:custom",
	"POST /v1/example/fixed:x:custom",
	"GET /v1/{name=**}:a::b",
	"* /v1/example/{uuid}/{rest=**}",
	"* /v1/shelves/{shelf}:z:purge",
}

// FuzzLookup checks Lookup against the naive reference implementation for
// random methods and paths: same route, same variables, same Allow list.
// It also checks that variables re-join into the path.
func FuzzLookup(f *testing.F) {
	for _, s := range [][2]string{
		{"GET", "/v1/shelves/special/books/1"},
		{"POST", "/v1/shelves/a/books/b:move"},
		{"POST", "/v1/shelves/a/b/c:cancel"},
		{"GET", "/v1/files/a/b:download"},
		{"GET", "/v1/files"},
		{"GET", "/v1/a/b/c"},
		{"DELETE", "/x:purge"},
		{"PATCH", "/a//b"},
		{"PUT", "/v1/shelves/a"},
		{"GET", "/v1/x%2Fy/1:a:b"},
		{"POST", "/v1/example/x:custom:custom"},
		{"POST", "/v1/example/fixed:x:custom"},
		{"POST", "/v1/example/x:y:custom:custom"},
		{"GET", "/v1/a/b:c:a::b"},
	} {
		f.Add(s[0], s[1])
	}
	r, routes := build(f, fuzzRoutes...)
	f.Fuzz(func(t *testing.T, method, path string) {
		m, allowed, found := r.Lookup(method, path)
		ot, ov, oa := oracleLookup(routes, method, path)
		if found != (ot != nil) {
			t.Fatalf("Lookup(%q, %q) got found=%v (%q), oracle got %v", method, path, found, m.Value, ot)
		}
		if !found {
			if !reflect.DeepEqual(allowed, oa) {
				t.Fatalf("Lookup(%q, %q) got allowed %q, oracle got %q", method, path, allowed, oa)
			}
			return
		}
		if m.Template != ot || m.Value != ot.Raw {
			t.Fatalf("Lookup(%q, %q) got %q, oracle got %q", method, path, m.Template.Raw, ot.Raw)
		}
		if len(m.Vars) != len(m.Template.Vars) {
			t.Fatalf("Lookup(%q, %q) got %d vars, want %d", method, path, len(m.Vars), len(m.Template.Vars))
		}
		if !reflect.DeepEqual(m.Vars, ov) {
			t.Fatalf("Lookup(%q, %q) got vars %q, oracle got %q", method, path, m.Vars, ov)
		}
		checkRejoin(t, path, m.Template, m.Vars)
	})
}

// checkRejoin rebuilds the path from the template, filling variables with
// their values and other wildcards from the path, and checks that it gives
// back the path.
func checkRejoin(t *testing.T, path string, tpl *httprule.Template, vars []string) {
	t.Helper()
	segs := strings.Split(path[1:], "/")
	if tpl.Verb != "" {
		last := segs[len(segs)-1]
		segs[len(segs)-1] = strings.TrimSuffix(last, ":"+tpl.Verb)
	}
	var parts []string
	vi, si := 0, 0
	for i := 0; i < len(tpl.Segments); i++ {
		if vi < len(tpl.Vars) && tpl.Vars[vi].Start == i {
			if vars[vi] != "" {
				n := strings.Count(vars[vi], "/") + 1
				if got := strings.Join(segs[si:si+n], "/"); got != vars[vi] {
					t.Fatalf("var %d of %q in %q got %q, want the path's %q", vi, tpl.Raw, path, vars[vi], got)
				}
				parts = append(parts, vars[vi])
				si += n
			}
			i = tpl.Vars[vi].End - 1
			vi++
			continue
		}
		switch s := tpl.Segments[i]; s.Kind {
		case httprule.Literal:
			parts = append(parts, s.Literal)
			si++
		case httprule.Wildcard:
			parts = append(parts, segs[si])
			si++
		case httprule.DeepWildcard:
			parts = append(parts, segs[si:]...)
			si = len(segs)
		}
	}
	got := "/" + strings.Join(parts, "/")
	if tpl.Verb != "" {
		got += ":" + tpl.Verb
	}
	if got != path {
		t.Fatalf("%q with vars %q re-joins into %q, want %q", tpl.Raw, vars, got, path)
	}
}

// TestLookupAgreesWithOracle compares Lookup with the reference
// implementation on every path of up to four segments drawn from words that
// the fuzz routes care about, for every method they use and one they don't.
func TestLookupAgreesWithOracle(t *testing.T) {
	r, routes := build(t, fuzzRoutes...)
	words := []string{"v1", "shelves", "special", "books", "files", "a", "b", "x%2Fy", "s:move", "f:download", "z:purge", ":cancel",
		"example", "u:custom:custom", "fixed:x:custom"}
	methods := []string{"GET", "POST", "PUT", "DELETE", "PATCH", "HEAD", "OPTIONS"}
	paths := []string{""}
	var all []string
	for depth := 0; depth < 4; depth++ {
		var next []string
		for _, p := range paths {
			for _, w := range words {
				next = append(next, p+"/"+w)
			}
		}
		all = append(all, next...)
		paths = next
	}
	found := 0
	for _, path := range all {
		for _, method := range methods {
			m, allowed, ok := r.Lookup(method, path)
			ot, ov, oa := oracleLookup(routes, method, path)
			switch {
			case ok != (ot != nil):
				t.Fatalf("Lookup(%q, %q) got found=%v, oracle got %v", method, path, ok, ot)
			case ok && (m.Template != ot || !reflect.DeepEqual(m.Vars, ov)):
				t.Fatalf("Lookup(%q, %q) got %q %q, oracle got %q %q", method, path, m.Template.Raw, m.Vars, ot.Raw, ov)
			case !ok && !reflect.DeepEqual(allowed, oa):
				t.Fatalf("Lookup(%q, %q) got allowed %q, oracle got %q", method, path, allowed, oa)
			}
			if ok {
				found++
				checkRejoin(t, path, m.Template, m.Vars)
			}
		}
	}
	if found < 1000 {
		t.Errorf("only %d of %d lookups matched, want the word list to reach the routes", found, len(all)*len(methods))
	}
	t.Logf("%d lookups, %d matched", len(all)*len(methods), found)
}
