package config

import (
	"bytes"
	"encoding/json"
	"errors"
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"google.golang.org/protobuf/encoding/protojson"
	"google.golang.org/protobuf/proto"
)

var update = flag.Bool("update", false, "rewrite the expected output of the golden files in testdata")

// goldenSeparator divides a golden file's input YAML from its expected
// output.
const goldenSeparator = "----\n"

// TestGolden reads each testdata/*.txt file, parses its input and compares
// the outcome with its expected output.
//
// A golden file is the input YAML, a line "----", then either the config as
// parsed (proto3 JSON with proto field names, indented by two spaces) or one
// line "error: <problem>" per expected problem. Run with -update to rewrite
// the expected outputs from the current code.
func TestGolden(t *testing.T) {
	files, err := filepath.Glob(filepath.Join("testdata", "*.txt"))
	if err != nil {
		t.Fatal(err)
	}
	if len(files) == 0 {
		t.Fatal("no golden files in testdata")
	}
	for _, file := range files {
		t.Run(strings.TrimSuffix(filepath.Base(file), ".txt"), func(t *testing.T) {
			data, err := os.ReadFile(file)
			if err != nil {
				t.Fatal(err)
			}
			input, want, ok := strings.Cut(string(data), "\n"+goldenSeparator)
			if !ok {
				t.Fatalf("%s: no %q line", file, strings.TrimSpace(goldenSeparator))
			}
			input += "\n"
			got := goldenOutput(t, []byte(input))
			if *update {
				out := input + goldenSeparator + got
				if err := os.WriteFile(file, []byte(out), 0o644); err != nil {
					t.Fatal(err)
				}
				return
			}
			if got != want {
				t.Errorf("Parse(%s):\ngot:\n%s\nwant:\n%s", file, got, want)
			}
		})
	}
}

// goldenOutput parses input and renders the outcome as a golden file's
// expected output.
func goldenOutput(t *testing.T, input []byte) string {
	t.Helper()
	f, err := parse(input, "/etc/portico", "portico.yaml")
	if err != nil {
		var errs Errors
		if !errors.As(err, &errs) {
			t.Fatalf("Parse: got error %T %q, want Errors", err, err)
		}
		var b strings.Builder
		for _, e := range errs {
			b.WriteString("error: " + e.Error() + "\n")
		}
		return b.String()
	}
	out := canonicalJSON(t, f)
	// The output is JSON, and so YAML: it must read back as the same config.
	again, err := Parse([]byte(out), "/etc/portico")
	if err != nil {
		t.Fatalf("Parse(output of Parse): %v", err)
	}
	if !proto.Equal(again.Config, f.Config) {
		t.Errorf("Parse(output of Parse) = %v, want %v", again.Config, f.Config)
	}
	return out
}

// canonicalJSON renders f.Config as stable, indented proto3 JSON. protojson
// varies its whitespace on purpose, so its output is compacted and indented
// again.
func canonicalJSON(t *testing.T, f *File) string {
	t.Helper()
	j, err := protojson.MarshalOptions{UseProtoNames: true}.Marshal(f.Config)
	if err != nil {
		t.Fatal(err)
	}
	var compact, out bytes.Buffer
	if err := json.Compact(&compact, j); err != nil {
		t.Fatal(err)
	}
	if err := json.Indent(&out, compact.Bytes(), "", "  "); err != nil {
		t.Fatal(err)
	}
	out.WriteByte('\n')
	return out.String()
}
