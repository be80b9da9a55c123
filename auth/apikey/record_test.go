package apikey_test

import (
	"errors"
	"testing"

	"github.com/portico-gw/portico/auth/apikey"
)

func TestRecordAllows(t *testing.T) {
	for _, tc := range []struct {
		apis    []string
		service string
		want    bool
	}{
		{nil, "a.B", true},
		{nil, "", true},
		{[]string{"a.B"}, "a.B", true},
		{[]string{"a.B"}, "a.C", false},
		{[]string{"a.B"}, "", false}, // a plain HTTP route
	} {
		r := &apikey.Record{APIs: tc.apis}
		if got := r.Allows(tc.service); got != tc.want {
			t.Errorf("Record{APIs: %v}.Allows(%q): got %v, want %v", tc.apis, tc.service, got, tc.want)
		}
	}
}

func TestCheckID(t *testing.T) {
	for _, id := range []string{"k1", "acme.prod@eu-1", "K_2"} {
		if err := apikey.CheckID(id); err != nil {
			t.Errorf("CheckID(%q): got %v, want nil", id, err)
		}
	}
	for _, id := range []string{"", "-k", "a/b", "a:rotate", "a b", string(make([]byte, 129))} {
		if err := apikey.CheckID(id); !errors.Is(err, apikey.ErrInvalid) {
			t.Errorf("CheckID(%q): got %v, want ErrInvalid", id, err)
		}
	}
}
