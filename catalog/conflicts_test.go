package catalog

import (
	"slices"
	"strings"
	"testing"

	"google.golang.org/genproto/googleapis/api/annotations"
	"google.golang.org/protobuf/reflect/protoregistry"
)

// twoServicesProto has two services that bind the same routes, as
// grpc-gateway's EchoService and UnannotatedEchoService do.
const twoServicesProto = `syntax = "proto3";
package portico.test.v1;

import "google/api/annotations.proto";

message Msg {
  string id = 1;
  string name = 2;
}

service First {
  rpc Echo(Msg) returns (Msg) {
    option (google.api.http) = {post: "/v1/echo/{id}" body: "*"};
  }
  rpc Get(Msg) returns (Msg) {
    option (google.api.http) = {
      get: "/v1/msgs/{id}"
      additional_bindings {get: "/v1/msgs/{name}"}
    };
  }
}

service Second {
  rpc Echo(Msg) returns (Msg) {
    option (google.api.http) = {post: "/v1/echo/{name}" body: "*"};
  }
  rpc Other(Msg) returns (Msg) {
    option (google.api.http) = {post: "/v1/other"};
  }
}
`

func twoServices(t *testing.T) *protoregistry.Files {
	t.Helper()
	dir := writeTree(t, map[string]string{"portico/test/v1/two.proto": twoServicesProto})
	files, err := LoadSources(dir, []string{"portico/test/v1/two.proto"}, []string{"."})
	if err != nil {
		t.Fatalf("LoadSources: %v", err)
	}
	return files
}

func apisOf(services ...string) []API {
	var out []API
	for i, s := range services {
		out = append(out, API{Where: "apis[" + string(rune('0'+i)) + "]", Services: []string{s}, Backend: &fakeBackend{}})
	}
	return out
}

// TestConflictLaterWins: two services binding the same route (up to
// variable names) are both exposed; the one later in apis[] serves the
// route, as with grpc-gateway, where the handler registered last wins; a
// warning names both methods and where each rule was written.
func TestConflictLaterWins(t *testing.T) {
	files := twoServices(t)
	tests := []struct {
		order       []string
		winner      string // the Echo method that keeps POST /v1/echo/*
		loser       string
		warning     string
		winnerField string
	}{
		{
			order:  []string{"portico.test.v1.First", "portico.test.v1.Second"},
			winner: "/portico.test.v1.Second/Echo", loser: "/portico.test.v1.First/Echo",
			warning: "apis[1].services[0]: POST /v1/echo/{name} of method portico.test.v1.Second.Echo (google.api.http annotation at portico/test/v1/two.proto:25:5) " +
				"and POST /v1/echo/{id} of method portico.test.v1.First.Echo (google.api.http annotation at portico/test/v1/two.proto:13:5) are the same route; " +
				"the one exposed later, portico.test.v1.Second.Echo, is served, as grpc-gateway does",
		},
		{
			order:  []string{"portico.test.v1.Second", "portico.test.v1.First"},
			winner: "/portico.test.v1.First/Echo", loser: "/portico.test.v1.Second/Echo",
			warning: "apis[1].services[0]: POST /v1/echo/{id} of method portico.test.v1.First.Echo (google.api.http annotation at portico/test/v1/two.proto:13:5) " +
				"and POST /v1/echo/{name} of method portico.test.v1.Second.Echo (google.api.http annotation at portico/test/v1/two.proto:25:5) are the same route; " +
				"the one exposed later, portico.test.v1.First.Echo, is served, as grpc-gateway does",
		},
	}
	for _, tt := range tests {
		t.Run(strings.Join(tt.order, ","), func(t *testing.T) {
			c := mustNew(t, Options{Files: files, APIs: apisOf(tt.order...)})
			if got := describe(c.methods[tt.winner].bindings); len(got) != 1 || !strings.HasPrefix(got[0], "POST /v1/echo/") {
				t.Errorf("%s: got bindings %q, want its POST /v1/echo route", tt.winner, got)
			}
			if got := describe(c.methods[tt.loser].bindings); len(got) != 0 {
				t.Errorf("%s: got bindings %q, want none (it lost its only route)", tt.loser, got)
			}
			var warnings []string
			for _, w := range c.warnings {
				warnings = append(warnings, w.Error())
			}
			// First.Get's two bindings are the same route too: the
			// additional binding, declared later, wins.
			getWarning := "apis[" + map[bool]string{true: "0", false: "1"}[tt.order[0] == "portico.test.v1.First"] + "].services[0]: " +
				"GET /v1/msgs/{name} of method portico.test.v1.First.Get (google.api.http annotation at portico/test/v1/two.proto:18:7) " +
				"and GET /v1/msgs/{id} of method portico.test.v1.First.Get (google.api.http annotation at portico/test/v1/two.proto:16:5) are the same route; " +
				"the one exposed later, portico.test.v1.First.Get, is served, as grpc-gateway does"
			want := []string{getWarning, tt.warning}
			slices.Sort(want)
			if !slices.Equal(warnings, want) {
				t.Errorf("got warnings\n%q\nwant\n%q", warnings, want)
			}
			if got := describe(c.methods["/portico.test.v1.First/Get"].bindings); !slices.Equal(got, []string{"GET /v1/msgs/{name}"}) {
				t.Errorf("First.Get: got %q, want [GET /v1/msgs/{name}]", got)
			}
		})
	}
}

