package main

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// Regression tests: one per finding, named for it. The findings are from
// issue 10 ("The operator's first hour").

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
