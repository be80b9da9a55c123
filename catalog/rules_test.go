package catalog

import (
	"errors"
	"os"
	"path/filepath"
	"slices"
	"testing"

	"github.com/portico-gw/portico/config"

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
documentation: {summary: "Every field of google.api.Service is accepted."}
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
		if got := rules[sel]; got == nil || !proto.Equal(got.HTTP, w) {
			t.Errorf("%s: got %v, want %v", sel, got, w)
		}
	}
	// Each rule knows where it was written.
	for sel, line := range map[string]int{
		"example.bookstore.v1.BookstoreService.GetShelfStats": 8,
		"example.bookstore.v1.BookstoreService.MoveBook":      10,
		"example.bookstore.v1.BookstoreService.UpdateBook":    18,
	} {
		r := rules[sel]
		if r.Field != "http_rules[0]" || r.File != p || r.Line != line || r.Column != 7 {
			t.Errorf("%s: got %s %s:%d:%d, want http_rules[0] %s:%d:7", sel, r.Field, r.File, r.Line, r.Column, p, line)
		}
	}
	// And so does an additional binding.
	mb := rules["example.bookstore.v1.BookstoreService.MoveBook"]
	if e := mb.errorAt(mb.HTTP.GetAdditionalBindings()[0], "x"); e.Line != 15 || e.Column != 11 {
		t.Errorf("additional binding: got %d:%d, want 15:11", e.Line, e.Column)
	}
}

// TestLoadHTTPRulesExample: the example gateway's rules file loads.
func TestLoadHTTPRulesExample(t *testing.T) {
	rules, err := LoadHTTPRules([]string{"../examples/gateway/apis/bookstore_http.yaml"})
	if err != nil {
		t.Fatalf("LoadHTTPRules: %v", err)
	}
	r := rules["example.bookstore.v1.BookstoreService.GetShelfStats"].HTTP
	if got := r.GetGet(); got != "/v1/shelves/{shelf}/stats" {
		t.Errorf("got get %q, want /v1/shelves/{shelf}/stats", got)
	}
	// And the catalog accepts it.
	c := mustNew(t, Options{Rules: rules, APIs: []API{bookstoreAPI(&fakeBackend{})}})
	if got := describe(method(t, c, "GetShelfStats").bindings); len(got) != 1 || got[0] != "GET /v1/shelves/{shelf}/stats" {
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
	if len(rules) != 2 || rules["pkg.S.A"].HTTP.GetGet() != "/a" || rules["pkg.S.B"].HTTP.GetDelete() != "/b" {
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
	wildcard := writeFile(t, dir, "wild.yaml", "http:\n  rules:\n    - {selector: pkg.S.*, get: /a}\n")
	badYAML := writeFile(t, dir, "bad.yaml", "http:\n  rules: [\n")
	badType := writeFile(t, dir, "badtype.yaml", "http:\n  rules:\n    - {selector: pkg.S.A, get: [1, 2]}\n")
	misspelt := writeFile(t, dir, "misspelt.yaml", "type: google.api.Service\nhtttp:\n  rules:\n    - {selector: pkg.S.A, get: /a}\n")
	badKey := writeFile(t, dir, "badkey.yaml", "http:\n  rules:\n    - selector: pkg.S.A\n      gett: /a\n")
	otherType := writeFile(t, dir, "othertype.yaml", "type: google.api.Other\nhttp: {}\n")
	missing := filepath.Join(dir, "missing.yaml")
	empty := writeFile(t, dir, "empty-file.yaml", "# only a comment\n")

	tests := []struct {
		name  string
		paths []string
		want  []string // every error, as printed
	}{
		{"duplicate selector across files", []string{first, second},
			[]string{second + `:4:7: http_rules[1]: selector "pkg.S.A" already has a rule at ` + first + ":3:7"}},
		{"duplicate selector in one file", []string{dupInOne},
			[]string{dupInOne + `:4:7: http_rules[0]: selector "pkg.S.A" already has a rule at ` + dupInOne + ":3:7"}},
		{"empty selector", []string{emptySel},
			[]string{emptySel + ":4:7: http_rules[0]: rule has no selector (want the full name of a method, such as package.Service.Method)"}},
		{"wildcard selector", []string{wildcard},
			[]string{wildcard + `:3:7: http_rules[0]: selector "pkg.S.*" must name one method, without wildcards`}},
		{"not YAML", []string{badYAML}, []string{badYAML + ":2: http_rules[0]: not valid YAML: did not find expected node content"}},
		{"wrong field type", []string{badType}, []string{badType + ":3:32: http_rules[0]: expected scalar, got sequence"}},
		{"misspelt top-level key", []string{misspelt}, []string{misspelt + `:2:1: http_rules[0]: unknown key "htttp" in google.api.Service (did you mean "http"?)`}},
		{"misspelt rule key", []string{badKey}, []string{badKey + `:4:7: http_rules[0]: unknown key "gett" in google.api.HttpRule (did you mean "get"?)`}},
		{"another type", []string{otherType}, []string{otherType + `:1:7: http_rules[0]: type: got "google.api.Other", want google.api.Service`}},
		{"missing file", []string{first, missing}, []string{"http_rules[1]: " + missing + ": no such file or folder"}},
		{"empty file", []string{empty}, []string{empty + ": http_rules[0]: the file is empty (want type: google.api.Service with http.rules)"}},
		{"every error at once", []string{badKey, misspelt, missing}, []string{
			badKey + `:4:7: http_rules[0]: unknown key "gett" in google.api.HttpRule (did you mean "get"?)`,
			misspelt + `:2:1: http_rules[1]: unknown key "htttp" in google.api.Service (did you mean "http"?)`,
			"http_rules[2]: " + missing + ": no such file or folder",
		}},
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
			var errs config.Errors
			if !errors.As(err, &errs) {
				t.Fatalf("got error of type %T, want config.Errors", err)
			}
			var got []string
			for _, e := range errs {
				got = append(got, e.Error())
			}
			slices.Sort(got)
			want := slices.Clone(tt.want)
			slices.Sort(want)
			if !slices.Equal(got, want) {
				t.Errorf("got errors\n%q\nwant\n%q", got, want)
			}
		})
	}
}
