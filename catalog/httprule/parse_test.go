package httprule

import (
	"errors"
	"reflect"
	"strconv"
	"strings"
	"testing"
)

func lit(s string) Segment { return Segment{Kind: Literal, Literal: s} }

var (
	star = Segment{Kind: Wildcard}
	deep = Segment{Kind: DeepWildcard}
)

func v(path string, start, end int) Variable {
	return Variable{FieldPath: strings.Split(path, "."), Start: start, End: end}
}

func TestParse(t *testing.T) {
	tests := []struct {
		tpl   string
		segs  []Segment
		verb  string
		vars  []Variable
		str   string // canonical form; "" means the same as tpl
		shape string
	}{
		// The examples in google/api/http.proto.
		{
			tpl:   "/v1/messages/{message_id}",
			segs:  []Segment{lit("v1"), lit("messages"), star},
			vars:  []Variable{v("message_id", 2, 3)},
			shape: "/v1/messages/*",
		},
		{
			tpl:   "/v1/messages/{message_id}/{sub.subfield}",
			segs:  []Segment{lit("v1"), lit("messages"), star, star},
			vars:  []Variable{v("message_id", 2, 3), v("sub.subfield", 3, 4)},
			shape: "/v1/messages/*/*",
		},
		{
			tpl:   "/v1/{name=messages/*}",
			segs:  []Segment{lit("v1"), lit("messages"), star},
			vars:  []Variable{v("name", 1, 3)},
			shape: "/v1/messages/*",
		},
		{
			tpl:   "/v1/users/{user_id}/messages/{message_id}",
			segs:  []Segment{lit("v1"), lit("users"), star, lit("messages"), star},
			vars:  []Variable{v("user_id", 2, 3), v("message_id", 4, 5)},
			shape: "/v1/users/*/messages/*",
		},
		{
			tpl:   "/v1/messages/{message_id}:cancel",
			segs:  []Segment{lit("v1"), lit("messages"), star},
			verb:  "cancel",
			vars:  []Variable{v("message_id", 2, 3)},
			shape: "/v1/messages/*:cancel",
		},
		{
			tpl:   "/v1/{name=projects/*/locations/*}/books",
			segs:  []Segment{lit("v1"), lit("projects"), star, lit("locations"), star, lit("books")},
			vars:  []Variable{v("name", 1, 5)},
			shape: "/v1/projects/*/locations/*/books",
		},
		{
			tpl:   "/v1/files/{path=**}",
			segs:  []Segment{lit("v1"), lit("files"), deep},
			vars:  []Variable{v("path", 2, 3)},
			shape: "/v1/files/**",
		},
		{
			tpl:   "/v1/{book.name=shelves/*/books/*}",
			segs:  []Segment{lit("v1"), lit("shelves"), star, lit("books"), star},
			vars:  []Variable{v("book.name", 1, 5)},
			shape: "/v1/shelves/*/books/*",
		},
		// Verbs.
		{
			tpl:   "/v1/{name=shelves/*/books/*}:move",
			segs:  []Segment{lit("v1"), lit("shelves"), star, lit("books"), star},
			verb:  "move",
			vars:  []Variable{v("name", 1, 5)},
			shape: "/v1/shelves/*/books/*:move",
		},
		{
			tpl:   "/v1/{name=**}:cancel",
			segs:  []Segment{lit("v1"), deep},
			verb:  "cancel",
			vars:  []Variable{v("name", 1, 2)},
			shape: "/v1/**:cancel",
		},
		{
			tpl:   "/v1:batchGet",
			segs:  []Segment{lit("v1")},
			verb:  "batchGet",
			shape: "/v1:batchGet",
		},
		{
			tpl:   "/**:watch",
			segs:  []Segment{deep},
			verb:  "watch",
			shape: "/**:watch",
		},
		{
			tpl:   "/v1/{name}:do-it.now~",
			segs:  []Segment{lit("v1"), star},
			verb:  "do-it.now~",
			vars:  []Variable{v("name", 1, 2)},
			shape: "/v1/*:do-it.now~",
		},
		// A verb is a LITERAL, which may contain ":" (grpc-gateway's
		// a_bit_of_everything example binds "{uuid}:custom:custom").
		{
			tpl:   "/v1/example/a_bit_of_everything/{uuid}:custom:custom",
			segs:  []Segment{lit("v1"), lit("example"), lit("a_bit_of_everything"), star},
			verb:  "custom:custom",
			vars:  []Variable{v("uuid", 3, 4)},
			shape: "/v1/example/a_bit_of_everything/*:custom:custom",
		},
		{
			tpl:   "/v1/a:b:c",
			segs:  []Segment{lit("v1"), lit("a")},
			verb:  "b:c",
			shape: "/v1/a:b:c",
		},
		{
			tpl:   "/v1/{name=**}:a::b:",
			segs:  []Segment{lit("v1"), deep},
			verb:  "a::b:",
			vars:  []Variable{v("name", 1, 2)},
			shape: "/v1/**:a::b:",
		},
		// Short and long forms of a single-segment variable.
		{
			tpl:   "/v1/{x=*}",
			segs:  []Segment{lit("v1"), star},
			vars:  []Variable{v("x", 1, 2)},
			str:   "/v1/{x}",
			shape: "/v1/*",
		},
		// Wildcards with no variable.
		{tpl: "/*", segs: []Segment{star}, shape: "/*"},
		{tpl: "/**", segs: []Segment{deep}, shape: "/**"},
		{
			tpl:   "/v1/*/{x}/**",
			segs:  []Segment{lit("v1"), star, star, deep},
			vars:  []Variable{v("x", 2, 3)},
			shape: "/v1/*/*/**",
		},
		// Variables made of literals only, or ending in "**".
		{
			tpl:   "/v1/{x=foo}",
			segs:  []Segment{lit("v1"), lit("foo")},
			vars:  []Variable{v("x", 1, 2)},
			shape: "/v1/foo",
		},
		{
			tpl:   "/{x=**}",
			segs:  []Segment{deep},
			vars:  []Variable{v("x", 0, 1)},
			shape: "/**",
		},
		{
			tpl:   "/v1/{name=shelves/**}",
			segs:  []Segment{lit("v1"), lit("shelves"), deep},
			vars:  []Variable{v("name", 1, 3)},
			shape: "/v1/shelves/**",
		},
		{
			tpl:   "/{a}/{b=x/*}/{c}",
			segs:  []Segment{star, lit("x"), star, star},
			vars:  []Variable{v("a", 0, 1), v("b", 1, 3), v("c", 3, 4)},
			shape: "/*/x/*/*",
		},
		// Identifiers, sub-delims and escapes in literals.
		{
			tpl:   "/_a/{_b1.C_2}",
			segs:  []Segment{lit("_a"), star},
			vars:  []Variable{v("_b1.C_2", 1, 2)},
			shape: "/_a/*",
		},
		{
			tpl:   "/v1/a=b/$x!&'()+,;@/c%2Fd%e9:go",
			segs:  []Segment{lit("v1"), lit("a=b"), lit("$x!&'()+,;@"), lit("c%2Fd%e9")},
			verb:  "go",
			shape: "/v1/a=b/$x!&'()+,;@/c%2Fd%e9:go",
		},
		{
			tpl:   "/.././-_~",
			segs:  []Segment{lit(".."), lit("."), lit("-_~")},
			shape: "/.././-_~",
		},
	}
	for _, tc := range tests {
		t.Run(tc.tpl, func(t *testing.T) {
			got, err := Parse(tc.tpl)
			if err != nil {
				t.Fatalf("Parse(%q) got error %v, want nil", tc.tpl, err)
			}
			if got.Raw != tc.tpl {
				t.Errorf("Raw: got %q, want %q", got.Raw, tc.tpl)
			}
			if !reflect.DeepEqual(got.Segments, tc.segs) {
				t.Errorf("Segments: got %+v, want %+v", got.Segments, tc.segs)
			}
			if got.Verb != tc.verb {
				t.Errorf("Verb: got %q, want %q", got.Verb, tc.verb)
			}
			if len(got.Vars) != 0 || len(tc.vars) != 0 {
				if !reflect.DeepEqual(got.Vars, tc.vars) {
					t.Errorf("Vars: got %+v, want %+v", got.Vars, tc.vars)
				}
			}
			wantStr := tc.str
			if wantStr == "" {
				wantStr = tc.tpl
			}
			if s := got.String(); s != wantStr {
				t.Errorf("String: got %q, want %q", s, wantStr)
			}
			if s := got.Shape(); s != tc.shape {
				t.Errorf("Shape: got %q, want %q", s, tc.shape)
			}
		})
	}
}

