package config

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// FuzzParse feeds arbitrary text to Parse: it must never panic, every
// problem must have a message, and a problem with a line must be within
// the text. Seeds are the golden files' inputs.
func FuzzParse(f *testing.F) {
	files, _ := filepath.Glob(filepath.Join("testdata", "*.txt"))
	for _, file := range files {
		data, err := os.ReadFile(file)
		if err != nil {
			f.Fatal(err)
		}
		input, _, _ := strings.Cut(string(data), "\n"+goldenSeparator)
		f.Add(input)
	}
	f.Add("a: &x [1]\nb: *x\n")
	f.Add("apis:\n  - services: [~, null]\n    methods: {a: b}\n")
	f.Fuzz(func(t *testing.T, input string) {
		file, err := Parse([]byte(input), "/etc/portico")
		if err == nil {
			if file == nil || file.Config == nil {
				t.Fatal("Parse: no error and no config")
			}
			return
		}
		lines := yamlLines(input)
		for _, e := range flatten(err) {
			if e.Message == "" {
				t.Errorf("problem without a message: %+v", e)
			}
			if e.Line > lines {
				t.Errorf("problem at line %d of a %d-line input: %v", e.Line, lines, e)
			}
		}
	})
}

// yamlLines counts the lines of input as YAML does: "\r\n", "\n" and a
// lone "\r" each end a line.
func yamlLines(input string) int {
	return strings.Count(strings.ReplaceAll(input, "\r\n", "\n"), "\n") +
		strings.Count(strings.ReplaceAll(input, "\r\n", ""), "\r") + 1
}
