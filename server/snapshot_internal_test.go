package server

import (
	"errors"
	"testing"

	"github.com/portico-gw/portico/config"
)

// TestAsConfigErrors: a plain build error becomes one problem per line,
// each at the key path it starts with, or at the field given (without
// repeating it).
func TestAsConfigErrors(t *testing.T) {
	err := asConfigErrors(errors.New("apis[0].services[1]: service \"x\" not found\ndescriptors: open a: no such file\nsomething else"), "descriptors")
	var es config.Errors
	if !errors.As(err, &es) || len(es) != 3 {
		t.Fatalf("got %#v, want three config errors", err)
	}
	want := []config.Error{
		{Field: "apis[0].services[1]", Message: `service "x" not found`},
		{Field: "descriptors", Message: "open a: no such file"},
		{Field: "descriptors", Message: "something else"},
	}
	for i, w := range want {
		if es[i].Field != w.Field || es[i].Message != w.Message {
			t.Errorf("problem %d: got %q %q, want %q %q", i, es[i].Field, es[i].Message, w.Field, w.Message)
		}
	}
	same := config.Errors{{Field: "x", Message: "y"}}
	if got, ok := asConfigErrors(same, "").(config.Errors); !ok || len(got) != 1 || got[0] != same[0] {
		t.Errorf("config.Errors: got %v, want it unchanged", got)
	}
}
