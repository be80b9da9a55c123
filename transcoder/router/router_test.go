package router

import (
	"reflect"
	"strings"
	"testing"

	"github.com/portico-gw/portico/catalog/httprule"
)

// routeSpec is "METHOD /template".
type routeSpec string

// build returns a router whose values are the routes' templates as written,
// and the same routes for the oracle.
func build(t testing.TB, specs ...routeSpec) (*Router[string], []oracleRoute) {
	t.Helper()
	r := New[string]()
	var routes []oracleRoute
	for _, s := range specs {
		method, raw, _ := strings.Cut(string(s), " ")
		tpl, err := httprule.Parse(raw)
		if err != nil {
			t.Fatalf("Parse(%q): %v", raw, err)
		}
		if err := r.Add(method, tpl, raw); err != nil {
			t.Fatalf("Add(%q, %q): %v", method, raw, err)
		}
		routes = append(routes, oracleRoute{method, tpl})
	}
	return r, routes
}

type lookupCase struct {
	method, path string
	want         string   // the template matched; "" when none
	vars         []string // want Match.Vars
	allowed      []string // want allowed, when want is ""
}

// runLookups checks each case against the router and the oracle.
func runLookups(t *testing.T, r *Router[string], routes []oracleRoute, cases []lookupCase) {
	t.Helper()
	for _, tc := range cases {
		t.Run(tc.method+" "+tc.path, func(t *testing.T) {
			m, allowed, found := r.Lookup(tc.method, tc.path)
			if tc.want == "" {
				if found {
					t.Fatalf("Lookup got %q with vars %q, want no match", m.Value, m.Vars)
				}
				if !reflect.DeepEqual(allowed, tc.allowed) {
					t.Errorf("Lookup got allowed %q, want %q", allowed, tc.allowed)
				}
			} else {
				if !found {
					t.Fatalf("Lookup got no match (allowed %q), want %q", allowed, tc.want)
				}
				if m.Value != tc.want || m.Template.Raw != tc.want {
					t.Errorf("Lookup got %q (template %q), want %q", m.Value, m.Template.Raw, tc.want)
				}
				if !reflect.DeepEqual(m.Vars, tc.vars) {
					t.Errorf("Lookup got vars %q, want %q", m.Vars, tc.vars)
				}
				if allowed != nil {
					t.Errorf("Lookup got allowed %q with a match, want nil", allowed)
				}
			}
			// The table and the reference implementation must agree too.
			ot, ov, oa := oracleLookup(routes, tc.method, tc.path)
			if ot == nil && tc.want != "" || ot != nil && ot.Raw != tc.want {
				t.Errorf("oracle got %v, want %q", ot, tc.want)
			}
			if tc.want != "" && !reflect.DeepEqual(ov, tc.vars) {
				t.Errorf("oracle got vars %q, want %q", ov, tc.vars)
			}
			if tc.want == "" && !reflect.DeepEqual(oa, tc.allowed) {
				t.Errorf("oracle got allowed %q, want %q", oa, tc.allowed)
			}
		})
	}
}

func TestLookupPrecedence(t *testing.T) {
	r, routes := build(t,
		"GET /v1/shelves/{shelf}",
		"GET /v1/shelves/special",
		"GET /v1/shelves/special/books/{book}",
		"GET /v1/shelves/{shelf}/books/{book}",
		"GET /v1/shelves/{shelf}/notes",
		"GET /v1/shelves/special/notes/pinned",
		"GET /v1/{name=shelves/**}",
		"GET /v1/shelves/other/**",
		"GET /v1/a/{x}/c",
		"GET /v1/a/b/{y}",
	)
	runLookups(t, r, routes, []lookupCase{
		// A literal beats "*".
		{method: "GET", path: "/v1/shelves/special", want: "/v1/shelves/special"},
		{method: "GET", path: "/v1/shelves/s1", want: "/v1/shelves/{shelf}", vars: []string{"s1"}},
		{method: "GET", path: "/v1/shelves/special/books/1", want: "/v1/shelves/special/books/{book}", vars: []string{"1"}},
		{method: "GET", path: "/v1/shelves/s1/books/1", want: "/v1/shelves/{shelf}/books/{book}", vars: []string{"s1", "1"}},
		// The literal branch "special" has no "notes" leaf: back to "*".
		{method: "GET", path: "/v1/shelves/special/notes", want: "/v1/shelves/{shelf}/notes", vars: []string{"special"}},
		// ...and deeper: "special/notes" leads to "pinned" only, and
		// "{shelf}/notes" ends there, so "special/notes/x" falls back to
		// the "**" after "shelves".
		{method: "GET", path: "/v1/shelves/special/notes/pinned", want: "/v1/shelves/special/notes/pinned"},
		{method: "GET", path: "/v1/shelves/special/notes/x", want: "/v1/{name=shelves/**}", vars: []string{"shelves/special/notes/x"}},
		// A literal then "**" matching zero segments still beats "*".
		{method: "GET", path: "/v1/shelves/other", want: "/v1/shelves/other/**"},
		{method: "GET", path: "/v1/shelves/other/x/y", want: "/v1/shelves/other/**"},
		// Neither literal nor "*" leads anywhere: the "**" one level up.
		{method: "GET", path: "/v1/shelves/s1/books/1/pages", want: "/v1/{name=shelves/**}", vars: []string{"shelves/s1/books/1/pages"}},
		{method: "GET", path: "/v1/shelves/s1/x", want: "/v1/{name=shelves/**}", vars: []string{"shelves/s1/x"}},
		// An exact end beats "**" matching zero segments.
		{method: "GET", path: "/v1/shelves", want: "/v1/{name=shelves/**}", vars: []string{"shelves"}},
		// Literal first at each segment, from the left: b beats {x}.
		{method: "GET", path: "/v1/a/b/c", want: "/v1/a/b/{y}", vars: []string{"c"}},
		{method: "GET", path: "/v1/a/z/c", want: "/v1/a/{x}/c", vars: []string{"z"}},
		{method: "GET", path: "/v1/a/b", allowed: nil},
		{method: "GET", path: "/v2/shelves/x", allowed: nil},
	})
}

