package server_test

import (
	"bytes"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/portico-gw/portico/server/servertest"
)

// buildGRPCurl builds grpcurl, a gRPC client we did not write (with its
// own grpc-go and protobuf versions, pinned in tools/clients/go.mod), into
// a temporary directory.
func buildGRPCurl(t *testing.T) string {
	t.Helper()
	bin := filepath.Join(t.TempDir(), "grpcurl")
	cmd := exec.Command("go", "build", "-o", bin, "github.com/fullstorydev/grpcurl/cmd/grpcurl")
	cmd.Dir = filepath.Join("..", "tools", "clients")
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("building grpcurl: %v\n%s", err, out)
	}
	return bin
}

// TestForeignGRPCurl runs grpcurl against the gRPC door: it finds the
// exposed services through server reflection (and nothing else), reads a
// method's schema, calls unary and server-streaming methods with JSON it
// encodes itself from the reflected descriptors, and gets the
// validation failure as InvalidArgument.
func TestForeignGRPCurl(t *testing.T) {
	grpcurl := buildGRPCurl(t)
	env := servertest.Start(t, servertest.Options{})
	addr := env.Server.GRPCAddr
	run := func(args ...string) (string, error) {
		t.Helper()
		var out bytes.Buffer
		cmd := exec.Command(grpcurl, append([]string{"-plaintext", "-max-time", "10"}, args...)...)
		cmd.Stdout, cmd.Stderr = &out, &out
		err := cmd.Run()
		return out.String(), err
	}

	out, err := run(addr, "list")
	if err != nil {
		t.Fatalf("grpcurl list: %v\n%s", err, out)
	}
	services := strings.Fields(out)
	for _, want := range []string{"example.bookstore.v1.BookstoreService", "grpc.health.v1.Health", "grpc.reflection.v1.ServerReflection"} {
		if !strings.Contains(" "+strings.Join(services, " ")+" ", " "+want+" ") {
			t.Errorf("grpcurl list: %q missing from %q", want, services)
		}
	}
	for _, s := range services {
		if strings.HasPrefix(s, "portico.") {
			t.Errorf("grpcurl list: %q is Portico's own, not an exposed API", s)
		}
	}

	out, err = run(addr, "describe", "example.bookstore.v1.GetShelfRequest")
	if err != nil || !strings.Contains(out, "int64 shelf = 1") {
		t.Errorf("grpcurl describe: %v\n%s", err, out)
	}

	out, err = run("-d", `{"shelf": 1}`, addr, "example.bookstore.v1.BookstoreService/GetShelf")
	if err != nil || !strings.Contains(out, `"theme"`) || !strings.Contains(out, `"id": "1"`) {
		t.Errorf("grpcurl GetShelf: %v\n%s", err, out)
	}

	out, err = run("-d", `{"parent": "shelves/1"}`, addr, "example.bookstore.v1.BookstoreService/ListBooks")
	if err != nil || !strings.Contains(out, `"books"`) {
		t.Errorf("grpcurl ListBooks: %v\n%s", err, out)
	}

	out, err = run("-d", `{"parent": "shelves/1"}`, addr, "example.bookstore.v1.BookstoreService/WatchBooks")
	if n := strings.Count(out, `"title"`); err != nil || n < 2 {
		t.Errorf("grpcurl WatchBooks: %v, %d books, want the shelf's books one message each\n%s", err, n, out)
	}

	before := env.Backend.Calls()
	out, err = run("-d", `{"shelf": 0}`, addr, "example.bookstore.v1.BookstoreService/GetShelf")
	if err == nil || !strings.Contains(out, "Code: InvalidArgument") || !strings.Contains(out, "shelf") {
		t.Errorf("grpcurl GetShelf with shelf 0: got err %v, want InvalidArgument naming the field\n%s", err, out)
	}
	if got := env.Backend.Calls(); got != before {
		t.Errorf("the backend got %d calls for an invalid request, want 0", got-before)
	}
}
