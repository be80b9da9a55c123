package httprule

import (
	"errors"
	"reflect"
	"testing"
)

// FuzzParse checks that Parse never panics, that its errors are
// *ParseError, and that whatever parses is well formed and round-trips
// through String.
func FuzzParse(f *testing.F) {
	for _, s := range []string{
		"/v1/messages/{message_id}",
		"/v1/{name=messages/*}",
		"/v1/users/{user_id}/messages/{message_id}",
		"/v1/messages/{message_id}:cancel",
		"/v1/{name=projects/*/locations/*}/books",
		"/v1/files/{path=**}",
		"/v1/{book.name=shelves/*/books/*}",
		"/v1/{name=**}:cancel",
		"/v1/{x=*}",
		"/v1/a%2Fb/{c=d/**}",
		"/v1/{a=b:c}",
		"/v1/{uuid}:custom:custom",
		"/v1/a:b:c",
		"/v1/{a=b/{c}}",
		"/**/x",
		"//",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		tpl, err := Parse(s)
		if err != nil {
			var pe *ParseError
			if !errors.As(err, &pe) {
				t.Fatalf("Parse(%q) got error of type %T, want *ParseError", s, err)
			}
			if pe.Offset < 0 || pe.Offset > len(s) {
				t.Fatalf("Parse(%q) got offset %d, want within [0, %d]", s, pe.Offset, len(s))
			}
			_ = err.Error()
			return
		}
		checkWellFormed(t, tpl)
		canon := tpl.String()
		again, err := Parse(canon)
		if err != nil {
			t.Fatalf("Parse(%q) = %q, which does not parse: %v", s, canon, err)
		}
		if !equalIgnoringRaw(tpl, again) {
			t.Fatalf("Parse(%q) = %+v, but Parse(%q) = %+v", s, tpl, canon, again)
		}
		if got := again.String(); got != canon {
			t.Fatalf("String is not stable: got %q, want %q", got, canon)
		}
		if got, want := again.Shape(), tpl.Shape(); got != want {
			t.Fatalf("Shape is not stable: got %q, want %q", got, want)
		}
	})
}

func equalIgnoringRaw(a, b *Template) bool {
	x, y := *a, *b
	x.Raw, y.Raw = "", ""
	return reflect.DeepEqual(x, y)
}

// checkWellFormed checks the invariants the router relies on.
func checkWellFormed(t *testing.T, tpl *Template) {
	t.Helper()
	if len(tpl.Segments) == 0 {
		t.Fatalf("%q: no segments", tpl.Raw)
	}
	for i, s := range tpl.Segments {
		if s.Kind == DeepWildcard && i != len(tpl.Segments)-1 {
			t.Fatalf(`%q: "**" at segment %d of %d`, tpl.Raw, i, len(tpl.Segments))
		}
		if (s.Kind == Literal) != (s.Literal != "") {
			t.Fatalf("%q: segment %d is %v with literal %q", tpl.Raw, i, s.Kind, s.Literal)
		}
	}
	prevEnd := 0
	for _, v := range tpl.Vars {
		if v.Start < prevEnd || v.End <= v.Start || v.End > len(tpl.Segments) {
			t.Fatalf("%q: variable %v covers [%d,%d), after %d of %d segments", tpl.Raw, v.FieldPath, v.Start, v.End, prevEnd, len(tpl.Segments))
		}
		if len(v.FieldPath) == 0 {
			t.Fatalf("%q: variable with no field path", tpl.Raw)
		}
		prevEnd = v.End
	}
}
