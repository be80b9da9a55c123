package catalog

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"google.golang.org/genproto/googleapis/api/annotations"
	"google.golang.org/protobuf/proto"
)

func writeFile(t *testing.T, dir, name, content string) string {
	t.Helper()
	p := filepath.Join(dir, name)
	if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

func TestLoadHTTPRules(t *testing.T) {
	dir := t.TempDir()
	p := writeFile(t, dir, "api.yaml", `# gRPC API Configuration
type: google.api.Service
config_version: 3
name: bookstore.example.com
some_future_key: {nested: [1, 2]}
http:
  rules:
    - selector: example.bookstore.v1.BookstoreService.GetShelfStats
      get: /v1/shelves/{shelf}/stats
    - selector: example.bookstore.v1.BookstoreService.MoveBook
      post: /v1/{name=shelves/*/books/*}:move
      body: "*"
      response_body: name
      additional_bindings:
        - custom:
            kind: HEAD
            path: /v1/{name=shelves/*/books/*}
    - selector: example.bookstore.v1.BookstoreService.UpdateBook
      patch: /v1/{book.name=shelves/*/books/*}
      body: book
`)
	rules, err := LoadHTTPRules([]string{p})
	if err != nil {
		t.Fatalf("LoadHTTPRules: %v", err)
	}
	want := map[string]*annotations.HttpRule{
		"example.bookstore.v1.BookstoreService.GetShelfStats": {
			Selector: "example.bookstore.v1.BookstoreService.GetShelfStats",
			Pattern:  &annotations.HttpRule_Get{Get: "/v1/shelves/{shelf}/stats"},
		},
		"example.bookstore.v1.BookstoreService.MoveBook": {
			Selector:     "example.bookstore.v1.BookstoreService.MoveBook",
			Pattern:      &annotations.HttpRule_Post{Post: "/v1/{name=shelves/*/books/*}:move"},
			Body:         "*",
			ResponseBody: "name",
			AdditionalBindings: []*annotations.HttpRule{{
				Pattern: &annotations.HttpRule_Custom{Custom: &annotations.CustomHttpPattern{Kind: "HEAD", Path: "/v1/{name=shelves/*/books/*}"}},
			}},
		},
		"example.bookstore.v1.BookstoreService.UpdateBook": {
			Selector: "example.bookstore.v1.BookstoreService.UpdateBook",
			Pattern:  &annotations.HttpRule_Patch{Patch: "/v1/{book.name=shelves/*/books/*}"},
			Body:     "book",
		},
	}
	if len(rules) != len(want) {
		t.Errorf("got %d rules, want %d", len(rules), len(want))
	}
	for sel, w := range want {
		if got := rules[sel]; !proto.Equal(got, w) {
			t.Errorf("%s: got %v, want %v", sel, got, w)
		}
	}
}

// TestLoadHTTPRulesExample: the example gateway's rules file loads.
func TestLoadHTTPRulesExample(t *testing.T) {
	rules, err := LoadHTTPRules([]string{"../examples/gateway/apis/bookstore_http.yaml"})
	if err != nil {
		t.Fatalf("LoadHTTPRules: %v", err)
	}
	r := rules["example.bookstore.v1.BookstoreService.GetShelfStats"]
	if got := r.GetGet(); got != "/v1/shelves/{shelf}/stats" {
		t.Errorf("got get %q, want /v1/shelves/{shelf}/stats", got)
	}
	// And the catalog accepts it.
	c := mustNew(t, Options{Rules: rules, APIs: []API{bookstoreAPI(&fakeBackend{})}})
	if got := describe(method(t, c, "GetShelfStats").Bindings); len(got) != 1 || got[0] != "GET /v1/shelves/{shelf}/stats" {
		t.Errorf("got bindings %q, want [GET /v1/shelves/{shelf}/stats]", got)
	}
}

func TestLoadHTTPRulesSeveralFiles(t *testing.T) {
	dir := t.TempDir()
	a := writeFile(t, dir, "a.yaml", "http:\n  rules:\n    - {selector: pkg.S.A, get: /a}\n")
	b := writeFile(t, dir, "b.yaml", "http:\n  rules:\n    - {selector: pkg.S.B, delete: /b}\n")
	rules, err := LoadHTTPRules([]string{a, b})
	if err != nil {
		t.Fatal(err)
	}
	if len(rules) != 2 || rules["pkg.S.A"].GetGet() != "/a" || rules["pkg.S.B"].GetDelete() != "/b" {
		t.Errorf("got %v, want pkg.S.A GET /a and pkg.S.B DELETE /b", rules)
	}
}

func TestLoadHTTPRulesNoRules(t *testing.T) {
	dir := t.TempDir()
	for _, content := range []string{"type: google.api.Service\n", "http: {}\n", "http:\n  rules: []\n"} {
		rules, err := LoadHTTPRules([]string{writeFile(t, dir, "empty.yaml", content)})
		if err != nil {
			t.Errorf("%q: %v", content, err)
			continue
		}
		if len(rules) != 0 {
			t.Errorf("%q: got %v, want no rules", content, rules)
		}
	}
	rules, err := LoadHTTPRules(nil)
	if err != nil || len(rules) != 0 {
		t.Errorf("no files: got %v, %v, want no rules and no error", rules, err)
	}
}

func TestLoadHTTPRulesErrors(t *testing.T) {
	dir := t.TempDir()
	first := writeFile(t, dir, "first.yaml", "http:\n  rules:\n    - {selector: pkg.S.A, get: /a}\n")
	second := writeFile(t, dir, "second.yaml", "http:\n  rules:\n    - {selector: pkg.S.B, get: /b}\n    - {selector: pkg.S.A, get: /a2}\n")
	emptySel := writeFile(t, dir, "empty.yaml", "http:\n  rules:\n    - {selector: pkg.S.A, get: /a}\n    - {get: /nothing}\n")
	dupInOne := writeFile(t, dir, "dup.yaml", "http:\n  rules:\n    - {selector: pkg.S.A, get: /a}\n    - {selector: pkg.S.A, post: /a}\n")
	badYAML := writeFile(t, dir, "bad.yaml", "http:\n  rules: [\n")
	badType := writeFile(t, dir, "badtype.yaml", "http:\n  rules:\n    - {selector: pkg.S.A, get: [1, 2]}\n")
	missing := filepath.Join(dir, "missing.yaml")
	empty := writeFile(t, dir, "empty-file.yaml", "# only a comment\n")

	tests := []struct {
		name  string
		paths []string
		want  string
	}{
		{"duplicate selector across files", []string{first, second},
			"http_rules: " + second + `: http.rules[1]: selector "pkg.S.A" already has a rule in ` + first},
		{"duplicate selector in one file", []string{dupInOne},
			"http_rules: " + dupInOne + `: http.rules[1]: selector "pkg.S.A" already has a rule in ` + dupInOne},
		{"empty selector", []string{emptySel},
			"http_rules: " + emptySel + ": http.rules[1]: selector is empty"},
		{"not YAML", []string{badYAML}, "http_rules: " + badYAML + ": "},
		{"wrong field type", []string{badType}, "http_rules: " + badType + ": "},
		{"missing file", []string{missing}, "http_rules: "},
		{"empty file", []string{empty}, "http_rules: " + empty + ": the file is empty"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rules, err := LoadHTTPRules(tt.paths)
			if err == nil {
				t.Fatalf("got %v and no error, want %q", rules, tt.want)
			}
			if rules != nil {
				t.Errorf("got rules %v with the error, want nil", rules)
			}
			if !strings.HasPrefix(err.Error(), tt.want) {
				t.Errorf("got %q, want prefix %q", err, tt.want)
			}
		})
	}
}
