package httprule

import "testing"

// String and Shape of a Template built by hand, including malformed ones
// that Parse never returns: no panic, and bad variables are left out.
func TestTemplateStringHandBuilt(t *testing.T) {
	tests := []struct {
		name  string
		tpl   Template
		str   string
		shape string
	}{
		{
			name:  "no vars",
			tpl:   Template{Segments: []Segment{lit("v1"), star, deep}, Verb: "get"},
			str:   "/v1/*/**:get",
			shape: "/v1/*/**:get",
		},
		{
			name: "good vars",
			tpl: Template{
				Segments: []Segment{lit("v1"), star, lit("x"), star},
				Vars:     []Variable{v("a", 1, 2), v("b.c", 2, 4)},
			},
			str:   "/v1/{a}/{b.c=x/*}",
			shape: "/v1/*/x/*",
		},
		{
			name: "var past the end",
			tpl: Template{
				Segments: []Segment{lit("v1"), star},
				Vars:     []Variable{v("a", 1, 3)},
			},
			str:   "/v1/*",
			shape: "/v1/*",
		},
		{
			name: "empty var, then overlapping vars",
			tpl: Template{
				Segments: []Segment{star, star, star},
				Vars:     []Variable{v("a", 0, 0), v("b", 0, 2), v("c", 1, 3), v("d", 2, 3)},
			},
			str:   "/{b=*/*}/{d}",
			shape: "/*/*/*",
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if got := tc.tpl.String(); got != tc.str {
				t.Errorf("String got %q, want %q", got, tc.str)
			}
			if got := tc.tpl.Shape(); got != tc.shape {
				t.Errorf("Shape got %q, want %q", got, tc.shape)
			}
		})
	}
}