func TestParseErrors(t *testing.T) {
	tests := []struct {
		tpl    string
		reason string // a substring of ParseError.Reason
		offset int
	}{
		{"", "empty template", 0},
		{"v1/x", `must start with "/"`, 0},
		{"/", "empty segment", 1},
		{"/v1//x", "empty segment", 4},
		{"/v1/", "empty segment", 4},
		{"/v1/:x", "empty segment", 4},
		{"/:x", "empty segment", 1},
		{"/v1/**/x", `"**" must be the last segment`, 4},
		{"/v1/{name=**}/x", `"**" must be the last segment`, 10},
		{"/**/**", `"**" must be the last segment`, 1},
		{"/v1/{a=b/{c}}", "nested variable", 9},
		{"/v1/{a}/{a}", `field path "a" bound more than once`, 9},
		{"/v1/{a.b=x/*}/{a.b}", `field path "a.b" bound more than once`, 15},
		{"/v1/a*", `"*" not allowed in a literal`, 5},
		{"/v1/*a", `"*" and "**" must be a whole segment`, 4},
		{"/v1/***", `"*" and "**" must be a whole segment`, 4},
		{"/v1/a{b}", "a variable must be a whole segment", 5},
		{"/v1/{b}a", "a variable must be a whole segment", 7},
		{"/v1/{1a}", "field name must not start with a digit", 5},
		{"/v1/{a-b}", `unexpected "-" in variable`, 6},
		{"/v1/{}", "missing field name", 5},
		{"/v1/{a.}", "missing field name", 7},
		{"/v1/{.a}", "missing field name", 5},
		{"/v1/{a..b}", "missing field name", 7},
		{"/v1/{a=}", "empty segment", 7},
		{"/v1/{a=/b}", "empty segment", 7},
		{"/v1/{a=b/}", "empty segment", 9},
		{"/v1/{a=b//c}", "empty segment", 9},
		{"/v1/{a=b:c}", `":" inside a variable`, 8},
		{"/v1/{a}:b}", `unmatched "}"`, 9},
		{"/v1/a:b/c", `":" not allowed in a literal`, 5},
		{"/v1/a:", `empty verb after ":"`, 5},
		{"/v1/a:b/c:d", `":" not allowed in a literal`, 5},
		{"/v1/{a}:b/c", "a variable must be a whole segment", 7},
		{"/v1/x:a:b{c}", `"{" not allowed in a verb`, 9},
		{"/v1/x:a{b}", `"{" not allowed in a verb`, 7},
		{"/v1/x:a*", `"*" not allowed in a verb`, 7},
		{"/v1/x:a%", "malformed percent-escape in verb", 7},
		{"/v1/{a", `unclosed "{"`, 4},
		{"/v1/{a=b", `unclosed "{"`, 4},
		{"/v1/a}", `unmatched "}"`, 5},
		{"/v1/a%2", "malformed percent-escape in literal", 5},
		{"/v1/a%zz", "malformed percent-escape in literal", 5},
		{"/v1/a b", `" " not allowed in a literal; percent-encode it`, 5},
		{"/v1/a?b", `"?" not allowed in a literal`, 5},
		{"/v1/a#b", `"#" not allowed in a literal`, 5},
		{"/v1/caf\u00e9", `not allowed in a literal; percent-encode it`, 7},
		{"/v1/[x]", `"[" not allowed in a literal`, 4},
		{"/" + strings.Repeat("a", MaxTemplateLen), "longer than 4096 bytes", MaxTemplateLen},
	}
	for _, tc := range tests {
		name := tc.tpl
		if len(name) > 40 {
			name = name[:40]
		}
		t.Run(name, func(t *testing.T) {
			got, err := Parse(tc.tpl)
			if err == nil {
				t.Fatalf("Parse(%q) got %q, want error containing %q", tc.tpl, got.String(), tc.reason)
			}
			var pe *ParseError
			if !errors.As(err, &pe) {
				t.Fatalf("Parse(%q) got error of type %T, want *ParseError", tc.tpl, err)
			}
			if !strings.Contains(pe.Reason, tc.reason) {
				t.Errorf("Parse(%q) got reason %q, want it to contain %q", tc.tpl, pe.Reason, tc.reason)
			}
			if pe.Offset != tc.offset {
				t.Errorf("Parse(%q) got offset %d, want %d (%v)", tc.tpl, pe.Offset, tc.offset, err)
			}
			if pe.Template != tc.tpl {
				t.Errorf("Parse(%q) got ParseError.Template %q, want the template", tc.tpl, pe.Template)
			}
			msg := err.Error()
			shown := tc.tpl
			if len(shown) > errTemplateShown {
				shown = shown[:errTemplateShown] + "..."
			}
			if !strings.Contains(msg, strconv.Quote(shown)) || !strings.Contains(msg, pe.Reason) {
				t.Errorf("Parse(%q) got message %q, want it to quote the template and give the reason", tc.tpl, msg)
			}
		})
	}
}

func TestParseMaxLen(t *testing.T) {
	tpl := "/" + strings.Repeat("a", MaxTemplateLen-1)
	got, err := Parse(tpl)
	if err != nil {
		t.Fatalf("Parse(%d-byte template) got error %v, want nil", len(tpl), err)
	}
	if got.String() != tpl {
		t.Errorf("got String of %d bytes, want the template back", len(got.String()))
	}
}

func TestSegmentKindString(t *testing.T) {
	for k, want := range map[SegmentKind]string{Literal: "literal", Wildcard: "*", DeepWildcard: "**", 7: "SegmentKind(?)"} {
		if got := k.String(); got != want {
			t.Errorf("SegmentKind(%d).String() got %q, want %q", int(k), got, want)
		}
	}
}
