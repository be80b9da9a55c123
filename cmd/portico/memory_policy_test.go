package main_test

import (
	"bufio"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/docker/go-units"
	"github.com/portico-gw/portico/server/servertest"
)

// policyLine is the log line the gateway writes when it applies its
// memory policy (package gcpolicy), read back from the runtime.
var policyLine = regexp.MustCompile(`msg="memory policy" gc_percent=(-?\d+) memory_limit=(\S+) measured=(\S+) from_env=(\S*)`)

// adminAddr finds the admin listener in the start-up line.
var adminAddr = regexp.MustCompile(`admin on http://(\S+) `)

// policyServer is a gateway started by servePolicy.
type policyServer struct {
	path, backend string
	admin         string // the admin listener's address
	lines         <-chan []string
}

// servePolicy starts the binary on the hostile API with runtime (YAML, or
// "") in its config and env added to a clean environment (no GOGC or
// GOMEMLIMIT unless given); it returns the config's path and the memory
// policy lines the gateway logs, as they come.
func servePolicy(t *testing.T, bin, runtime string, env ...string) policyServer {
	t.Helper()
	mirror := servertest.StartMirror(t, servertest.HostileFiles(t))
	path := filepath.Join(t.TempDir(), "portico.yaml")
	writePolicyConfig(t, path, mirror.Addr, runtime)
	cmd := exec.Command(bin, "serve", "-c", path)
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, "GOGC=") && !strings.HasPrefix(kv, "GOMEMLIMIT=") {
			cmd.Env = append(cmd.Env, kv)
		}
	}
	cmd.Env = append(cmd.Env, env...)
	stderr, err := cmd.StderrPipe()
	if err != nil {
		t.Fatal(err)
	}
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = cmd.Process.Signal(syscall.SIGTERM); _ = cmd.Wait() })
	lines := make(chan []string, 16)
	go func() {
		sc := bufio.NewScanner(stderr)
		for sc.Scan() {
			if m := policyLine.FindStringSubmatch(sc.Text()); m != nil {
				lines <- m[1:]
			}
		}
		close(lines)
	}()
	line, err := bufio.NewReader(stdout).ReadString('\n')
	if err != nil {
		t.Fatalf("reading the start-up line: %v", err)
	}
	m := adminAddr.FindStringSubmatch(line)
	if m == nil {
		t.Fatalf("no admin address in %q", line)
	}
	return policyServer{path: path, backend: mirror.Addr, admin: m[1], lines: lines}
}

func writePolicyConfig(t *testing.T, path, backend, runtime string) {
	t.Helper()
	cfg := `listen: {http: "127.0.0.1:0", admin: "127.0.0.1:0"}
descriptors: [` + strconv.Quote(servertest.HostileDir()) + `]
integrations:
  - name: mirror
    grpc: {target: "` + backend + `"}
apis:
  - services: [hostile.v1.Hostile]
    integration: mirror
` + runtime
	if err := os.WriteFile(path, []byte(cfg), 0o644); err != nil {
		t.Fatal(err)
	}
}

// nextPolicy waits for the next memory policy line.
func nextPolicy(t *testing.T, lines <-chan []string) (percent, limit, measured, fromEnv string) {
	t.Helper()
	select {
	case m, ok := <-lines:
		if !ok {
			t.Fatal("the gateway exited before logging its memory policy")
		}
		return m[0], m[1], m[2], m[3]
	case <-time.After(60 * time.Second):
		t.Fatal("no memory policy logged in 60s")
	}
	return
}

// TestMemoryPolicy: the gateway runs with the runtime section's GC
// percent and a memory limit of what it measured plus the headroom
// (defaults 400 and 128MiB), Go's GOGC and GOMEMLIMIT win over them, and
// a reload applies a changed section.
func TestMemoryPolicy(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the binary")
	}
	bin := buildPortico(t)
	t.Run("defaults", func(t *testing.T) {
		lines := servePolicy(t, bin, "").lines
		percent, limit, measured, fromEnv := nextPolicy(t, lines)
		if percent != "400" || limit == "none" || fromEnv != `""` {
			t.Errorf("got gc_percent=%s memory_limit=%s from_env=%s, want 400, a limit, none", percent, limit, fromEnv)
		}
		t.Logf("limit %s for %s measured", limit, measured)
	})
	t.Run("config", func(t *testing.T) {
		srv := servePolicy(t, bin, "runtime: {gc_percent: 200, memory_headroom: 1GiB}\n")
		percent, limit, _, _ := nextPolicy(t, srv.lines)
		lim, err := units.RAMInBytes(limit)
		if err != nil {
			t.Fatal(err)
		}
		if percent != "200" || lim < 1<<30 {
			t.Errorf("got gc_percent=%s memory_limit=%s, want 200 and above 1GiB", percent, limit)
		}
		// A reload applies the changed section: once its snapshot is
		// built, and again once the replaced one is closed.
		writePolicyConfig(t, srv.path, srv.backend, "runtime: {gc_percent: 300}\n")
		resp, err := http.Post("http://"+srv.admin+"/reload", "application/json", nil)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusOK {
			t.Fatalf("POST /reload: got %d, want 200", resp.StatusCode)
		}
		for want := 2; want > 0; {
			// The file watch may reload too: lines of the old section
			// before the new one are skipped.
			percent, limit, _, _ := nextPolicy(t, srv.lines)
			if percent == "200" && want == 2 {
				continue
			}
			want--
			lim, err := units.RAMInBytes(limit)
			if err != nil {
				t.Fatal(err)
			}
			if percent != "300" || lim >= 1<<30 {
				t.Errorf("after the reload: got gc_percent=%s memory_limit=%s, want 300 and below 1GiB (headroom back to its default)", percent, limit)
			}
		}
	})
	t.Run("GOGC", func(t *testing.T) {
		lines := servePolicy(t, bin, "", "GOGC=150").lines
		percent, limit, _, fromEnv := nextPolicy(t, lines)
		if percent != "150" || limit == "none" || fromEnv != "GOGC" {
			t.Errorf("got gc_percent=%s memory_limit=%s from_env=%s, want 150, a limit, GOGC", percent, limit, fromEnv)
		}
	})
	t.Run("GOMEMLIMIT", func(t *testing.T) {
		lines := servePolicy(t, bin, "runtime: {memory_headroom: 1GiB}\n", "GOMEMLIMIT=300MiB").lines
		percent, limit, _, fromEnv := nextPolicy(t, lines)
		if percent != "400" || limit != "300MiB" || fromEnv != "GOMEMLIMIT" {
			t.Errorf("got gc_percent=%s memory_limit=%s from_env=%s, want 400, 300MiB, GOMEMLIMIT", percent, limit, fromEnv)
		}
	})
	t.Run("GOGC=off", func(t *testing.T) {
		lines := servePolicy(t, bin, "", "GOGC=off").lines
		percent, limit, _, _ := nextPolicy(t, lines)
		if percent != "-1" || limit != "none" {
			t.Errorf("got gc_percent=%s memory_limit=%s, want -1 (off) and none", percent, limit)
		}
	})
}