func TestLookupDeepWildcard(t *testing.T) {
	r, routes := build(t,
		"GET /v1/files/{path=**}",
		"GET /v1/files/{path=**}:download",
		"GET /{all=**}:verb",
		"POST /**",
		"PUT /v1/{name=buckets/*/objects/**}",
	)
	runLookups(t, r, routes, []lookupCase{
		{method: "GET", path: "/v1/files/a", want: "/v1/files/{path=**}", vars: []string{"a"}},
		{method: "GET", path: "/v1/files/a/b/c", want: "/v1/files/{path=**}", vars: []string{"a/b/c"}},
		// "**" not first: zero segments.
		{method: "GET", path: "/v1/files", want: "/v1/files/{path=**}", vars: []string{""}},
		{method: "GET", path: "/v1/files:download", want: "/v1/files/{path=**}:download", vars: []string{""}},
		// "**" at the end with a verb.
		{method: "GET", path: "/v1/files/a/b:download", want: "/v1/files/{path=**}:download", vars: []string{"a/b"}},
		// Unknown verb: the whole last segment against verb-less routes.
		{method: "GET", path: "/v1/files/a/b:other", want: "/v1/files/{path=**}", vars: []string{"a/b:other"}},
		{method: "GET", path: "/v1/files/a:b", want: "/v1/files/{path=**}", vars: []string{"a:b"}},
		// "**" first: one or more segments.
		{method: "GET", path: "/x:verb", want: "/{all=**}:verb", vars: []string{"x"}},
		{method: "GET", path: "/x/y:verb", want: "/{all=**}:verb", vars: []string{"x/y"}},
		{method: "GET", path: "/:verb", allowed: []string{"POST"}},
		{method: "POST", path: "/anything/at/all", want: "/**"},
		{method: "POST", path: "/", allowed: nil},
		// A "**" variable with segments before it.
		{method: "PUT", path: "/v1/buckets/b/objects", want: "/v1/{name=buckets/*/objects/**}", vars: []string{"buckets/b/objects"}},
		{method: "PUT", path: "/v1/buckets/b/objects/x/y", want: "/v1/{name=buckets/*/objects/**}", vars: []string{"buckets/b/objects/x/y"}},
		{method: "PUT", path: "/v1/buckets/b", allowed: []string{"POST"}},
	})
}

func TestLookupVerbs(t *testing.T) {
	r, routes := build(t,
		"GET /v1/{name=operations/*}",
		"POST /v1/{name=operations/*}:cancel",
		"POST /v1/{name=operations/*}:delete",
		"POST /v1/{name=**}:undelete",
		"GET /v1/shelves/{shelf}/books/{book}",
		"POST /v1:batchGet",
		"GET /v1/x/special:verb",
		"GET /v1/x/{id}",
	)
	runLookups(t, r, routes, []lookupCase{
		{method: "POST", path: "/v1/operations/op1:cancel", want: "/v1/{name=operations/*}:cancel", vars: []string{"operations/op1"}},
		{method: "POST", path: "/v1/operations/op1:delete", want: "/v1/{name=operations/*}:delete", vars: []string{"operations/op1"}},
		{method: "POST", path: "/v1/a/b/c:undelete", want: "/v1/{name=**}:undelete", vars: []string{"a/b/c"}},
		// The verb is after the last ":".
		{method: "POST", path: "/v1/operations/a:b:cancel", want: "/v1/{name=operations/*}:cancel", vars: []string{"operations/a:b"}},
		// Colons in earlier segments are part of those segments.
		{method: "GET", path: "/v1/shelves/s:1/books/b:2", want: "/v1/shelves/{shelf}/books/{book}", vars: []string{"s:1", "b:2"}},
		// ...and never split a verb off: "operations:x" is one segment.
		{method: "POST", path: "/v1/operations:x/op1:cancel", allowed: nil},
		{method: "POST", path: "/v1/operations:cancel/op1", allowed: nil},
		{method: "POST", path: "/v1:batchGet", want: "/v1:batchGet"},
		// A verb needs something before it in its segment.
		{method: "POST", path: "/v1/operations/:cancel", allowed: []string{"GET"}},
		// An unknown verb is part of the segment: GET matches, so 405.
		{method: "POST", path: "/v1/operations/op1:pause", allowed: []string{"GET"}},
		{method: "GET", path: "/v1/operations/op1:pause", want: "/v1/{name=operations/*}", vars: []string{"operations/op1:pause"}},
		// A known verb of another method.
		{method: "GET", path: "/v1/operations/op1:cancel", want: "/v1/{name=operations/*}", vars: []string{"operations/op1:cancel"}},
		{method: "PUT", path: "/v1/operations/op1:cancel", allowed: []string{"GET", "POST"}},
		// Verb routes are tried before verb-less ones, whatever their
		// segments: "special" with the verb wins, and without it "{id}"
		// takes the whole segment.
		{method: "GET", path: "/v1/x/special:verb", want: "/v1/x/special:verb"},
		{method: "GET", path: "/v1/x/other:verb", want: "/v1/x/{id}", vars: []string{"other:verb"}},
		{method: "GET", path: "/v1/x/special:", want: "/v1/x/{id}", vars: []string{"special:"}},
		{method: "GET", path: "/v1/x/:verb", want: "/v1/x/{id}", vars: []string{":verb"}},
	})
}
