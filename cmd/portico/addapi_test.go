package main_test

import (
	"bufio"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"syscall"
	"testing"
	"time"
)

// heredoc matches `cat > FILE <<'EOF'` in the README's shell steps.
var heredoc = regexp.MustCompile(`^cat > (\S+) <<'EOF'$`)

// readmeSteps returns the files the README's "Adding an API" section
// writes (name -> content) and its commands, in order, as written.
func readmeSteps(t *testing.T) (map[string]string, []string) {
	t.Helper()
	data, err := os.ReadFile(filepath.Join("..", "..", "README.md"))
	if err != nil {
		t.Fatal(err)
	}
	text := string(data)
	start := strings.Index(text, "## Adding an API")
	end := strings.Index(text[start+1:], "\n## ")
	if start < 0 || end < 0 {
		t.Fatal("no Adding an API section in the README")
	}
	files := map[string]string{}
	var cmds []string
	var in string
	var body strings.Builder
	for _, line := range strings.Split(text[start:start+1+end], "\n") {
		if !strings.HasPrefix(line, "    ") {
			if in != "" {
				t.Fatalf("the README's heredoc for %s has no EOF", in)
			}
			continue
		}
		line = strings.TrimPrefix(line, "    ")
		switch {
		case in != "" && line == "EOF":
			files[in] = body.String()
			in = ""
			body.Reset()
		case in != "":
			body.WriteString(line + "\n")
		case heredoc.MatchString(line):
			in = heredoc.FindStringSubmatch(line)[1]
		default:
			cmds = append(cmds, line)
		}
	}
	return files, cmds
}

// TestAddingAnAPIAsTheREADMESays follows the README's "Adding an API"
// steps as written, on a machine with only Go: write the .proto and the
// config, validate, serve, call the new route (the config's port 8080 is
// replaced by a free one).
func TestAddingAnAPIAsTheREADMESays(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the binary")
	}
	files, cmds := readmeSteps(t)
	want := []string{"mkdir -p apis", "portico validate -c portico.yaml", "portico serve -c portico.yaml &",
		"curl http://127.0.0.1:8080/v1/hello/world    # {\"message\":\"hello from the mock\"}"}
	if strings.Join(cmds, "\n") != strings.Join(want, "\n") {
		t.Fatalf("the README's steps changed:\n%s\nwant:\n%s\n(update this test with them)", strings.Join(cmds, "\n"), strings.Join(want, "\n"))
	}
	if len(files) != 2 || files["apis/greeter.proto"] == "" || files["portico.yaml"] == "" {
		t.Fatalf("the README writes %d files, want apis/greeter.proto and portico.yaml", len(files))
	}
	bin := buildPortico(t)
	dir := t.TempDir()
	if err := os.MkdirAll(filepath.Join(dir, "apis"), 0o755); err != nil { // mkdir -p apis
		t.Fatal(err)
	}
	for name, content := range files {
		if name == "portico.yaml" {
			content = strings.Replace(content, "127.0.0.1:8080", "127.0.0.1:0", 1)
		}
		if err := os.WriteFile(filepath.Join(dir, name), []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	validate := exec.Command(bin, "validate", "-c", "portico.yaml")
	validate.Dir = dir
	if out, err := validate.CombinedOutput(); err != nil {
		t.Fatalf("portico validate: %v\n%s", err, out)
	}
	serve := exec.Command(bin, "serve", "-c", "portico.yaml")
	serve.Dir = dir
	stdout, err := serve.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := serve.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = serve.Process.Signal(syscall.SIGTERM); _ = serve.Wait() })
	line, err := bufio.NewReader(stdout).ReadString('\n')
	if err != nil {
		t.Fatalf("reading the start-up line: %v", err)
	}
	m := regexp.MustCompile(`REST on (http://\S+?)[, ]`).FindStringSubmatch(line)
	if m == nil {
		t.Fatalf("no REST address in %q", line)
	}
	client := &http.Client{Timeout: 10 * time.Second}
	resp, err := client.Get(m[1] + "/v1/hello/world") // the README's curl
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK || strings.TrimSpace(string(body)) != `{"message":"hello from the mock"}` {
		t.Errorf("curl: got %d %s, want 200 {\"message\":\"hello from the mock\"}", resp.StatusCode, body)
	}
}
