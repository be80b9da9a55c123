package config

import (
	"bytes"
	"encoding/json"
	"strings"
	"testing"

	"buf.build/gen/go/bufbuild/protovalidate/protocolbuffers/go/buf/validate"
)

// TestWalkKinds covers what the walk does with kinds and shapes that the
// config schema does not use yet (enums, numbers, oneofs of several fields),
// on buf.validate.FieldRules, a message that has them all.
func TestWalkKinds(t *testing.T) {
	md := (&validate.FieldRules{}).ProtoReflect().Descriptor()
	for _, tc := range []struct {
		name, json string
		want       []string
	}{
		{"valid", `{"required": true, "ignore": "IGNORE_ALWAYS", "int32": {"const": 5, "in": [1, 2]}}`, nil},
		{"enum by number", `{"ignore": 3}`, nil},
		{"unknown enum value", `{"ignore": "IGNORE_SOMETIMES"}`,
			[]string{`ignore: unknown value "IGNORE_SOMETIMES" (known: IGNORE_UNSPECIFIED, IGNORE_IF_ZERO_VALUE, IGNORE_ALWAYS)`}},
		{"two of a oneof", `{"int32": {}, "string": {}}`,
			[]string{`only one of float, double, int32, `}},
		{"int32 out of range", `{"int32": {"const": 3000000000}}`,
			[]string{`int32.const: want a whole number in range, got 3000000000`}},
		{"uint64 negative", `{"uint64": {"const": -1}}`,
			[]string{`uint64.const: want a whole number in range, got -1`}},
		{"fraction for an integer", `{"int64": {"const": 1.5}}`,
			[]string{`int64.const: want a whole number in range, got 1.5`}},
		{"string for an integer", `{"int64": {"const": "1"}}`,
			[]string{`int64.const: want a whole number, got string "1"`}},
		{"float special values", `{"double": {"in": ["NaN", "Infinity", 1e300]}}`, nil},
		{"float out of range", `{"float": {"const": 1e300}}`,
			[]string{`float.const: number 1e300 is out of range`}},
		{"null list item", `{"int32": {"in": [1, null]}}`,
			[]string{`int32.in[1]: want a whole number, got nothing`}},
		{"duration list", `{"duration": {"in": ["1m", "250ms"]}}`, nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dec := json.NewDecoder(bytes.NewReader([]byte(tc.json)))
			dec.UseNumber()
			var tree any
			if err := dec.Decode(&tree); err != nil {
				t.Fatal(err)
			}
			var errs errorList
			w := walker{errs: &errs}
			w.message("", tree, md)
			if len(errs.errs) != len(tc.want) {
				t.Fatalf("walk(%s) = %v, want %d problems %q", tc.json, errs.err(), len(tc.want), tc.want)
			}
			for i, e := range errs.errs {
				if !strings.HasPrefix(e.Error(), tc.want[i]) {
					t.Errorf("problem %d = %q, want it to start with %q", i, e.Error(), tc.want[i])
				}
			}
		})
	}
}

func TestWalkRewritesDurations(t *testing.T) {
	md := (&validate.FieldRules{}).ProtoReflect().Descriptor()
	tree := map[string]any{"duration": map[string]any{"in": []any{"1h30m", "250ms"}}}
	var errs errorList
	(&walker{errs: &errs}).message("", tree, md)
	got, err := json.Marshal(tree)
	if err != nil {
		t.Fatal(err)
	}
	if want := `{"duration":{"in":["5400s","0.250000000s"]}}`; string(got) != want {
		t.Errorf("walked tree = %s, want %s", got, want)
	}
}

func TestUnknownFieldSuggestion(t *testing.T) {
	md := (&validate.FieldRules{}).ProtoReflect().Descriptor()
	for key, want := range map[string]string{
		"requird":       `unknown field "requird" (did you mean "required"?)`,
		"celExpression": `unknown field "celExpression" (did you mean "cel_expression"?)`,
		"Required":      `unknown field "Required" (did you mean "required"?)`,
		"xy":            `unknown field "xy" (known: `,
	} {
		if got := unknownField(key, md); !strings.HasPrefix(got, want) {
			t.Errorf("unknownField(%q) = %q, want it to start with %q", key, got, want)
		}
	}
}
