package config

import (
	"encoding/binary"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"unicode/utf16"
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

// yamlLines counts the lines of input as YAML does: "\r\n", "\n", a lone
// "\r", NEL, LS and PS each end a line. A UTF-16 input (with its byte
// order mark) is counted in its characters.
func yamlLines(input string) int {
	if u, ok := fromUTF16(input); ok {
		input = u
	}
	n := 1
	for i, r := range input {
		switch r {
		case '\n', '\u0085', '\u2028', '\u2029':
			n++
		case '\r':
			if !strings.HasPrefix(input[i+1:], "\n") {
				n++
			}
		}
	}
	return n
}

// fromUTF16 decodes input when it starts with a UTF-16 byte order mark.
func fromUTF16(input string) (string, bool) {
	var order binary.ByteOrder
	switch {
	case strings.HasPrefix(input, "\xfe\xff"):
		order = binary.BigEndian
	case strings.HasPrefix(input, "\xff\xfe"):
		order = binary.LittleEndian
	default:
		return "", false
	}
	var units []uint16
	for i := 2; i+1 < len(input); i += 2 {
		units = append(units, order.Uint16([]byte(input[i:i+2])))
	}
	return string(utf16.Decode(units)), true
}
