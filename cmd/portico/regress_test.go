package main

import (
	"bytes"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/portico-gw/portico/server"
	"go.yaml.in/yaml/v3"
)

// Regression tests: one per finding, named for it. The findings are from
// issue 10 ("The operator's first hour") and issue 14 ("The edge holds").

// runArgs runs a command line in process with no environment.
func runArgs(args ...string) (code int, stdout, stderr string) {
	var out, errOut bytes.Buffer
	code = run(args, func(string) string { return "" }, &out, &errOut)
	return code, out.String(), errOut.String()
}

// writeGood writes a valid config (compiled-in bookstore) to a temp dir
// and returns its path.
func writeGood(t *testing.T) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), "portico.yaml")
	cfg := "integrations:\n  - name: b\n    grpc: {target: \"127.0.0.1:50051\"}\n" +
		"apis:\n  - services: [example.bookstore.v1.BookstoreService]\n    integration: b\n"
	if err := os.WriteFile(p, []byte(cfg), 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

// `portico --help` and `-h` exited 2 and listed only serve's flags.
func TestRegressHelpExitsZeroAndListsCommands(t *testing.T) {
	for _, arg := range []string{"--help", "-h", "help"} {
		code, out, _ := runArgs(arg)
		if code != 0 || !strings.Contains(out, "validate") || strings.Contains(out, "--http") {
			t.Errorf("portico %s: got exit %d and\n%s\nwant exit 0 and the commands, without serve's flags", arg, code, out)
		}
	}
}

// `portico -c x.yaml validate` silently served (the command after the
// flags was ignored), which hangs CI.
func TestRegressFlagsBeforeCommandDoNotServe(t *testing.T) {
	code, _, errOut := runArgs("-c", writeGood(t), "validate")
	if code != 2 || !strings.Contains(errOut, "the command comes before its flags") {
		t.Errorf("portico -c x validate: got exit %d, %q; want a usage error", code, errOut)
	}
}

// `portico validate -c x.yaml extra junk` exited 0.
func TestRegressStrayArgumentsAreErrors(t *testing.T) {
	code, _, errOut := runArgs("validate", "-c", writeGood(t), "extra", "junk")
	if code != 2 || !strings.Contains(errOut, `unexpected argument "extra"`) {
		t.Errorf("validate with stray arguments: got exit %d, %q; want a usage error", code, errOut)
	}
}

// `validate -h` listed serve's -http/-grpc/-admin.
func TestRegressValidateHelpListsOwnFlags(t *testing.T) {
	code, out, _ := runArgs("validate", "-h")
	if code != 0 || !strings.Contains(out, "--config") || strings.Contains(out, "--http") || strings.Contains(out, "--grpc") {
		t.Errorf("validate -h: got exit %d and\n%s\nwant exit 0 and validate's flags only", code, out)
	}
}

// `--config` and `--version` were rejected; there was no PORTICO_CONFIG.
func TestRegressLongFlagsAndEnvironment(t *testing.T) {
	good := writeGood(t)
	if code, out, errOut := runArgs("validate", "--config", good); code != 0 || !strings.Contains(out, ": ok") {
		t.Errorf("validate --config: got exit %d, %q %q", code, out, errOut)
	}
	if code, out, _ := runArgs("--version"); code != 0 || !strings.HasPrefix(out, "portico ") {
		t.Errorf("--version: got exit %d, %q", code, out)
	}
	var out bytes.Buffer
	env := func(k string) string {
		if k == "PORTICO_CONFIG" {
			return good
		}
		return ""
	}
	if code := run([]string{"validate"}, env, &out, &out); code != 0 {
		t.Errorf("PORTICO_CONFIG validate: got exit %d, %q", code, out.String())
	}
}

// `portico routes` left gRPC-only methods out (17 methods, fewer rows, no
// word why).
func TestRegressRoutesListsGRPCOnlyMethods(t *testing.T) {
	code, out, errOut := runArgs("routes", "-c", writeGood(t))
	if code != 0 {
		t.Fatalf("routes: exit %d: %s", code, errOut)
	}
	for _, want := range []string{
		"(gRPC only)                          /example.bookstore.v1.BookstoreService/Reindex",
		"2 methods served over gRPC only",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("routes output lacks %q:\n%s", want, out)
		}
	}
}

// Regression tests for issue 14 ("The edge holds": operator correctness).

// The demo's first screen said "WARN ... no auth": its API did not say it
// is public. The example configs (examples/) and every config in the
// README say so too: a reader copies them.
func TestRegressDemoAndExamplesSayPublic(t *testing.T) {
	cfg, cleanup, err := startDemo()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(cleanup)
	snap, err := server.Build(cfg, server.BuildOptions{Logger: slog.New(slog.DiscardHandler)})
	if err != nil {
		t.Fatalf("the demo does not build: %v", err)
	}
	t.Cleanup(func() { snap.Close() })
	for _, w := range snap.Warnings {
		t.Errorf("the demo warns: got %v, want no warning", w)
	}

	examples, err := filepath.Glob(filepath.Join("..", "..", "examples", "*", "*.yaml"))
	if err != nil || len(examples) == 0 {
		t.Fatalf("no example configs found (%v)", err)
	}
	for _, p := range examples {
		code, _, errOut := runArgs("validate", "-c", p)
		if code != 0 || strings.Contains(errOut, "warning") {
			t.Errorf("validate %s: got exit %d and %q, want exit 0 and no warning", p, code, errOut)
		}
	}

	readme, err := os.ReadFile(filepath.Join("..", "..", "README.md"))
	if err != nil {
		t.Fatal(err)
	}
	blocks := readmeYAML(string(readme))
	if len(blocks) < 10 {
		t.Fatalf("found %d YAML configs in the README, want the dozen it has", len(blocks))
	}
	for _, b := range blocks {
		var doc struct {
			Apis []map[string]any `yaml:"apis"`
		}
		if err := yaml.Unmarshal([]byte(b.text), &doc); err != nil {
			t.Errorf("README.md:%d: not YAML: %v", b.line, err)
			continue
		}
		for i, api := range doc.Apis {
			if _, ok := api["auth"]; !ok {
				t.Errorf("README.md:%d: apis[%d] (%v) has no auth: got none, want auth: {public: true} or providers", b.line, i, api["services"])
			}
		}
	}
}

// readmeBlock is a config in the README: a ```yaml block, or the body of
// a `cat > *.yaml <<'EOF'` here-document.
type readmeBlock struct {
	line int
	text string
}

func readmeYAML(readme string) []readmeBlock {
	var out []readmeBlock
	lines := strings.Split(readme, "\n")
	for i := 0; i < len(lines); i++ {
		l := strings.TrimSpace(lines[i])
		var end string
		switch {
		case l == "```yaml":
			end = "```"
		case strings.HasPrefix(l, "cat > ") && strings.HasSuffix(l, ".yaml <<'EOF'"):
			end = "EOF"
		default:
			continue
		}
		indent := lines[i][:len(lines[i])-len(strings.TrimLeft(lines[i], " "))]
		b := readmeBlock{line: i + 2}
		for i++; i < len(lines) && strings.TrimSpace(lines[i]) != end; i++ {
			b.text += strings.TrimPrefix(lines[i], indent) + "\n"
		}
		out = append(out, b)
	}
	return out
}
