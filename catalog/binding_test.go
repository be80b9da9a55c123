package catalog

// The HTTP bindings of a method: from its annotation, from a config rule,
// or the default one.

import (
	"fmt"
	"slices"
	"testing"

	"google.golang.org/genproto/googleapis/api/annotations"
)

func TestBindingsFromAnnotations(t *testing.T) {
	c := mustNew(t, Options{APIs: []API{bookstoreAPI(&fakeBackend{})}})
	tests := []struct {
		method string
		want   []string
	}{
		{"ListShelves", []string{"GET /v1/shelves"}},
		{"CreateShelf", []string{"POST /v1/shelves body=shelf"}},
		{"DeleteShelf", []string{"DELETE /v1/shelves/{shelf}"}},
		{"ListBooks", []string{"GET /v1/{parent=shelves/*}/books", "GET /v1/{parent=shelves/*}/books:titles response_body=books"}},
		{"GetBook", []string{"GET /v1/{name=shelves/*/books/*}", "GET /v1/books/{name=**}"}},
		{"UpdateBook", []string{"PATCH /v1/{book.name=shelves/*/books/*} body=book"}},
		{"MoveBook", []string{"POST /v1/{name=shelves/*/books/*}:move body=*"}},
		{"UploadBookCover", []string{"PUT /v1/{name=shelves/*/books/*}/cover body=cover"}},
		{"WatchBooks", []string{"GET /v1/{parent=shelves/*}/books:watch"}},
		{"ImportBooks", []string{"POST /v1/books:import body=*"}},
		{"LookupBooks", []string{"POST /v1/books:lookup body=*"}},
		// No annotation and no default bindings asked: gRPC only.
		{"GetShelfStats", []string{}},
		{"Reindex", []string{}},
	}
	for _, tt := range tests {
		t.Run(tt.method, func(t *testing.T) {
			m := method(t, c, tt.method)
			if got := describe(m.bindings); !slices.Equal(got, tt.want) {
				t.Errorf("got %q, want %q", got, tt.want)
			}
			for _, b := range m.bindings {
				if b.Method != m {
					t.Errorf("binding %s %s: Method is not the method bound", b.HTTPMethod, b.Template.Raw)
				}
			}
		})
	}
	// The template is parsed, not only stored.
	tpl := method(t, c, "MoveBook").bindings[0].Template
	if tpl.Verb != "move" || len(tpl.Vars) != 1 || !slices.Equal(tpl.Vars[0].FieldPath, []string{"name"}) {
		t.Errorf("MoveBook template: got verb %q vars %+v, want verb move and one variable name", tpl.Verb, tpl.Vars)
	}
}

func TestDefaultBindings(t *testing.T) {
	api := bookstoreAPI(&fakeBackend{})
	api.DefaultBindings = true
	c := mustNew(t, Options{APIs: []API{api}})
	tests := []struct {
		method string
		want   []string
	}{
		{"Reindex", []string{"POST /example.bookstore.v1.BookstoreService/Reindex body=* default"}},
		{"GetShelfStats", []string{"POST /example.bookstore.v1.BookstoreService/GetShelfStats body=* default"}},
		// A method with an annotation keeps it and gets no default binding.
		{"ListShelves", []string{"GET /v1/shelves"}},
		{"GetBook", []string{"GET /v1/{name=shelves/*/books/*}", "GET /v1/books/{name=**}"}},
	}
	for _, tt := range tests {
		if got := describe(method(t, c, tt.method).bindings); !slices.Equal(got, tt.want) {
			t.Errorf("%s: got %q, want %q", tt.method, got, tt.want)
		}
	}
}

func TestHTTPRulesFromConfig(t *testing.T) {
	rules := map[string]*annotations.HttpRule{
		// A method without an annotation gets the rule.
		bookstoreService + ".GetShelfStats": {Pattern: &annotations.HttpRule_Get{Get: "/v1/shelves/{shelf}/stats"}},
		// A rule replaces the annotation entirely, additional bindings
		// included.
		bookstoreService + ".GetBook": {
			Pattern: &annotations.HttpRule_Post{Post: "/v2/books:get"},
			Body:    "*",
			AdditionalBindings: []*annotations.HttpRule{
				{Pattern: &annotations.HttpRule_Custom{Custom: &annotations.CustomHttpPattern{Kind: "HEAD", Path: "/v2/{name=shelves/*/books/*}"}}},
			},
		},
	}
	for _, defaults := range []bool{false, true} {
		t.Run(fmt.Sprintf("default bindings %v", defaults), func(t *testing.T) {
			api := bookstoreAPI(&fakeBackend{})
			api.DefaultBindings = defaults
			c := mustNew(t, Options{Rules: ruleSet(rules), APIs: []API{api}})
			tests := []struct {
				method string
				want   []string
			}{
				{"GetShelfStats", []string{"GET /v1/shelves/{shelf}/stats"}},
				{"GetBook", []string{"POST /v2/books:get body=*", "HEAD /v2/{name=shelves/*/books/*}"}},
				{"GetShelf", []string{"GET /v1/shelves/{shelf}"}},
			}
			for _, tt := range tests {
				if got := describe(method(t, c, tt.method).bindings); !slices.Equal(got, tt.want) {
					t.Errorf("%s: got %q, want %q", tt.method, got, tt.want)
				}
			}
		})
	}
}

// TestServerStreamingAnyBody: only client streaming constrains the body.
func TestServerStreamingAnyBody(t *testing.T) {
	rules := map[string]*annotations.HttpRule{
		bookstoreService + ".WatchBooks": {Pattern: &annotations.HttpRule_Post{Post: "/v1/watch"}, Body: "parent"},
	}
	c := mustNew(t, Options{Rules: ruleSet(rules), APIs: []API{bookstoreAPI(&fakeBackend{})}})
	if got, want := describe(method(t, c, "WatchBooks").bindings), []string{"POST /v1/watch body=parent"}; !slices.Equal(got, want) {
		t.Errorf("got %q, want %q", got, want)
	}
}
