package catalog

import (
	"slices"
	"strings"
	"testing"

	"google.golang.org/genproto/googleapis/api/annotations"
)

// One test per reported problem, named for it.

// TestRegressClientStreamingWithoutBody: grpc-gateway's
// FlowCombination.StreamEmptyRpc is `post: "/stream/empty/rpc"` with no
// body on a client-streaming method; it was refused ("needs body *").
// grpc-gateway reads the request body as the message stream whatever body
// says, and so does Portico now: no body, "*" and a field are accepted.
func TestRegressClientStreamingWithoutBody(t *testing.T) {
	for _, body := range []string{"", "*", "book"} {
		rules := ruleSet(map[string]*annotations.HttpRule{
			bookstoreService + ".ImportBooks": {Pattern: &annotations.HttpRule_Post{Post: "/stream/empty/rpc"}, Body: body},
		})
		c, err := New(Options{Rules: rules, APIs: []API{bookstoreAPI(&fakeBackend{})}})
		if err != nil {
			t.Errorf("body %q: got error %v, want none", body, err)
			continue
		}
		got := describe(method(t, c, "ImportBooks").bindings)
		want := "POST /stream/empty/rpc"
		if body != "" {
			want += " body=" + body
		}
		if !slices.Equal(got, []string{want}) {
			t.Errorf("body %q: got %q, want [%q]", body, got, want)
		}
	}
}

// TestRegressIdenticalRoutesOfTwoServices: grpc-gateway's EchoService and
// UnannotatedEchoService both bind POST /v1/example/echo_body; exposing both
// was a fatal conflict. grpc-gateway serves it (the handler registered last
// wins); Portico resolves it the same way, with a warning.
func TestRegressIdenticalRoutesOfTwoServices(t *testing.T) {
	c, err := New(Options{Files: twoServices(t), APIs: apisOf("portico.test.v1.First", "portico.test.v1.Second")})
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	if got := describe(c.methods["/portico.test.v1.Second/Echo"].bindings); !slices.Equal(got, []string{"POST /v1/echo/{name} body=*"}) {
		t.Errorf("Second.Echo: got %q, want the route", got)
	}
	if len(c.warnings) == 0 {
		t.Error("got no warning for the resolved conflict")
	}
}

// TestRegressSelectorOfServiceNotExposed: a rules file written for several
// services (grpc-gateway's unannotated_echo_service.yaml) stopped the
// gateway when one of them was not exposed. It is a warning now; a
// selector naming nothing loaded stays an error.
func TestRegressSelectorOfServiceNotExposed(t *testing.T) {
	rules := ruleSet(map[string]*annotations.HttpRule{
		messagingService + ".GetMessage": {Pattern: &annotations.HttpRule_Get{Get: "/x"}},
	})
	c, err := New(Options{Rules: rules, APIs: []API{bookstoreAPI(&fakeBackend{})}})
	if err != nil {
		t.Fatalf("New: got %v, want a warning only", err)
	}
	if len(c.warnings) != 1 || !strings.Contains(c.warnings[0].Message, "the rule is ignored") {
		t.Errorf("got warnings %v, want one saying the rule is ignored", c.warnings)
	}
}

// TestRegressMisspeltKeyIgnoredTheFile: a rules file with "htttp:" was read
// as having no rules, silently; "gett:" in a rule said "rule has no
// pattern" naming neither file nor line. Both are errors at their key now.
func TestRegressMisspeltKeyIgnoredTheFile(t *testing.T) {
	dir := t.TempDir()
	for _, tc := range []struct{ content, want string }{
		{"type: google.api.Service\nhtttp:\n  rules:\n  - selector: a.B.C\n    get: /x\n", `:2:1: http_rules[0]: unknown key "htttp" in google.api.Service (did you mean "http"?)`},
		{"type: google.api.Service\nhttp:\n  rules:\n  - selector: a.B.C\n    gett: /x\n", `:5:5: http_rules[0]: unknown key "gett" in google.api.HttpRule (did you mean "get"?)`},
	} {
		p := writeFile(t, dir, "rules.yaml", tc.content)
		_, err := LoadHTTPRules([]string{p})
		if err == nil {
			t.Errorf("%q: got no error, want %q", tc.content, tc.want)
			continue
		}
		if got := errorLines(t, err); !slices.Equal(got, []string{p + tc.want}) {
			t.Errorf("got %q, want [%q]", got, p+tc.want)
		}
	}
}
