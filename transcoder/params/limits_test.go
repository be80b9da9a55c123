package params_test

import (
	"errors"
	"strings"
	"testing"

	"github.com/portico-gw/portico/transcoder/params"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
)

// TestLimitsBounds checks each bound of a Limits at its edge.
func TestLimitsBounds(t *testing.T) {
	tooMany := errors.New("too many values")
	lim := params.Limits{
		MaxParams: 3,
		MaxDepth:  5,
		MaxBytes:  40,
		JSON: func(text string) error {
			if strings.Count(text, ",") >= 3 {
				return tooMany
			}
			return nil
		},
	}
	tests := []struct {
		name    string
		query   string
		wantErr string
	}{
		{"3 parameters", "rb=YQ&rb=YQ&rb=YQ", ""},
		{"4 parameters", "rb=YQ&rb=YQ&rb=YQ&rb=YQ", "more than 3 parameters"},
		{"40 bytes", "name=" + strings.Repeat("a", 35), ""},
		{"41 bytes", "name=" + strings.Repeat("a", 36), "longer than 40 bytes"},
		{"path of 4 fields", "inner_plain.next.next.s=x", ""},
		{"path of 5 fields", "inner_plain.next.next.next.s=x", "deeper than 4 fields"},
		{"map key dots are not fields", "labels[a.b.c.d.e.f]=1", ""},
		{"map field path of 5 fields", "inner_plain.next.next.next.s[k]=x", "deeper than 4 fields"},
		{"JSON within the nesting left", "val=[[1]]", ""},
		{"JSON past the nesting left", "val=[[[[1]]]]", "nested too deep"},
		{"JSON check passes", "val=[1,2,3]", ""},
		{"JSON check refuses", "val=[1,2,3,4]", "too many values"},
		{"JSON check on a map entry", "st.fields[k]=[1,2,3,4]", "too many values"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			err := lim.Query(kindsMessage(t), tc.query, nil)
			if tc.wantErr == "" {
				if err != nil {
					t.Errorf("got error %v, want none", err)
				}
				return
			}
			if status.Code(err) != codes.InvalidArgument || !strings.Contains(err.Error(), tc.wantErr) {
				t.Errorf("got error %v, want InvalidArgument containing %q", err, tc.wantErr)
			}
		})
	}
}

// TestLimitsForm checks that a form and a query bind as one list: the
// form's values first, the parameters of both counted together, a
// singular field given by both refused, and only the query bounded by
// MaxBytes.
func TestLimitsForm(t *testing.T) {
	newMsg := bookstoreVariants(t)[2].new
	lim := params.Limits{MaxParams: 4, MaxBytes: 20}
	msg := newMsg()
	if err := lim.Form(msg, "tags=a&tags=b&page_size=2", "tags=c", nil); err != nil {
		t.Fatal(err)
	}
	checkResult(t, newMsg, msg, nil, `{"tags":["a","b","c"],"pageSize":2}`, nil)

	err := lim.Form(newMsg(), "page_size=1", "page_size=2", nil)
	checkResult(t, newMsg, nil, err, "", []string{`field "page_size"`, "more than once"})
	err = lim.Form(newMsg(), "tags=a&tags=b&tags=c", "tags=d&tags=e", nil)
	checkResult(t, newMsg, nil, err, "", []string{"form and query string with more than 4 parameters"})
	msg = newMsg()
	if err := lim.Form(msg, "parent="+strings.Repeat("a", 100), "", nil); err != nil {
		t.Errorf("a long form: got %v, want it bound (its size is the body's limit)", err)
	}
	err = lim.Form(newMsg(), "", "parent="+strings.Repeat("a", 100), nil)
	checkResult(t, newMsg, nil, err, "", []string{"query string longer than 20 bytes"})
}

// TestValues checks the estimate of the values a query may set.
func TestValues(t *testing.T) {
	for _, tc := range []struct {
		query string
		want  int
	}{
		{"", 0},
		{"a=1", 1},
		{"a=1&b=2", 2},
		{"a.b.c=1", 3},
		{"a%2Eb%2ec=1", 3},
		{"v=[1,2,{}]", 5},
		{"v=%5B1%2C2%2c%7B%7D%5D", 5},
		{"m[k]=1", 2},
	} {
		if got := params.Values(tc.query); got != tc.want {
			t.Errorf("Values(%q): got %d, want %d", tc.query, got, tc.want)
		}
	}
}
