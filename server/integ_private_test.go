package server_test

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/portico-gw/portico/config"
	"github.com/portico-gw/portico/examples/bookstore"
	bookstorev1 "github.com/portico-gw/portico/gen/example/bookstore/v1"
	"github.com/portico-gw/portico/server"
	"github.com/portico-gw/portico/server/servertest"
	"github.com/portico-gw/portico/snapshot"
	"golang.org/x/sys/unix"
	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials/insecure"
)

// startWithDial starts a gateway in front of target whose integrations
// dial with dial (nil: the default).
func startWithDial(t *testing.T, target string, dial func(context.Context, string) (net.Conn, error)) *servertest.Env {
	t.Helper()
	cfg := servertest.BookstoreConfig(target)
	var opts snapshot.Options
	if dial != nil {
		opts.DialOptions = []grpc.DialOption{grpc.WithContextDialer(dial)}
	}
	snap, err := snapshot.Build(&config.File{Config: cfg, Dir: "."}, opts)
	if err != nil {
		t.Fatalf("snapshot.Build: %v", err)
	}
	l := cfg.GetListen()
	srv, err := server.New(snap, server.Listen{HTTP: l.GetHttp(), GRPC: l.GetGrpc()}, nil)
	if err != nil {
		t.Fatalf("server.New: %v", err)
	}
	done := make(chan error, 1)
	go func() { done <- srv.Serve() }()
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		_ = srv.Shutdown(ctx)
		<-done
	})
	conn, err := grpc.NewClient(srv.GRPCAddr, grpc.WithTransportCredentials(insecure.NewCredentials()))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close() })
	return &servertest.Env{Server: srv, URL: "http://" + srv.HTTPAddr, Conn: conn, BackendAddr: target}
}

// servedThroughPortico checks that both doors reach the backend.
func servedThroughPortico(t *testing.T, env *servertest.Env, store *bookstore.Server) {
	t.Helper()
	before := store.Calls()
	if code, body := restGet(t, env.URL+"/v1/shelves/2"); code != http.StatusOK || !strings.Contains(string(body), "Science") {
		t.Errorf("REST through Portico: got %d %s", code, body)
	}
	shelf, err := bookstorev1.NewBookstoreServiceClient(env.Conn).GetShelf(ctxT(t), &bookstorev1.GetShelfRequest{Shelf: 1})
	if err != nil || shelf.GetTheme() != "Fiction" {
		t.Errorf("gRPC through Portico: got %v, %v", shelf, err)
	}
	if got := store.Calls() - before; got != 2 {
		t.Errorf("backend got %d calls, want 2", got)
	}
}

// TestPrivateLinkUnixSocket: the backend listens on a unix socket only,
// in a folder only its owner may enter: no network address reaches it,
// Portico does.
func TestPrivateLinkUnixSocket(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "private")
	if err := os.Mkdir(dir, 0o700); err != nil {
		t.Fatal(err)
	}
	sock := filepath.Join(dir, "bookstore.sock")
	lis, err := net.Listen("unix", sock)
	if err != nil {
		t.Fatal(err)
	}
	store := bookstore.NewServer()
	gs := store.Serve(lis)
	t.Cleanup(gs.Stop)
	if fi, err := os.Stat(dir); err != nil || fi.Mode().Perm() != 0o700 {
		t.Fatalf("socket folder: got %v, %v; want mode 0700", fi.Mode(), err)
	}
	env := startWithDial(t, "unix://"+sock, nil)
	servedThroughPortico(t, env, store)
}

// TestPrivateLinkNetworkNamespace: the backend listens inside a network
// namespace of its own, linked by a veth pair to a second namespace that
// only Portico's backend connections use. From the namespace the test
// (and Portico's doors) run in, the backend's address has no route and
// its port is nothing on loopback: unreachable but through Portico.
func TestPrivateLinkNetworkNamespace(t *testing.T) {
	if os.Geteuid() != 0 {
		skipOutsideCI(t, "network namespaces need root")
	}
	ipCmd, err := exec.LookPath("ip")
	if err != nil {
		skipOutsideCI(t, "no ip command (Debian package iproute2, which .ci/run installs)")
	}
	link := newVethLink(t, ipCmd)

	var lis net.Listener
	if err := inNetns(link.backendNS, func() (err error) {
		lis, err = net.Listen("tcp", link.backendIP+":0")
		return err
	}); err != nil {
		t.Fatal(err)
	}
	store := bookstore.NewServer()
	gs := store.Serve(lis)
	t.Cleanup(gs.Stop)
	addr := lis.Addr().String()
	_, port, _ := net.SplitHostPort(addr)

	var dials atomic.Int64
	env := startWithDial(t, "passthrough:///"+addr, func(ctx context.Context, a string) (net.Conn, error) {
		dials.Add(1)
		var c net.Conn
		err := inNetns(link.gatewayNS, func() (err error) {
			c, err = (&net.Dialer{}).DialContext(ctx, "tcp", a)
			return err
		})
		return c, err
	})
	servedThroughPortico(t, env, store)
	if dials.Load() == 0 {
		t.Error("Portico did not dial through the link")
	}

	// Any other way fails.
	for _, a := range []string{addr, net.JoinHostPort("127.0.0.1", port)} {
		c, err := net.DialTimeout("tcp", a, 2*time.Second)
		if err == nil {
			c.Close()
			t.Errorf("dialing %s from outside the link: connected, want it unreachable", a)
			continue
		}
		t.Logf("dialing %s from outside the link: %v", a, err)
	}
}

