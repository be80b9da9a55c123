package transcoder

import (
	"encoding/json"
	"errors"
	"io"
	"strings"
	"testing"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
)

func TestScanJSONEnd(t *testing.T) {
	lim := jsonLimits{depth: 64, values: 1000}
	tests := []struct {
		in   string
		want string // the first value
	}{
		{`{}`, `{}`},
		{`  {"a":1} {"b":2}`, `  {"a":1}`},
		{`{"a":"}{\"]"}trailing`, `{"a":"}{\"]"}`},
		{`[1,[2,[3]],{"x":[]}]` + "\n" + `[4]`, `[1,[2,[3]],{"x":[]}]`},
		{`"a string"x`, `"a string"`},
		{`42 43`, `42`},
		{`-1.5e3,`, `-1.5e3`},
		{`true}`, `true`},
		{`{"theme":`, `{"theme":`}, // truncated: all of it
		{`{"a":"unterminated`, `{"a":"unterminated`},
	}
	for _, tt := range tests {
		end, err := scanJSON([]byte(tt.in), lim)
		if err != nil {
			t.Errorf("%q: got %v", tt.in, err)
			continue
		}
		if got := tt.in[:end]; got != tt.want {
			t.Errorf("%q: got first value %q, want %q", tt.in, got, tt.want)
		}
	}
	if _, err := scanJSON([]byte(" \n\t"), lim); !errors.Is(err, io.EOF) {
		t.Errorf("white space: got %v, want io.EOF", err)
	}
}

func TestScanJSONDepth(t *testing.T) {
	lim := jsonLimits{depth: 4, values: 1000}
	ok := `{"a":[{"b":[1]}]}`                  // depth 4
	deep := `{"a":[{"b":[{"c":1}]}]}`          // depth 5
	inString := `{"a":"[[[[[[[[[[[[[[[[[[[["}` // brackets in a string do not nest
	if _, err := scanJSON([]byte(ok), lim); err != nil {
		t.Errorf("depth 4: got %v", err)
	}
	if _, err := scanJSON([]byte(inString), lim); err != nil {
		t.Errorf("brackets in a string: got %v", err)
	}
	_, err := scanJSON([]byte(deep), lim)
	if status.Code(err) != codes.InvalidArgument || !strings.Contains(err.Error(), "deeper than 4") {
		t.Errorf("depth 5: got %v, want InvalidArgument naming the limit", err)
	}
	// 5,000 levels inside a Value: refused at the first level past the
	// limit, whatever follows.
	huge := strings.Repeat(`{"v":`, 5000) + "1" + strings.Repeat("}", 5000)
	if _, err := scanJSON([]byte(huge), jsonLimits{depth: 64, values: 1 << 20}); status.Code(err) != codes.InvalidArgument {
		t.Errorf("5000 levels: got %v, want InvalidArgument", err)
	}
}

func TestScanJSONValues(t *testing.T) {
	lim := jsonLimits{depth: 64, values: 10}
	// An object of 3 members and an array of 3: 1 + 3 + 1 + 3 = 8 values;
	// keys do not count.
	if _, err := scanJSON([]byte(`{"a":1,"b":"x","c":[1,2,3]}`), lim); err != nil {
		t.Errorf("8 values: got %v", err)
	}
	many := "[" + strings.Repeat("0,", 20) + "0]"
	_, err := scanJSON([]byte(many), lim)
	if status.Code(err) != codes.InvalidArgument || !strings.Contains(err.Error(), "more than 10 values") {
		t.Errorf("22 values: got %v, want InvalidArgument naming the limit", err)
	}
}

// TestScanJSONAgreesWithDecoder: on valid JSON, the first value found is
// the one encoding/json's Decoder reads.
func TestScanJSONAgreesWithDecoder(t *testing.T) {
	for _, in := range []string{
		`{"a":{"b":[1,2,{"c":"d\\\"e"}]},"f":null} {"g":1}`,
		`["x",{"y":[]},true,false,null,1e9]   [2]`,
		`"\u00e9\"\\"  "next"`,
		`{"k":"v"}` + "\n" + `{"k":"w"}` + "\n",
	} {
		end, err := scanJSON([]byte(in), jsonLimits{depth: 64, values: 1000})
		if err != nil {
			t.Fatalf("%q: %v", in, err)
		}
		var raw json.RawMessage
		if err := json.NewDecoder(strings.NewReader(in)).Decode(&raw); err != nil {
			t.Fatal(err)
		}
		if got := strings.TrimSpace(in[:end]); got != string(raw) {
			t.Errorf("%q: got %q, json.Decoder reads %q", in, got, raw)
		}
	}
}

func FuzzScanJSON(f *testing.F) {
	for _, s := range []string{`{}`, `[1,2]`, `{"a":"b\"c"}`, `"x"`, `12 3`, `{"a":[{"b":{}}]}`} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, in string) {
		end, err := scanJSON([]byte(in), jsonLimits{depth: 64, values: 1 << 20})
		if err != nil {
			return
		}
		if end < 0 || end > len(in) {
			t.Fatalf("%q: end %d out of range", in, end)
		}
		// On valid JSON, the value found is the decoder's first value.
		if !json.Valid([]byte(in)) {
			return
		}
		var raw json.RawMessage
		if err := json.NewDecoder(strings.NewReader(in)).Decode(&raw); err != nil {
			return
		}
		if got := strings.TrimSpace(in[:end]); got != string(raw) {
			t.Fatalf("%q: got %q, json.Decoder reads %q", in, got, raw)
		}
	})
}
