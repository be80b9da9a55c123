package config

import (
	"errors"
	"fmt"
	"strings"
	"testing"

	"buf.build/go/protoyaml"

	configv1 "github.com/portico-gw/portico/gen/portico/config/v1"
)

const locateConfig = `listen:
  http: 127.0.0.1:8080
descriptors:
  - apis/bookstore.binpb
  - apis/missing.binpb
integrations:
  - name: bookstore
    grpc:
      target: 127.0.0.1:50051
apis:
  - services: [example.bookstore.v1.BookstoreService, example.bookstore.v1.Nope]
    integration: bookstore
`

// TestProtoyamlPositions guards the one place that reaches into protoyaml's
// errors (errorNode): if a new version moves the node, problems would lose
// their positions, and this fails.
func TestProtoyamlPositions(t *testing.T) {
	err := protoyaml.UnmarshalOptions{}.Unmarshal([]byte("listen:\n  http: [a]\n"), &configv1.Config{})
	errs := protoyamlErrors(err)
	if len(errs) != 1 {
		t.Fatalf("protoyamlErrors(%v) = %d problems, want 1", err, len(errs))
	}
	if got := errs[0]; got.Line != 2 || got.Column != 9 || strings.Contains(got.Message, "\n") {
		t.Errorf("protoyamlErrors: got %d:%d %q, want 2:9 and a one-line message", got.Line, got.Column, got.Message)
	}
}

func TestLocate(t *testing.T) {
	f, err := parse([]byte(locateConfig), "/etc/portico", "portico.yaml")
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		field string
		want  string
	}{
		{"descriptors[1]", "portico.yaml:5:5: descriptors[1]: x"},
		{"apis[0].services[1]", "portico.yaml:11:55: apis[0].services[1]: x"},
		{"integrations[0].grpc.target", "portico.yaml:9:15: integrations[0].grpc.target: x"},
		// Absent keys are placed at their nearest ancestor in the file.
		{"integrations[0].grpc.timeout", "portico.yaml:9:7: integrations[0].grpc.timeout: x"},
		{"apis[0].auth.providers[0]", "portico.yaml:11:5: apis[0].auth.providers[0]: x"},
		// Nothing of the path in the file, or the file as a whole.
		{"http_rules[0]", "portico.yaml: http_rules[0]: x"},
		{"", "portico.yaml: x"},
	} {
		e := &Error{Field: tc.field, Message: "x"}
		if got := f.Locate(e); got != error(e) || e.Error() != tc.want {
			t.Errorf("Locate(%q): got %q, want %q", tc.field, e.Error(), tc.want)
		}
	}
	// Problems already placed, in this file or another, are left alone.
	other := &Error{File: "apis/rules.yaml", Line: 3, Column: 1, Field: "http.rules[0]", Message: "x"}
	f.Locate(other)
	if got, want := other.Error(), "apis/rules.yaml:3:1: http.rules[0]: x"; got != want {
		t.Errorf("Locate(placed): got %q, want %q", got, want)
	}
}

func TestLocateWrapped(t *testing.T) {
	f, err := parse([]byte(locateConfig), "/etc/portico", "portico.yaml")
	if err != nil {
		t.Fatal(err)
	}
	a := &Error{Field: "descriptors[0]", Message: "a"}
	b := &Error{Field: "apis[0].integration", Message: "b"}
	err = fmt.Errorf("building: %w", errors.Join(Errors{a}, b, errors.New("plain")))
	if got := f.Locate(err); got != err {
		t.Errorf("Locate returned %v, want its argument", got)
	}
	if a.Line != 4 || b.Line != 12 || a.File != "portico.yaml" {
		t.Errorf("Locate(wrapped): got %s and %s, want lines 4 and 12 of portico.yaml", a, b)
	}
}

func TestJoin(t *testing.T) {
	f, parseErr := parse([]byte(`integrations:
  - name: bookstore
    grpc: 127.0.0.1:50051
apis:
  - services: [example.bookstore.v1.BookstoreService]
    integration: bookstore
descriptors: [a.binpb]
`), "/etc/portico", "portico.yaml")
	if parseErr == nil || f == nil {
		t.Fatalf("parse: got %v, %v; want a partial File and a problem", f, parseErr)
	}
	if f.Config.GetApis()[0].GetIntegration() != "bookstore" {
		t.Errorf("partial File lacks what was decoded: %v", f.Config)
	}
	build := Errors{
		{Field: "integrations[0]", Message: "no backend kind"},                        // follows from the parse problem
		{Field: "descriptors[0]", Message: "no such file"},                            // news
		{Field: "apis[0].services[0]", Message: "service not found"},                  // news
		{File: "a.yaml", Line: 2, Field: "http.rules[0]", Message: "in a rules file"}, // another file
	}
	err := f.Join(parseErr, build, errors.New("whole snapshot: plain error"))
	want := strings.Join([]string{
		"portico.yaml: whole snapshot: plain error",
		`portico.yaml:3:11: integrations[0].grpc: want a mapping, got string "127.0.0.1:50051"`,
		"portico.yaml:5:16: apis[0].services[0]: service not found",
		"portico.yaml:7:15: descriptors[0]: no such file",
		"a.yaml:2: http.rules[0]: in a rules file",
	}, "\n")
	if err == nil || err.Error() != want {
		t.Errorf("Join:\ngot:\n%v\nwant:\n%s", err, want)
	}
	if err := f.Join(nil, Errors(nil)); err != nil {
		t.Errorf("Join(no problems) = %v, want nil", err)
	}
}

func TestParentPath(t *testing.T) {
	for in, want := range map[string]string{
		"apis[0].services[1]":                   "apis[0].services",
		"apis[0].services":                      "apis[0]",
		"apis[0]":                               "apis",
		"apis":                                  "",
		`apis[0].request.set_metadata["a.b[c"]`: "apis[0].request.set_metadata",
		`m["x\"]"].y`:                           `m["x\"]"]`,
	} {
		if got := parentPath(in); got != want {
			t.Errorf("parentPath(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestRelated(t *testing.T) {
	for _, tc := range []struct {
		a, b string
		want bool
	}{
		{"apis[0]", "apis[0]", true},
		{"apis[0]", "apis[0].services", true},
		{"apis[0].services[1]", "apis[0]", true},
		{"apis[0]", "apis[01]", false},
		{"apis[1]", "apis[10]", false},
		{"listen.http", "listen.https", false},
		{"", "apis", false},
		{"", "", false},
	} {
		if got := related(tc.a, tc.b); got != tc.want {
			t.Errorf("related(%q, %q) = %v, want %v", tc.a, tc.b, got, tc.want)
		}
	}
}
