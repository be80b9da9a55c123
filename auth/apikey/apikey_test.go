package apikey_test

import (
	"strings"
	"testing"

	"github.com/portico-gw/portico/auth/apikey"
)

func TestParseAndLookup(t *testing.T) {
	ks, err := apikey.Parse([]byte("- {id: a, sha256: " + apikey.Hash("key-a") + ", principal: alice, plan: gold}\n- {id: b, sha256: " + apikey.Hash("key-b") + "}\n"))
	if err != nil {
		t.Fatal(err)
	}
	if k := ks.Lookup("key-a"); k == nil || k.ID != "a" || k.Principal != "alice" || k.Plan != "gold" {
		t.Errorf("Lookup(key-a): got %+v", k)
	}
	if k := ks.Lookup("key-b"); k == nil || k.Principal != "b" {
		t.Errorf("Lookup(key-b): got %+v, want principal b (the id)", k)
	}
	for _, miss := range []string{"", "key-c", "KEY-A", apikey.Hash("key-a")} {
		if k := ks.Lookup(miss); k != nil {
			t.Errorf("Lookup(%q): got %+v, want nil", miss, k)
		}
	}
}

func TestParseErrors(t *testing.T) {
	h := apikey.Hash("k")
	for _, tc := range []struct{ data, want string }{
		{"- {id: a, sha256: " + strings.ToUpper(h) + "}", "[0].sha256"},
		{"- {id: a, sha256: abc}", "[0].sha256"},
		{"- {sha256: " + h + "}", "[0].id"},
		{"- {id: a, sha256: " + h + "}\n- {id: a, sha256: " + apikey.Hash("j") + "}", "[1].id"},
		{"- {id: a, sha256: " + h + "}\n- {id: b, sha256: " + h + "}", "[1].sha256"},
		{"- {id: a, sha256: " + h + ", key: plaintext}", "not a list"},
		{"id: a", "not a list"},
	} {
		if _, err := apikey.Parse([]byte(tc.data)); err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("Parse(%q): got %v, want an error about %s", tc.data, err, tc.want)
		}
	}
}
