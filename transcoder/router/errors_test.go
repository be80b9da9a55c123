package router

import (
	"strings"
	"testing"

	"github.com/portico-gw/portico/catalog/httprule"
)

func TestLookupMethodNotAllowed(t *testing.T) {
	r, routes := build(t,
		"GET /v1/books/{book}",
		"DELETE /v1/books/{book}",
		"PATCH /v1/{name=books/*}",
		"POST /v1/books",
		"GET /v1/books",
		"POST /v1/books/{book}:publish",
		"PURGE /v1/**",
	)
	runLookups(t, r, routes, []lookupCase{
		{method: "PUT", path: "/v1/books/b1", allowed: []string{"DELETE", "GET", "PATCH", "PURGE"}},
		{method: "POST", path: "/v1/books/b1", allowed: []string{"DELETE", "GET", "PATCH", "PURGE"}},
		{method: "GET", path: "/v1/books/b1:publish", want: "/v1/books/{book}", vars: []string{"b1:publish"}},
		{method: "PUT", path: "/v1/books/b1:publish", allowed: []string{"DELETE", "GET", "PATCH", "POST", "PURGE"}},
		{method: "DELETE", path: "/v1/books", allowed: []string{"GET", "POST", "PURGE"}},
		// A method no route uses.
		{method: "OPTIONS", path: "/v1/books", allowed: []string{"GET", "POST", "PURGE"}},
		// Methods are case-sensitive.
		{method: "get", path: "/v1/books", allowed: []string{"GET", "POST", "PURGE"}},
		{method: "GET", path: "/v2/books", allowed: nil},
		{method: "GET", path: "/v1", allowed: []string{"PURGE"}},
	})
}

func TestLookupRawPath(t *testing.T) {
	r, routes := build(t,
		"GET /v1/{name=files/*}",
		"GET /v1/files/a%2Fb",
		"GET /v1/tree/{path=**}",
		"GET /v1/users/{user}/keys/{key}",
	)
	runLookups(t, r, routes, []lookupCase{
		// "%2F" stays inside its segment and in the variable, undecoded.
		{method: "GET", path: "/v1/files/x%2Fy", want: "/v1/{name=files/*}", vars: []string{"files/x%2Fy"}},
		{method: "GET", path: "/v1/files/x%2Fy/z", allowed: nil},
		{method: "GET", path: "/v1/users/a%20b/keys/%E2%82%AC", want: "/v1/users/{user}/keys/{key}", vars: []string{"a%20b", "%E2%82%AC"}},
		{method: "GET", path: "/v1/tree/a%2F/b%3Ac:d", want: "/v1/tree/{path=**}", vars: []string{"a%2F/b%3Ac:d"}},
		// Literals match byte for byte: an escape in a template matches
		// only the same escape.
		{method: "GET", path: "/v1/files/a%2Fb", want: "/v1/files/a%2Fb"},
		{method: "GET", path: "/v1/files/a%2fb", want: "/v1/{name=files/*}", vars: []string{"files/a%2fb"}},
		{method: "GET", path: "/v1/files/a/b", allowed: nil},
	})
}

func TestLookupEmptySegments(t *testing.T) {
	r, routes := build(t,
		"GET /{all=**}",
		"GET /v1/{x}/{y}",
	)
	runLookups(t, r, routes, []lookupCase{
		{method: "GET", path: "/a", want: "/{all=**}", vars: []string{"a"}},
		{method: "GET", path: "/v1/a/b", want: "/v1/{x}/{y}", vars: []string{"a", "b"}},
		{method: "GET", path: "/", allowed: nil},
		{method: "GET", path: "", allowed: nil},
		{method: "GET", path: "v1/a/b", allowed: nil},
		{method: "GET", path: "//", allowed: nil},
		{method: "GET", path: "/v1//b", allowed: nil},
		{method: "GET", path: "/v1/a/", allowed: nil},
		{method: "GET", path: "//v1/a/b", allowed: nil},
		{method: "POST", path: "/a//b", allowed: nil},
	})
}

