package main

import (
	"bytes"
	"log/slog"
	"net"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/portico-gw/portico/config"
	"github.com/portico-gw/portico/snapshot"
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
// README and docs/ say so too: a reader copies them.
func TestRegressDemoAndExamplesSayPublic(t *testing.T) {
	cfg, cleanup, err := startDemo()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(cleanup)
	snap, err := snapshot.Build(cfg, snapshot.Options{Logger: slog.New(slog.DiscardHandler)})
	if err != nil {
		t.Fatalf("the demo does not build: %v", err)
	}
	t.Cleanup(func() { snap.Close() })
	for _, w := range snap.Warnings() {
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

	// The README's reference moved to docs/: its configs are checked there.
	pages, err := filepath.Glob(filepath.Join("..", "..", "docs", "*.md"))
	if err != nil {
		t.Fatal(err)
	}
	var blocks []readmeBlock
	for _, p := range append([]string{filepath.Join("..", "..", "README.md")}, pages...) {
		text, err := os.ReadFile(p)
		if err != nil {
			t.Fatal(err)
		}
		for _, b := range readmeYAML(string(text)) {
			b.file = filepath.ToSlash(strings.TrimPrefix(p, filepath.Join("..", "..")+string(filepath.Separator)))
			blocks = append(blocks, b)
		}
	}
	if len(blocks) < 10 {
		t.Fatalf("found %d YAML configs in the README and docs/, want the dozen they have", len(blocks))
	}
	for _, b := range blocks {
		var doc struct {
			Apis []map[string]any `yaml:"apis"`
		}
		if err := yaml.Unmarshal([]byte(b.text), &doc); err != nil {
			t.Errorf("%s:%d: not YAML: %v", b.file, b.line, err)
			continue
		}
		for i, api := range doc.Apis {
			if _, ok := api["auth"]; !ok {
				t.Errorf("%s:%d: apis[%d] (%v) has no auth: got none, want auth: {public: true} or providers", b.file, b.line, i, api["services"])
			}
		}
	}
}

// readmeBlock is a config in the README or a docs/ page: a ```yaml
// block, or the body of a `cat > *.yaml <<'EOF'` here-document.
type readmeBlock struct {
	file string
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

// writeFile writes content to name in dir and returns its path.
func writeFile(t *testing.T, dir, name, content string) string {
	t.Helper()
	p := filepath.Join(dir, name)
	if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

// `portico validate` and `portico routes` beside a running gateway failed
// with "state_dir: .../portico-quotas.db is in use by another process": a
// check opened (and created) the quota state file the gateway holds.
func TestRegressValidateBesideRunningGateway(t *testing.T) {
	dir := t.TempDir()
	cfg := writeFile(t, dir, "portico.yaml", `integrations:
  - name: b
    grpc: {target: "127.0.0.1:50051"}
apis:
  - services: [example.bookstore.v1.BookstoreService]
    integration: b
    auth: {public: true}
usage_plans:
  - {name: gold, rate: 10/s, quota: {limit: 1000, period: day}}
rate_limits:
  state_dir: state
`)
	f, err := config.Load(cfg)
	if err != nil {
		t.Fatal(err)
	}
	running, err := snapshot.Build(f, snapshot.Options{Logger: slog.New(slog.DiscardHandler)})
	if err != nil {
		t.Fatalf("the running gateway's snapshot: %v", err)
	}
	t.Cleanup(func() { running.Close() })
	for _, args := range [][]string{{"validate", "-c", cfg}, {"routes", "-c", cfg}} {
		if code, _, errOut := runArgs(args...); code != 0 {
			t.Errorf("portico %s beside a running gateway: got exit %d, %q; want exit 0", args[0], code, errOut)
		}
	}

	fresh := filepath.Join(dir, "fresh")
	cfg2 := writeFile(t, dir, "fresh.yaml", strings.Replace(mustRead(t, cfg), "state_dir: state", "state_dir: fresh", 1))
	if code, _, errOut := runArgs("validate", "-c", cfg2); code != 0 {
		t.Errorf("validate: got exit %d, %q", code, errOut)
	}
	if _, err := os.Stat(fresh); !os.IsNotExist(err) {
		t.Errorf("validate created the state_dir (%v), want it untouched", err)
	}
}

func mustRead(t *testing.T, p string) string {
	t.Helper()
	b, err := os.ReadFile(p)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// An unknown integration hid a CEL error: validate stopped after the
// first phase with problems. Every phase reports now, in one run.
func TestRegressValidateReportsEveryPhase(t *testing.T) {
	dir := t.TempDir()
	writeFile(t, dir, "keys.json", `{"keys":[{"kty":"oct","k":"c2VjcmV0c2VjcmV0c2VjcmV0c2VjcmV0","kid":"a","alg":"HS256"}]}`)
	cfg := writeFile(t, dir, "portico.yaml", `integrations:
  - name: b
    grpc: {target: "127.0.0.1:50051"}
auth:
  providers:
    - name: corp
      jwt: {jwks_file: keys.json, issuer: x, audiences: [y], algorithms: [HS256]}
apis:
  - services: [example.bookstore.v1.BookstoreService]
    integration: nope
    auth: {providers: [corp], require: 'claims.sub ==== 3'}
`)
	code, _, errOut := runArgs("validate", "-c", cfg)
	if code != 2 {
		t.Fatalf("validate: got exit %d, want 2\n%s", code, errOut)
	}
	for _, want := range []string{`apis[0].integration: unknown integration "nope"`, "apis[0].auth.require:", "Syntax error"} {
		if !strings.Contains(errOut, want) {
			t.Errorf("validate's report lacks %q:\n%s", want, errOut)
		}
	}

	// An integration that does not build (its own check fails) hid them
	// the same way.
	cfg = writeFile(t, dir, "portico.yaml", strings.Replace(strings.Replace(mustRead(t, cfg),
		"integration: nope", "integration: b", 1),
		`grpc: {target: "127.0.0.1:50051"}`, `grpc: {target: "127.0.0.1:50051", tls: {ca_file: missing-ca.pem}}`, 1))
	code, _, errOut = runArgs("validate", "-c", cfg)
	if code != 2 {
		t.Fatalf("validate: got exit %d, want 2\n%s", code, errOut)
	}
	for _, want := range []string{"missing-ca.pem", "apis[0].auth.require:", "Syntax error"} {
		if !strings.Contains(errOut, want) {
			t.Errorf("validate's report lacks %q:\n%s", want, errOut)
		}
	}
}

// validate and routes dialled a discover: true integration's backend (for
// its reflection) and failed when it was not up. They dial nothing now and
// say which APIs they could not check; --discover fetches as serve does.
func TestRegressValidateDialsNothing(t *testing.T) {
	lis, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { lis.Close() })
	var accepted atomic.Int64
	go func() {
		for {
			c, err := lis.Accept()
			if err != nil {
				return
			}
			accepted.Add(1)
			c.Close()
		}
	}()
	// Everything that could dial points at the listener: the grpc
	// backends, an http backend, an external authorizer, Redis.
	cfg := writeFile(t, t.TempDir(), "portico.yaml", `integrations:
  - name: b
    grpc: {target: "`+lis.Addr().String()+`"}
  - name: billing
    grpc: {target: "`+lis.Addr().String()+`", discover: true}
  - name: legacy
    http: {url: "http://`+lis.Addr().String()+`/api"}
auth:
  providers:
    - name: opa
      external: {target: "`+lis.Addr().String()+`"}
rate_limits:
  store: redis
  redis: {address: "`+lis.Addr().String()+`"}
  policies:
    - {name: per-ip, key: client_ip, rate: 10/s}
apis:
  - services: [example.bookstore.v1.BookstoreService]
    integration: b
    auth: {providers: [opa]}
    rate_limits: [per-ip]
  - services: [acme.billing.v1.Invoices]
    integration: billing
    auth: {public: true}
routes:
  - {prefix: /legacy/, integration: legacy, auth: {public: true}}
`)
	code, out, errOut := runArgs("validate", "-c", cfg)
	if code != 0 || !strings.Contains(errOut, "integrations[1].grpc.discover: warning: not checked") || !strings.Contains(errOut, "acme.billing.v1.Invoices") {
		t.Errorf("validate: got exit %d, %q %q; want exit 0 and a warning that the billing API was not checked", code, out, errOut)
	}
	code, out, errOut = runArgs("routes", "-c", cfg)
	if code != 0 || !strings.Contains(out, "/example.bookstore.v1.BookstoreService/") || !strings.Contains(errOut, "acme.billing.v1.Invoices") {
		t.Errorf("routes: got exit %d, %q %q; want exit 0, the bookstore's routes and a warning naming the billing API", code, out, errOut)
	}
	if n := accepted.Load(); n != 0 {
		t.Errorf("validate and routes dialled the backend %d times, want 0", n)
	}
	if code, _, errOut := runArgs("validate", "--discover", "-c", cfg); code != 2 || !strings.Contains(errOut, "integrations[1].grpc.discover") || accepted.Load() == 0 {
		t.Errorf("validate --discover against a backend without reflection: got exit %d, %q, %d dials; want exit 2, the discovery's problem, a dial",
			code, errOut, accepted.Load())
	}
}

// A mock without a response for some methods of its API was a config
// error. validate now passes it and warns, naming those methods.
func TestRegressValidateWarnsMockWithoutResponses(t *testing.T) {
	cfg := writeFile(t, t.TempDir(), "portico.yaml", `integrations:
  - name: stub
    mock:
      responses:
        - selector: example.bookstore.v1.BookstoreService.GetShelf
          json: '{"id": "1"}'
apis:
  - services: [example.bookstore.v1.BookstoreService]
    integration: stub
    auth: {public: true}
`)
	code, out, errOut := runArgs("validate", "-c", cfg)
	if code != 0 {
		t.Fatalf("validate: got exit %d, %q %q; want exit 0", code, out, errOut)
	}
	for _, want := range []string{"integrations[0].mock: warning:", "UNIMPLEMENTED", "example.bookstore.v1.BookstoreService.ListShelves", "example.bookstore.v1.BookstoreService.DeleteBook"} {
		if !strings.Contains(errOut, want) {
			t.Errorf("validate's warnings lack %q:\n%s", want, errOut)
		}
	}
	if strings.Contains(errOut, "BookstoreService.GetShelf,") {
		t.Errorf("the warning names GetShelf, which has a response:\n%s", errOut)
	}
}

// validate said ok to a config whose tls files do not exist; serve then
// failed to start ("tls: stat nope.pem"). validate reports it with the
// rest.
func TestRegressValidateChecksTLSFiles(t *testing.T) {
	cfg := writeFile(t, t.TempDir(), "portico.yaml", `tls: {cert_file: nope.pem, key_file: nope-key.pem}
integrations:
  - name: b
    grpc: {target: "127.0.0.1:50051"}
apis:
  - services: [example.bookstore.v1.BookstoreService, example.Nope]
    integration: b
    auth: {public: true}
`)
	code, _, errOut := runArgs("validate", "-c", cfg)
	if code != 2 || !strings.Contains(errOut, "tls: ") || !strings.Contains(errOut, "nope.pem") || !strings.Contains(errOut, `"example.Nope" not found`) {
		t.Errorf("validate: got exit %d, %q; want exit 2, the missing certificate and the missing service", code, errOut)
	}
}
