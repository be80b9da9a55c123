package snapshot

import (
	"errors"
	"testing"

	"github.com/portico-gw/portico/config"
)

// TestLocated: a phase's config.Errors are kept as they are (each at its
// own key); any other error is one problem at the phase's field, its text
// kept whole (no key path is parsed back out of text); nil is none.
func TestLocated(t *testing.T) {
	same := config.Errors{{Field: "apis[0].services[1]", Message: `service "x" not found`}}
	if got := located(same, "descriptors"); len(got) != 1 || got[0] != same[0] {
		t.Errorf("config.Errors: got %v, want them unchanged", got)
	}
	got := located(errors.New("open a: no such file"), "descriptors")
	if len(got) != 1 || got[0].Field != "descriptors" || got[0].Message != "open a: no such file" {
		t.Errorf("a plain error: got %v, want one problem at descriptors", got)
	}
	if got := located(nil, "x"); got != nil {
		t.Errorf("nil: got %v, want nil", got)
	}
}