func TestAddConflict(t *testing.T) {
	tests := []struct {
		first, second string // "METHOD /template"
		conflict      bool
	}{
		{"GET /v1/{name=shelves/*}", "GET /v1/shelves/{shelf}", true},
		{"GET /v1/{a}/{b}", "GET /v1/{c=*/*}", true},
		{"GET /v1/{x=*}", "GET /v1/{y}", true},
		{"GET /v1/files/{path=**}", "GET /v1/{f=files/**}", true},
		{"POST /v1/{name=ops/*}:cancel", "POST /v1/ops/{op}:cancel", true},
		{"GET /v1/x", "GET /v1/{x=x}", true},
		// Different methods, verbs or shapes do not conflict.
		{"GET /v1/{name=shelves/*}", "DELETE /v1/{name=shelves/*}", false},
		{"POST /v1/{name=ops/*}:cancel", "POST /v1/{name=ops/*}:delete", false},
		{"POST /v1/{name=ops/*}:cancel", "POST /v1/{name=ops/*}", false},
		{"GET /v1/shelves/{shelf}", "GET /v1/shelves/special", false},
		{"GET /v1/shelves/*", "GET /v1/shelves/**", false},
		{"GET /v1/shelves", "GET /v1/shelves/**", false},
	}
	for _, tc := range tests {
		t.Run(tc.first+" + "+tc.second, func(t *testing.T) {
			r, _ := build(t, routeSpec(tc.first))
			method, raw, _ := strings.Cut(tc.second, " ")
			tpl, err := httprule.Parse(raw)
			if err != nil {
				t.Fatal(err)
			}
			err = r.Add(method, tpl, raw)
			if !tc.conflict {
				if err != nil {
					t.Fatalf("Add got error %v, want nil", err)
				}
				return
			}
			if err == nil {
				t.Fatalf("Add got nil error, want a conflict")
			}
			_, firstRaw, _ := strings.Cut(tc.first, " ")
			for _, want := range []string{`"` + firstRaw + `"`, `"` + raw + `"`, "conflicts", `"` + tpl.Shape() + `"`} {
				if !strings.Contains(err.Error(), want) {
					t.Errorf("Add got error %q, want it to contain %s", err, want)
				}
			}
			// The first route still serves.
			p := strings.NewReplacer("{", "", "}", "", "*", "x", "=", "").Replace(firstRaw)
			if m, _, ok := r.Lookup(method, p); ok && m.Value != firstRaw {
				t.Errorf("Lookup(%q) after the conflict got %q, want %q", p, m.Value, firstRaw)
			}
		})
	}
}

func TestAddInvalid(t *testing.T) {
	seg := func(k httprule.SegmentKind, lit string) httprule.Segment {
		return httprule.Segment{Kind: k, Literal: lit}
	}
	lit := func(s string) httprule.Segment { return seg(httprule.Literal, s) }
	star := seg(httprule.Wildcard, "")
	deep := seg(httprule.DeepWildcard, "")
	tests := []struct {
		name   string
		method string
		tpl    *httprule.Template
		want   string
	}{
		{"nil template", "GET", nil, "nil template"},
		{"empty method", "", &httprule.Template{Segments: []httprule.Segment{lit("a")}}, "empty HTTP method"},
		{"method with space", "GE T", &httprule.Template{Segments: []httprule.Segment{lit("a")}}, `invalid HTTP method "GE T"`},
		{"method with slash", "GET/", &httprule.Template{Segments: []httprule.Segment{lit("a")}}, "invalid HTTP method"},
		{"no segments", "GET", &httprule.Template{Raw: "/x"}, "no segments"},
		{"empty literal", "GET", &httprule.Template{Segments: []httprule.Segment{lit("")}}, "is empty or has"},
		{"slash in literal", "GET", &httprule.Template{Segments: []httprule.Segment{lit("a/b")}}, "is empty or has"},
		{"deep not last", "GET", &httprule.Template{Segments: []httprule.Segment{deep, star}}, `"**" must be the last segment`},
		{"unknown kind", "GET", &httprule.Template{Segments: []httprule.Segment{seg(9, "")}}, "unknown kind 9"},
		{"var out of range", "GET", &httprule.Template{
			Segments: []httprule.Segment{star},
			Vars:     []httprule.Variable{{FieldPath: []string{"a"}, Start: 0, End: 2}},
		}, "covers segments [0,2)"},
		{"vars overlap", "GET", &httprule.Template{
			Segments: []httprule.Segment{star, star},
			Vars: []httprule.Variable{
				{FieldPath: []string{"a"}, Start: 0, End: 2},
				{FieldPath: []string{"b"}, Start: 1, End: 2},
			},
		}, "covers segments [1,2)"},
		{"empty var", "GET", &httprule.Template{
			Segments: []httprule.Segment{star},
			Vars:     []httprule.Variable{{FieldPath: []string{"a"}, Start: 0, End: 0}},
		}, "covers segments [0,0)"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			r := New[int]()
			err := r.Add(tc.method, tc.tpl, 1)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("Add got error %v, want one containing %q", err, tc.want)
			}
			if _, allowed, found := r.Lookup("GET", "/a"); found || allowed != nil {
				t.Errorf("Lookup after a failed Add got found=%v allowed=%q, want nothing", found, allowed)
			}
		})
	}
}

// A template built by hand, without Raw, is named by its canonical form.
func TestAddConflictHandBuilt(t *testing.T) {
	tpl := &httprule.Template{Segments: []httprule.Segment{{Kind: httprule.Literal, Literal: "a"}}}
	r := New[int]()
	if err := r.Add("GET", tpl, 1); err != nil {
		t.Fatal(err)
	}
	err := r.Add("GET", tpl, 2)
	if err == nil || !strings.Contains(err.Error(), `"/a"`) {
		t.Fatalf("Add got error %v, want a conflict naming \"/a\"", err)
	}
	m, _, ok := r.Lookup("GET", "/a")
	if !ok || m.Value != 1 || m.Vars != nil {
		t.Fatalf("Lookup got %+v, %v, want value 1 and no vars", m, ok)
	}
}
