package main_test

import (
	"bufio"
	"context"
	"crypto/tls"
	"fmt"
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

	"github.com/portico-gw/portico/auth/apikey"
	"github.com/portico-gw/portico/auth/authtest"
	"github.com/portico-gw/portico/examples/bookstore"
	bookstorev1 "github.com/portico-gw/portico/gen/example/bookstore/v1"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/credentials"
	"google.golang.org/grpc/metadata"
	"google.golang.org/grpc/status"
)

var authAddrLine = regexp.MustCompile(`REST on https?://(\S+), gRPC on (\S+)`)

// TestAuthEndToEnd builds the binary and serves a YAML config with the
// issue's auth contract — TLS on both doors, a JWT issuer with its JWKS
// over HTTP, API keys, a CEL rule on claims, a public method and a rule
// on request fields — then calls both doors.
func TestAuthEndToEnd(t *testing.T) {
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

	iss := authtest.NewIssuer(t)
	ca := authtest.NewCA(t, "e2e CA")
	leaf := ca.ServerLeaf(t)
	dir := filepath.Dir(writeConfig(t, lis.Addr().String(), "bookstore"))
	authtest.WriteFile(t, dir, "server.pem", leaf.CertPEM)
	authtest.WriteFile(t, dir, "server-key.pem", leaf.KeyPEM)
	authtest.WriteFile(t, dir, "clients-ca.pem", ca.PEM)
	authtest.WriteFile(t, dir, "keys.yaml", []byte("- {id: partner-1, sha256: "+apikey.Hash("partner-secret")+"}\n"))
	cfg := `listen:
  http: 127.0.0.1:0
  grpc: 127.0.0.1:0
descriptors: [apis/bookstore.binpb]
http_rules: [apis/bookstore_http.yaml]
tls:
  cert_file: server.pem
  key_file: server-key.pem
  client_ca_file: clients-ca.pem
  require_client_cert: false
auth:
  providers:
    - name: corp
      jwt:
        issuer: ` + iss.URL + `
        audiences: [portico]
        jwks_uri: ` + iss.JWKSURL() + `
        algorithms: [RS256, ES256]
        clock_skew: 60s
        forward_claims: {sub: x-user-id}
    - name: partners
      api_key:
        header: x-api-key
        keys_file: keys.yaml
    - name: internal
      mtls: {}
integrations:
  - name: bookstore
    grpc:
      target: ` + lis.Addr().String() + `
      timeout: 10s
apis:
  - services: [example.bookstore.v1.BookstoreService]
    integration: bookstore
    auth:
      providers: [corp, partners]
      require: 'principal == "partner-1" || "books.read" in claims.scope.split(" ")'
    methods:
      - selector: example.bookstore.v1.BookstoreService.ListShelves
        auth: {public: true}
      - selector: example.bookstore.v1.BookstoreService.DeleteBook
        auth: {require: 'request.name.startsWith("shelves/" + claims.sub + "/")'}
`
	path := authtest.WriteFile(t, dir, "portico.yaml", []byte(cfg))

	out, err := exec.Command(bin, "validate", "-c", path).CombinedOutput()
	if err != nil {
		t.Fatalf("validate: %v\n%s", err, out)
	}
	restAddr, grpcAddr := startPortico(t, bin, path)

	clientTLS := &tls.Config{RootCAs: ca.Pool(), ServerName: "127.0.0.1"}
	client := &http.Client{Timeout: 10 * time.Second, Transport: &http.Transport{TLSClientConfig: clientTLS}}
	call := func(method, path string, headers map[string]string) (int, http.Header, string) {
		t.Helper()
		req, _ := http.NewRequest(method, "https://"+restAddr+path, nil)
		for k, v := range headers {
			req.Header.Set(k, v)
		}
		resp, err := client.Do(req)
		if err != nil {
			t.Fatalf("%s %s: %v", method, path, err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, resp.Header, string(b)
	}
	reader := iss.Token(t, authtest.Claims{"sub": "1", "scope": "books.read"})
	stranger := iss.Token(t, authtest.Claims{"sub": "2", "scope": "books.read"})

	if code, _, body := call("GET", "/v1/shelves/1/books/2", map[string]string{"Authorization": "Bearer " + reader}); code != 200 || !strings.Contains(body, `"title":"Dune"`) {
		t.Errorf("REST with a token: got %d %s, want 200 Dune", code, body)
	}
	code, h, body := call("GET", "/v1/shelves/1/books/2", nil)
	if code != 401 || h.Get("WWW-Authenticate") == "" || !strings.Contains(body, `"unauthenticated"`) {
		t.Errorf("REST without credentials: got %d %q %s, want 401 with a challenge", code, h.Get("WWW-Authenticate"), body)
	}
	if code, _, body := call("GET", "/v1/shelves/1/books/2", map[string]string{"X-Api-Key": "partner-secret"}); code != 200 {
		t.Errorf("REST with an API key: got %d %s, want 200", code, body)
	}
	if code, _, body := call("GET", "/v1/shelves", nil); code != 200 {
		t.Errorf("REST public ListShelves: got %d %s, want 200", code, body)
	}
	if code, _, body := call("DELETE", "/v1/shelves/1/books/1", map[string]string{"Authorization": "Bearer " + stranger}); code != 403 || !strings.Contains(body, `"permission denied"`) {
		t.Errorf("REST DeleteBook on another's shelf: got %d %s, want 403", code, body)
	}

	conn, err := grpc.NewClient(grpcAddr, grpc.WithTransportCredentials(credentials.NewTLS(clientTLS)))
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	books := bookstorev1.NewBookstoreServiceClient(conn)
	getBook := func(md ...string) error {
		ctx, cancel := context.WithTimeout(metadata.AppendToOutgoingContext(context.Background(), md...), 10*time.Second)
		defer cancel()
		_, err := books.GetBook(ctx, &bookstorev1.GetBookRequest{Name: "shelves/1/books/2"})
		return err
	}
	if err := getBook("authorization", "Bearer "+reader); err != nil {
		t.Errorf("gRPC with a token: %v", err)
	}
	if err := getBook("x-api-key", "partner-secret"); err != nil {
		t.Errorf("gRPC with an API key: %v", err)
	}
	if err := getBook(); status.Code(err) != codes.Unauthenticated {
		t.Errorf("gRPC without credentials: got %v, want Unauthenticated", err)
	}
	if err := getBook("authorization", "Bearer "+iss.Token(t, authtest.Claims{"scope": "none"})); status.Code(err) != codes.PermissionDenied {
		t.Errorf("gRPC without the scope: got %v, want PermissionDenied", err)
	}
}

// startPortico runs `portico -c cfg` and returns its REST and gRPC
// addresses, read from its first line; it is stopped by t.Cleanup.
func startPortico(t *testing.T, bin, cfg string) (rest, grpcAddr string) {
	t.Helper()
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
	select {
	case line := <-lines:
		m := authAddrLine.FindStringSubmatch(line)
		if m == nil {
			t.Fatalf("first line %q does not give the addresses", line)
		}
		go func() {
			for range lines {
			}
		}()
		return m[1], m[2]
	case err := <-exited:
		t.Fatalf("portico exited: %v", err)
	case <-time.After(30 * time.Second):
		t.Fatal("portico printed nothing in 30s")
	}
	panic(fmt.Sprint("unreachable"))
}