// vethLink is two network namespaces joined by a veth pair: the backend's
// and the gateway side's.
type vethLink struct {
	backendNS, gatewayNS string
	backendIP, gatewayIP string
}

var linkSeq atomic.Int64

// newVethLink makes the namespaces and the pair; t.Cleanup removes them.
func newVethLink(t *testing.T, ipCmd string) *vethLink {
	t.Helper()
	n := os.Getpid()%10000*10 + int(linkSeq.Add(1)%10)
	l := &vethLink{
		backendNS: fmt.Sprintf("ptc-be-%d", n), gatewayNS: fmt.Sprintf("ptc-gw-%d", n),
		// A /30 of 10.201.0.0/16 per test run, inside the namespaces only.
		backendIP: fmt.Sprintf("10.201.%d.%d", n/64%256, n%64*4+2), gatewayIP: fmt.Sprintf("10.201.%d.%d", n/64%256, n%64*4+1),
	}
	vb, vg := fmt.Sprintf("ptcb%d", n), fmt.Sprintf("ptcg%d", n)
	run := func(args ...string) error {
		out, err := exec.Command(ipCmd, args...).CombinedOutput()
		if err != nil {
			return fmt.Errorf("ip %s: %v: %s", strings.Join(args, " "), err, out)
		}
		return nil
	}
	if err := run("netns", "add", l.backendNS); err != nil {
		if strings.Contains(err.Error(), "Operation not permitted") {
			skipOutsideCI(t, fmt.Sprintf("root without the right to make network namespaces here: %v", err))
		}
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = run("netns", "del", l.backendNS) })
	if err := run("netns", "add", l.gatewayNS); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = run("netns", "del", l.gatewayNS) })
	for _, args := range [][]string{
		{"link", "add", vg, "type", "veth", "peer", "name", vb},
		{"link", "set", vg, "netns", l.gatewayNS},
		{"link", "set", vb, "netns", l.backendNS},
		{"-n", l.gatewayNS, "addr", "add", l.gatewayIP + "/30", "dev", vg},
		{"-n", l.backendNS, "addr", "add", l.backendIP + "/30", "dev", vb},
		{"-n", l.gatewayNS, "link", "set", vg, "up"},
		{"-n", l.backendNS, "link", "set", vb, "up"},
		{"-n", l.backendNS, "link", "set", "lo", "up"},
	} {
		if err := run(args...); err != nil {
			t.Fatal(err)
		}
	}
	return l
}

// inNetns runs f on a thread switched into the named network namespace:
// sockets f makes belong to it. The thread is switched back after; if it
// cannot be, it is left locked and so ends with its goroutine.
func inNetns(name string, f func() error) error {
	runtime.LockOSThread()
	orig, err := os.Open("/proc/thread-self/ns/net")
	if err != nil {
		runtime.UnlockOSThread()
		return err
	}
	defer orig.Close()
	target, err := os.Open(filepath.Join("/var/run/netns", name))
	if err != nil {
		runtime.UnlockOSThread()
		return err
	}
	defer target.Close()
	if err := unix.Setns(int(target.Fd()), unix.CLONE_NEWNET); err != nil {
		runtime.UnlockOSThread()
		return fmt.Errorf("setns %s: %w", name, err)
	}
	ferr := f()
	if err := unix.Setns(int(orig.Fd()), unix.CLONE_NEWNET); err != nil {
		return errors.Join(ferr, fmt.Errorf("back from %s: %w", name, err)) // the thread stays locked, and dies
	}
	runtime.UnlockOSThread()
	return ferr
}

// skipOutsideCI skips a test that needs what this machine lacks; under CI
// (CI set, as .ci/run sets it) the test must run, so it fails instead.
func skipOutsideCI(t *testing.T, why string) {
	t.Helper()
	if os.Getenv("CI") != "" {
		t.Fatal("CI is set and this test cannot run: " + why)
	}
	t.Skip(why)
}