// TestConflictStrict: with Strict, a route conflict is an error naming
// both methods.
func TestConflictStrict(t *testing.T) {
	_, err := New(Options{Files: twoServices(t), APIs: apisOf("portico.test.v1.First", "portico.test.v1.Second"), Strict: true})
	if err == nil {
		t.Fatal("got no error, want the route conflicts")
	}
	got := errorLines(t, err)
	if len(got) != 2 {
		t.Fatalf("got %d errors %q, want 2 (First.Get with itself, First.Echo with Second.Echo)", len(got), got)
	}
	for _, want := range []string{"portico.test.v1.First.Echo", "portico.test.v1.Second.Echo", "(strict_routes is set)"} {
		if !strings.Contains(got[1], want) {
			t.Errorf("got %q, want it to mention %q", got[1], want)
		}
	}
}

// TestConflictRuleFromFile: a conflict with a rules-file rule says the
// file and line, and is located there.
func TestConflictRuleFromFile(t *testing.T) {
	rules := Rules{"portico.test.v1.Second.Other": {
		HTTP:  &annotations.HttpRule{Pattern: &annotations.HttpRule_Post{Post: "/v1/echo/{id}"}, Body: "*"},
		Field: "http_rules[2]", File: "/etc/portico/second.yaml", Line: 7, Column: 5,
	}}
	c := mustNew(t, Options{Files: twoServices(t), Rules: rules, APIs: apisOf("portico.test.v1.Second", "portico.test.v1.First")})
	// In order: Second.Echo, Second.Other (the rules-file rule), First.Echo.
	// Second.Other hides Second.Echo (located at its rule), then First.Echo
	// hides Second.Other.
	var got []string
	for _, w := range c.warnings {
		if strings.Contains(w.Message, "/v1/echo/") {
			got = append(got, w.Error())
		}
	}
	want := []string{
		"/etc/portico/second.yaml:7:5: http_rules[2]: POST /v1/echo/{id} of method portico.test.v1.Second.Other (rules file /etc/portico/second.yaml:7:5) " +
			"and POST /v1/echo/{name} of method portico.test.v1.Second.Echo (google.api.http annotation at portico/test/v1/two.proto:25:5) are the same route; " +
			"the one exposed later, portico.test.v1.Second.Other, is served, as grpc-gateway does",
		"apis[1].services[0]: POST /v1/echo/{id} of method portico.test.v1.First.Echo (google.api.http annotation at portico/test/v1/two.proto:13:5) " +
			"and POST /v1/echo/{id} of method portico.test.v1.Second.Other (rules file /etc/portico/second.yaml:7:5) are the same route; " +
			"the one exposed later, portico.test.v1.First.Echo, is served, as grpc-gateway does",
	}
	if !slices.Equal(got, want) {
		t.Errorf("got warnings\n%q\nwant\n%q", got, want)
	}
	for _, m := range []string{"/portico.test.v1.Second/Other", "/portico.test.v1.Second/Echo"} {
		if got := describe(c.methods[m].bindings); len(got) != 0 {
			t.Errorf("%s: got %q, want no binding", m, got)
		}
	}
}

// TestSelectorOfServiceNotExposed: a rule for a method of a loaded service
// that is not exposed is ignored with a warning (an error in strict mode,
// see TestNewErrors).
func TestSelectorOfServiceNotExposed(t *testing.T) {
	rules := ruleSet(map[string]*annotations.HttpRule{
		messagingService + ".GetMessage": {Pattern: &annotations.HttpRule_Get{Get: "/x"}},
	})
	c := mustNew(t, Options{Rules: rules, APIs: []API{bookstoreAPI(&fakeBackend{})}})
	if len(c.warnings) != 1 {
		t.Fatalf("got warnings %v, want one", c.warnings)
	}
	w := c.warnings[0]
	want := `rules.yaml:1:3: http_rules[0]: selector "example.messaging.v1.MessagingService.GetMessage" names a method of example.messaging.v1.MessagingService, a service that no apis entry exposes: the rule is ignored`
	if w.Error() != want || w.Field != "http_rules[0]" || w.Line != 1 {
		t.Errorf("got warning %q (field %q, line %d), want %q", w, w.Field, w.Line, want)
	}
	if _, ok := c.methods["/"+messagingService+"/GetMessage"]; ok {
		t.Error("the service that is not exposed got a method")
	}
}
