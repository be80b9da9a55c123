package catalog

// The errors New reports, each at its config key.

import (
	"slices"
	"strings"
	"testing"

	"google.golang.org/genproto/googleapis/api/annotations"
)

func TestNewErrors(t *testing.T) {
	b := &fakeBackend{}
	rule := func(sel string, r *annotations.HttpRule) Rules {
		return ruleSet(map[string]*annotations.HttpRule{bookstoreService + "." + sel: r})
	}
	get := func(path string) *annotations.HttpRule {
		return &annotations.HttpRule{Pattern: &annotations.HttpRule_Get{Get: path}}
	}
	post := func(path, body string) *annotations.HttpRule {
		return &annotations.HttpRule{Pattern: &annotations.HttpRule_Post{Post: path}, Body: body}
	}
	tests := []struct {
		name string
		opts Options
		want []string // the error's lines
	}{
		{
			name: "nil backend",
			opts: Options{APIs: []API{{Where: "apis[0]", Services: []string{bookstoreService}}}},
			want: []string{"apis[0].integration: no backend"},
		},
		{
			name: "service missing",
			opts: Options{APIs: []API{{Where: "apis[2]", Services: []string{bookstoreService, "example.bookstore.v1.NoSuchService"}, Backend: b}}},
			want: []string{`apis[2].services[1]: service "example.bookstore.v1.NoSuchService" not found in the descriptors`},
		},
		{
			name: "not a service",
			opts: Options{APIs: []API{{Where: "apis[0]", Services: []string{"example.bookstore.v1.Book"}, Backend: b}}},
			want: []string{`apis[0].services[0]: "example.bookstore.v1.Book" is a message, not a service`},
		},
		{
			name: "exposed by two apis",
			opts: Options{APIs: []API{
				{Where: "apis[0]", Services: []string{bookstoreService}, Backend: b},
				{Where: "apis[1]", Services: []string{messagingService, bookstoreService}, Backend: b},
			}},
			want: []string{`apis[1].services[1]: service "example.bookstore.v1.BookstoreService" is already exposed by apis[0].services[0]`},
		},
		{
			name: "exposed twice by one api",
			opts: Options{APIs: []API{{Where: "apis[0]", Services: []string{bookstoreService, bookstoreService}, Backend: b}}},
			want: []string{`apis[0].services[1]: service "example.bookstore.v1.BookstoreService" is already exposed by apis[0].services[0]`},
		},
		{
			name: "selector naming no method",
			opts: Options{Rules: rule("NoSuchMethod", get("/x")), APIs: []API{bookstoreAPI(b)}},
			want: []string{`rules.yaml:1:3: http_rules[0]: selector "example.bookstore.v1.BookstoreService.NoSuchMethod" names no method in the descriptors`},
		},
		{
			name: "misspelt selector",
			opts: Options{Rules: rule("GetShelfs", get("/x")), APIs: []API{bookstoreAPI(b)}},
			want: []string{`rules.yaml:1:3: http_rules[0]: selector "example.bookstore.v1.BookstoreService.GetShelfs" names no method in the descriptors (did you mean "example.bookstore.v1.BookstoreService.GetShelf"?)`},
		},
		{
			name: "selector naming a service",
			opts: Options{Rules: ruleSet(map[string]*annotations.HttpRule{bookstoreService: get("/x")}), APIs: []API{bookstoreAPI(b)}},
			want: []string{`rules.yaml:1:3: http_rules[0]: selector "example.bookstore.v1.BookstoreService" names a service, not a method`},
		},
		{
			name: "selector of a service not exposed, strict",
			opts: Options{
				Rules:  ruleSet(map[string]*annotations.HttpRule{messagingService + ".GetMessage": get("/x")}),
				APIs:   []API{bookstoreAPI(b)},
				Strict: true,
			},
			want: []string{`rules.yaml:1:3: http_rules[0]: selector "example.messaging.v1.MessagingService.GetMessage" names a method of example.messaging.v1.MessagingService, a service that no apis entry exposes: the rule is ignored (strict_routes is set)`},
		},
		{
			name: "service misspelt",
			opts: Options{APIs: []API{{Where: "apis[0]", Services: []string{"example.bookstore.v1.BookstoreServce"}, Backend: b}}},
			want: []string{`apis[0].services[0]: service "example.bookstore.v1.BookstoreServce" not found in the descriptors (did you mean "example.bookstore.v1.BookstoreService"?)`},
		},
		{
			name: "service without its package",
			opts: Options{APIs: []API{{Where: "apis[0]", Services: []string{"BookstoreService"}, Backend: b}}},
			want: []string{`apis[0].services[0]: service "BookstoreService" not found in the descriptors (did you mean "example.bookstore.v1.BookstoreService"?)`},
		},
		{
			name: "custom pattern without kind",
			opts: Options{Rules: rule("GetShelf", &annotations.HttpRule{Pattern: &annotations.HttpRule_Custom{Custom: &annotations.CustomHttpPattern{Path: "/v1/x"}}}), APIs: []API{bookstoreAPI(b)}},
			want: []string{"rules.yaml:1:3: http_rules[0]: rule for method example.bookstore.v1.BookstoreService.GetShelf: custom pattern without a kind"},
		},
		{
			name: "rule without pattern",
			opts: Options{Rules: rule("GetShelf", &annotations.HttpRule{Body: "*"}), APIs: []API{bookstoreAPI(b)}},
			want: []string{"rules.yaml:1:3: http_rules[0]: rule for method example.bookstore.v1.BookstoreService.GetShelf: rule has no pattern (get, put, post, delete, patch or custom)"},
		},
		{
			name: "nested additional_bindings",
			opts: Options{Rules: rule("GetShelf", &annotations.HttpRule{
				Pattern: &annotations.HttpRule_Get{Get: "/v1/a"},
				AdditionalBindings: []*annotations.HttpRule{{
					Pattern:            &annotations.HttpRule_Get{Get: "/v1/b"},
					AdditionalBindings: []*annotations.HttpRule{get("/v1/c")},
				}},
			}), APIs: []API{bookstoreAPI(b)}},
			want: []string{"rules.yaml:1:3: http_rules[0]: rule for method example.bookstore.v1.BookstoreService.GetShelf: additional_bindings[0]: nested additional_bindings are not allowed"},
		},
		{
			name: "bad additional binding",
			opts: Options{Rules: rule("GetShelf", &annotations.HttpRule{
				Pattern:            &annotations.HttpRule_Get{Get: "/v1/a"},
				AdditionalBindings: []*annotations.HttpRule{get("/v1/b"), {}},
			}), APIs: []API{bookstoreAPI(b)}},
			want: []string{"rules.yaml:1:3: http_rules[0]: rule for method example.bookstore.v1.BookstoreService.GetShelf: additional_bindings[1]: rule has no pattern (get, put, post, delete, patch or custom)"},
		},
		{
			name: "client streaming with path variables",
			opts: Options{Rules: rule("ImportBooks", post("/v1/{parent=shelves/*}/books:import", "*")), APIs: []API{bookstoreAPI(b)}},
			want: []string{`rules.yaml:1:3: http_rules[0]: rule for method example.bookstore.v1.BookstoreService.ImportBooks: client-streaming method cannot bind path variables (parent): the request body is the stream of request messages`},
		},
		{
			name: "bidi streaming additional binding with path variables",
			opts: Options{Rules: rule("LookupBooks", &annotations.HttpRule{
				Pattern:            &annotations.HttpRule_Post{Post: "/v1/books:lookup"},
				Body:               "*",
				AdditionalBindings: []*annotations.HttpRule{get("/v1/{name=shelves/*/books/*}:lookup")},
			}), APIs: []API{bookstoreAPI(b)}},
			want: []string{`rules.yaml:1:3: http_rules[0]: rule for method example.bookstore.v1.BookstoreService.LookupBooks: additional_bindings[0]: client-streaming method cannot bind path variables (name): the request body is the stream of request messages`},
		},
		{
			name: "every error at once, sorted",
			opts: Options{
				Rules: rule("NoSuchMethod", get("/x")),
				APIs: []API{
					{Where: "apis[1]", Services: []string{"example.Nope"}, Backend: b},
					{Where: "apis[0]", Services: []string{bookstoreService}},
				},
			},
			want: []string{
				"apis[0].integration: no backend",
				`apis[1].services[0]: service "example.Nope" not found in the descriptors`,
				`rules.yaml:1:3: http_rules[0]: selector "example.bookstore.v1.BookstoreService.NoSuchMethod" names no method in the descriptors`,
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, err := New(tt.opts)
			if err == nil {
				t.Fatalf("got no error, want %q", tt.want)
			}
			if c != nil {
				t.Errorf("got a catalog with the error, want nil")
			}
			if got := errorLines(t, err); !slices.Equal(got, tt.want) {
				t.Errorf("got error lines\n%q\nwant\n%q", got, tt.want)
			}
		})
	}
}

func TestNewBadTemplate(t *testing.T) {
	rules := map[string]*annotations.HttpRule{
		bookstoreService + ".GetShelf": {Pattern: &annotations.HttpRule_Get{Get: "/v1/{shelf"}},
	}
	_, err := New(Options{Rules: ruleSet(rules), APIs: []API{bookstoreAPI(&fakeBackend{})}})
	if err == nil {
		t.Fatal("got no error for an unparsable template")
	}
	if want := `rules.yaml:1:3: http_rules[0]: rule for method example.bookstore.v1.BookstoreService.GetShelf: httprule: template "/v1/{shelf": unclosed "{"`; !strings.HasPrefix(err.Error(), want) {
		t.Errorf("got %q, want prefix %q", err, want)
	}
}
