package server_test

// The findings of the hardening issue about health and shutdown (one
// test per finding, named for it).

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/portico-gw/portico/examples/bookstore"
	bookstorev1 "github.com/portico-gw/portico/gen/example/bookstore/v1"
	"github.com/portico-gw/portico/server/servertest"
	"google.golang.org/grpc/codes"
	healthpb "google.golang.org/grpc/health/grpc_health_v1"
	"google.golang.org/grpc/status"
)

// TestRegressHealthFollowsBackend (finding 8): /readyz and grpc.health.v1
// said ready and SERVING while the backend was down. A service's health
// now follows its integration's connection (NOT_SERVING while it cannot
// connect); /readyz is ready once the snapshot serves (a gateway with one
// dead backend still serves the others) and shows each integration's
// state.
func TestRegressHealthFollowsBackend(t *testing.T) {
	// The backend is down: nothing listens on its unix socket yet (and no
	// other process can take the address meanwhile).
	sock := filepath.Join(t.TempDir(), "backend.sock")
	env := servertest.StartGateway(t, "unix://"+sock, servertest.Options{})
	const svc = "example.bookstore.v1.BookstoreService"
	waitHealth(t, env.Conn, svc, healthpb.HealthCheckResponse_NOT_SERVING)
	waitHealth(t, env.Conn, "", healthpb.HealthCheckResponse_SERVING)
	resp, body := get(t, "http://"+env.Server.AdminAddr+"/readyz")
	if resp.StatusCode != http.StatusOK || !strings.Contains(string(body), `"bookstore":{"ready":false`) {
		t.Errorf("readyz with the backend down: got %d %s, want 200 naming the integration not ready", resp.StatusCode, body)
	}

	lis, err := net.Listen("unix", sock)
	if err != nil {
		t.Fatal(err)
	}
	gs := bookstore.NewServer().Serve(lis)
	t.Cleanup(gs.Stop)
	waitHealth(t, env.Conn, svc, healthpb.HealthCheckResponse_SERVING)
	resp, body = get(t, "http://"+env.Server.AdminAddr+"/readyz")
	if !strings.Contains(string(body), `"bookstore":{"ready":true,"state":"READY"}`) {
		t.Errorf("readyz with the backend up: got %d %s", resp.StatusCode, body)
	}
	gs.Stop() // down again
	waitHealth(t, env.Conn, svc, healthpb.HealthCheckResponse_NOT_SERVING)
}

// TestRegressShutdownDrains (finding 7): on SIGTERM with a gRPC stream
// open, the REST door kept accepting for the whole grace period, /readyz
// still said ready, then HTTP shutdown got an already-expired context: an
// NDJSON response was cut without its last chunk and the stream got
// UNAVAILABLE from a dropped connection. Now readiness and health turn
// first, both doors stop accepting and drain together, and calls still
// running at the end of the grace period end with a proper status.
func TestRegressShutdownDrains(t *testing.T) {
	env := servertest.Start(t, servertest.Options{})
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	watch, err := healthpb.NewHealthClient(env.Conn).Watch(ctx, &healthpb.HealthCheckRequest{})
	if err != nil {
		t.Fatal(err)
	}
	if r, err := watch.Recv(); err != nil || r.GetStatus() != healthpb.HealthCheckResponse_SERVING {
		t.Fatalf("health before: %v %v", r, err)
	}

	// A gRPC bidi stream, open: one lookup answered, the client still
	// sending.
	grpcStream, err := bookstorev1.NewBookstoreServiceClient(env.Conn).LookupBooks(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if err := grpcStream.Send(&bookstorev1.GetBookRequest{Name: "shelves/1/books/1"}); err != nil {
		t.Fatal(err)
	}
	if _, err := grpcStream.Recv(); err != nil {
		t.Fatal(err)
	}
	// The same over REST: an NDJSON bidi stream with its body still open.
	pr, pw := io.Pipe()
	defer pw.Close()
	req, _ := http.NewRequestWithContext(ctx, "POST", env.URL+"/v1/books:lookup", pr)
	go fmt.Fprintln(pw, `{"name":"shelves/1/books/1"}`)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	lines := bufio.NewScanner(resp.Body)
	if !lines.Scan() || !strings.Contains(lines.Text(), `"result"`) {
		t.Fatalf("first REST stream line: %q %v", lines.Text(), lines.Err())
	}

	const grace = 2 * time.Second
	start := time.Now()
	done := make(chan error, 1)
	go func() {
		sctx, scancel := context.WithTimeout(context.Background(), grace)
		defer scancel()
		done <- env.Server.Shutdown(sctx)
	}()

	// Readiness and health turn first.
	if r, err := watch.Recv(); err != nil || r.GetStatus() != healthpb.HealthCheckResponse_NOT_SERVING {
		t.Errorf("health once draining: got %v %v, want NOT_SERVING", r, err)
	}
	ready, body := get(t, "http://"+env.Server.AdminAddr+"/readyz")
	if ready.StatusCode != http.StatusServiceUnavailable || !strings.Contains(string(body), "draining") {
		t.Errorf("readyz once draining: got %d %s, want 503 draining", ready.StatusCode, body)
	}
	// The REST door stops accepting at once.
	waitFor(t, func() bool {
		c, err := net.DialTimeout("tcp", strings.TrimPrefix(env.URL, "http://"), time.Second)
		if err == nil {
			c.Close()
		}
		return err != nil
	})

	// At the end of the grace period both streams end with UNAVAILABLE.
	_, err = grpcStream.Recv()
	if st := status.Convert(err); st.Code() != codes.Unavailable || st.Message() != "server shutting down" {
		t.Errorf("gRPC stream: got %v, want UNAVAILABLE server shutting down", err)
	}
	var last string
	for lines.Scan() {
		last = lines.Text()
	}
	if !strings.Contains(last, `"error"`) || !strings.Contains(last, `"code":14`) {
		t.Errorf("REST stream's last line: got %q, want an error object with code 14", last)
	}
	if err := <-done; err != nil {
		t.Errorf("Shutdown: %v", err)
	}
	if d := time.Since(start); d > grace+time.Second {
		t.Errorf("Shutdown took %v, want within the %v grace period", d, grace)
	}
}
