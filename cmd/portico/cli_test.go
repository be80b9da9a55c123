package main

import (
	"bytes"
	"flag"
	"os"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"testing"
)

var update = flag.Bool("update", false, "rewrite the expected output of the golden files in testdata")

// TestGolden runs each testdata/*.txt case through run, in process, and
// compares the exit status and output with the file's.
//
// A case file is a few header lines, then sections that each start with a
// line "-- NAME --":
//
//	# comments
//	run: validate -c bad.yaml      the arguments, split on spaces
//	env: PORTICO_CONFIG=good.yaml  environment (any number of env: lines)
//	exit: 2                        the expected exit status
//	-- bad.yaml --                 a file written to the case's directory
//	-- stdout --                   expected standard output
//	-- stderr --                   expected standard error
//
// Cases run in a fresh directory holding their files; its path reads
// $WORK in the output, and the Go version $GOVERSION. Run with -update to
// rewrite exit, stdout and stderr from the current behaviour. No case may
// reach a serving gateway: run is in process.
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
			path, err := filepath.Abs(file)
			if err != nil {
				t.Fatal(err)
			}
			c := readCase(t, path)
			dir := t.TempDir()
			for _, s := range c.sections {
				if s.name == "stdout" || s.name == "stderr" {
					continue
				}
				p := filepath.Join(dir, filepath.FromSlash(s.name))
				if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
					t.Fatal(err)
				}
				if err := os.WriteFile(p, []byte(s.body), 0o644); err != nil {
					t.Fatal(err)
				}
			}
			t.Chdir(dir)
			env := map[string]string{}
			for _, kv := range c.env {
				k, v, _ := strings.Cut(kv, "=")
				env[k] = v
			}
			var stdout, stderr bytes.Buffer
			code := run(strings.Fields(c.args), func(k string) string { return env[k] }, &stdout, &stderr)
			clean := func(s string) string {
				s = strings.ReplaceAll(s, dir, "$WORK")
				return strings.ReplaceAll(s, runtime.Version(), "$GOVERSION")
			}
			got := map[string]string{"stdout": clean(stdout.String()), "stderr": clean(stderr.String())}
			if *update {
				c.exit = code
				c.set("stdout", got["stdout"])
				c.set("stderr", got["stderr"])
				if err := os.WriteFile(path, []byte(c.String()), 0o644); err != nil {
					t.Fatal(err)
				}
				return
			}
			if code != c.exit {
				t.Errorf("portico %s: got exit status %d, want %d\nstderr:\n%s", c.args, code, c.exit, got["stderr"])
			}
			for _, name := range []string{"stdout", "stderr"} {
				if want := c.get(name); got[name] != want {
					t.Errorf("portico %s: %s:\ngot:\n%s\nwant:\n%s", c.args, name, got[name], want)
				}
			}
		})
	}
}

// goldenCase is one testdata file.
type goldenCase struct {
	header   []string // lines before the first section, as read
	args     string
	env      []string
	exit     int
	sections []section
}

type section struct{ name, body string }

func readCase(t *testing.T, path string) *goldenCase {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	c := &goldenCase{}
	var cur *section
	for _, line := range strings.SplitAfter(string(data), "\n") {
		trimmed := strings.TrimSuffix(line, "\n")
		if strings.HasPrefix(trimmed, "-- ") && strings.HasSuffix(trimmed, " --") && len(trimmed) > 6 {
			c.sections = append(c.sections, section{name: trimmed[3 : len(trimmed)-3]})
			cur = &c.sections[len(c.sections)-1]
			continue
		}
		if cur != nil {
			cur.body += line
			continue
		}
		if trimmed == "" {
			continue
		}
		key, value, _ := strings.Cut(trimmed, ":")
		value = strings.TrimSpace(value)
		switch key {
		case "run":
			c.args = value
		case "env":
			c.env = append(c.env, value)
		case "exit":
			if c.exit, err = strconv.Atoi(value); err != nil {
				t.Fatalf("%s: exit: %v", path, err)
			}
			continue // written back from the result
		default:
			if !strings.HasPrefix(trimmed, "#") {
				t.Fatalf("%s: unknown header line %q", path, trimmed)
			}
		}
		c.header = append(c.header, trimmed)
	}
	if c.args == "" && !strings.Contains(string(data), "\nrun:") && !strings.HasPrefix(string(data), "run:") {
		t.Fatalf("%s: no run: line", path)
	}
	return c
}

func (c *goldenCase) get(name string) string {
	for _, s := range c.sections {
		if s.name == name {
			return s.body
		}
	}
	return ""
}

func (c *goldenCase) set(name, body string) {
	for i := range c.sections {
		if c.sections[i].name == name {
			c.sections[i].body = body
			return
		}
	}
	c.sections = append(c.sections, section{name: name, body: body})
}

func (c *goldenCase) String() string {
	var b strings.Builder
	for _, h := range c.header {
		b.WriteString(h + "\n")
	}
	b.WriteString("exit: " + strconv.Itoa(c.exit) + "\n")
	for _, s := range c.sections {
		b.WriteString("-- " + s.name + " --\n" + s.body)
	}
	return b.String()
}
