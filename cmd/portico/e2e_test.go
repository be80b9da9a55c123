package main_test

import (
	"bufio"
	"context"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/portico-gw/portico/examples/bookstore"
	bookstorev1 "github.com/portico-gw/portico/gen/example/bookstore/v1"
	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials/insecure"
)

// buildPortico builds cmd/portico into a temp dir.
func buildPortico(t *testing.T) string {
	t.Helper()
	bin := filepath.Join(t.TempDir(), "portico")
	out, err := exec.Command("go", "build", "-o", bin, ".").CombinedOutput()
	if err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	return bin
}

// writeConfig writes the config contract (docs/config.md's example),
// pointing at backend, with :0 listeners, next to copies of the example
// descriptor set and HTTP rules (paths relative to the config file).
func writeConfig(t *testing.T, backend, integration string) string {
	t.Helper()
	dir := t.TempDir()
	if err := os.MkdirAll(filepath.Join(dir, "apis"), 0o755); err != nil {
		t.Fatal(err)
	}
	for _, f := range []string{"bookstore.binpb", "bookstore_http.yaml"} {
		data, err := os.ReadFile(filepath.Join("..", "..", "examples", "gateway", "apis", f))
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dir, "apis", f), data, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	cfg := `listen:
  http: 127.0.0.1:0
  grpc: 127.0.0.1:0
  admin: 127.0.0.1:0
descriptors:
  - apis/bookstore.binpb
http_rules:
  - apis/bookstore_http.yaml
integrations:
  - name: bookstore
    grpc:
      target: ` + backend + `
      timeout: 10s
apis:
  - services: [example.bookstore.v1.BookstoreService]
    integration: ` + integration + `
`
	path := filepath.Join(dir, "portico.yaml")
	if err := os.WriteFile(path, []byte(cfg), 0o644); err != nil {
		t.Fatal(err)
	}
	return path
}

var addrLine = regexp.MustCompile(`REST on http://(\S+), gRPC on (\S+), admin on http://(\S+) `)

// TestEndToEnd builds the binary, starts a backend and `portico -c`, and
// calls both doors and the admin endpoints.
func TestEndToEnd(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the binary")
	}
	bin := buildPortico(t)
	lis, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	gs := bookstore.Serve(lis)
	t.Cleanup(gs.Stop)
	cfg := writeConfig(t, lis.Addr().String(), "bookstore")

	cmd := exec.Command(bin, "-c", cfg)
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	cmd.Stderr = os.Stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	exited := make(chan error, 1)
	go func() { exited <- cmd.Wait() }()
	t.Cleanup(func() {
		_ = cmd.Process.Signal(syscall.SIGTERM)
		select {
		case <-exited:
		case <-time.After(10 * time.Second):
			_ = cmd.Process.Kill()
		}
	})
	lines := make(chan string, 16)
	go func() {
		sc := bufio.NewScanner(stdout)
		for sc.Scan() {
			lines <- sc.Text()
		}
		close(lines)
	}()
	var restAddr, grpcAddr, adminAddr string
	select {
	case line := <-lines:
		m := addrLine.FindStringSubmatch(line)
		if m == nil {
			t.Fatalf("first line %q does not give the addresses", line)
		}
		restAddr, grpcAddr, adminAddr = m[1], m[2], m[3]
	case err := <-exited:
		t.Fatalf("portico exited: %v", err)
	case <-time.After(30 * time.Second):
		t.Fatal("portico printed nothing in 30s")
	}
	go func() {
		for range lines { // keep draining stdout
		}
	}()

	client := &http.Client{Timeout: 10 * time.Second}
	get := func(url string) (int, string) {
		resp, err := client.Get(url)
		if err != nil {
			t.Fatalf("GET %s: %v", url, err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, string(b)
	}
	if code, body := get("http://" + restAddr + "/v1/shelves/1/books/2"); code != 200 || !strings.Contains(body, `"title":"Dune"`) {
		t.Errorf("REST GetBook: got %d %s", code, body)
	}
	if code, body := get("http://" + restAddr + "/v1/shelves/1/stats"); code != 200 || !strings.Contains(body, `"bookCount":2`) {
		t.Errorf("REST rule from http_rules: got %d %s", code, body)
	}
	if code, _ := get("http://" + adminAddr + "/readyz"); code != 200 {
		t.Errorf("/readyz: got %d", code)
	}
	conn, err := grpc.NewClient(grpcAddr, grpc.WithTransportCredentials(insecure.NewCredentials()))
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	shelf, err := bookstorev1.NewBookstoreServiceClient(conn).GetShelf(ctx, &bookstorev1.GetShelfRequest{Shelf: 2})
	if err != nil || shelf.GetTheme() != "Science" {
		t.Errorf("gRPC door GetShelf: got %v, %v", shelf, err)
	}

	// SIGTERM drains (nothing is in flight) and exits with status 0.
	if err := cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	select {
	case err := <-exited:
		if err != nil {
			t.Errorf("after SIGTERM: %v, want exit status 0", err)
		}
		exited <- err // for the cleanup
	case <-time.After(30 * time.Second):
		t.Error("still running 30s after SIGTERM")
	}
}

func TestCommands(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the binary")
	}
	bin := buildPortico(t)
	good := writeConfig(t, "127.0.0.1:50051", "bookstore")
	bad := writeConfig(t, "127.0.0.1:50051", "bookstor")

	out, err := exec.Command(bin, "validate", "-c", good).CombinedOutput()
	if err != nil || !strings.Contains(string(out), "ok") {
		t.Errorf("validate good config: %v\n%s", err, out)
	}
	out, err = exec.Command(bin, "validate", "-c", bad).CombinedOutput()
	var exit *exec.ExitError
	if err == nil || !errAs(err, &exit) || exit.ExitCode() != 2 {
		t.Errorf("validate bad config: want exit status 2, got %v", err)
	}
	want := `portico.yaml:16:18: apis[0].integration: unknown integration "bookstor" (known: bookstore)`
	if !strings.Contains(string(out), want) {
		t.Errorf("validate bad config: output %q does not contain %q", out, want)
	}
	out, err = exec.Command(bin, "routes", "-c", good).CombinedOutput()
	if err != nil {
		t.Fatalf("routes: %v\n%s", err, out)
	}
	for _, want := range []string{
		"GET     /v1/{name=shelves/*/books/*}",
		"/example.bookstore.v1.BookstoreService/GetBook",
		"GET     /v1/shelves/{shelf}/stats",
		"PATCH   /v1/{book.name=shelves/*/books/*}",
		"(gRPC only)",
		"/example.bookstore.v1.BookstoreService/Reindex",
	} {
		if !strings.Contains(string(out), want) {
			t.Errorf("routes output lacks %q:\n%s", want, out)
		}
	}
	// Flags before the command are a usage error, not a gateway that
	// serves (and hangs a CI job).
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	out, err = exec.CommandContext(ctx, bin, "-c", good, "validate").CombinedOutput()
	if !errAs(err, &exit) || exit.ExitCode() != 2 || !strings.Contains(string(out), "the command comes before its flags") {
		t.Errorf("portico -c FILE validate: want a usage error (exit 2), got %v\n%s", err, out)
	}
	out, err = exec.Command(bin, "version").CombinedOutput()
	if err != nil || !strings.HasPrefix(string(out), "portico ") {
		t.Errorf("version: %v %q", err, out)
	}
}

func errAs(err error, target **exec.ExitError) bool {
	e, ok := err.(*exec.ExitError)
	if ok {
		*target = e
	}
	return ok
}
