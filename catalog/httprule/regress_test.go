package httprule

import "testing"

// One test per reported problem, named for it.

// TestRegressVerbWithColon: "/v1/example/a_bit_of_everything/{uuid}:custom:custom"
// (grpc-gateway's example API) was rejected with "a variable must be a whole
// segment"; in http.proto's grammar the verb is ":" LITERAL and a LITERAL may
// contain ":".
func TestRegressVerbWithColon(t *testing.T) {
	tpl, err := Parse("/v1/example/a_bit_of_everything/{uuid}:custom:custom")
	if err != nil {
		t.Fatalf("Parse got error %v, want nil", err)
	}
	if tpl.Verb != "custom:custom" {
		t.Errorf("Verb: got %q, want %q", tpl.Verb, "custom:custom")
	}
	if got, want := tpl.Shape(), "/v1/example/a_bit_of_everything/*:custom:custom"; got != want {
		t.Errorf("Shape: got %q, want %q", got, want)
	}
}
