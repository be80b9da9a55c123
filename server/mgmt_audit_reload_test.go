package server_test

import (
	"bufio"
	"context"
	"encoding/json"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/portico-gw/portico/admin"
	"github.com/portico-gw/portico/config"
	bookstorev1 "github.com/portico-gw/portico/gen/example/bookstore/v1"
	"github.com/portico-gw/portico/pool"
	"github.com/portico-gw/portico/server"
	"github.com/portico-gw/portico/snapshot"
	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/grpc/metadata"
)

// serveConfigFile serves the config file at path, rebuilding from the
// file on reload as `portico serve` does. The caller shuts it down and
// waits for done.
func serveConfigFile(t *testing.T, path string) (*server.Server, <-chan error) {
	t.Helper()
	f, err := config.Load(path)
	if err != nil {
		t.Fatal(err)
	}
	states := pool.New()
	log := slog.New(slog.DiscardHandler)
	build := func(f *config.File) (*snapshot.Snapshot, error) {
		return snapshot.Build(f, snapshot.Options{Logger: log, Pool: states})
	}
	snap, err := build(f)
	if err != nil {
		t.Fatal(err)
	}
	l := f.Config.GetListen()
	srv, err := server.New(snap, server.Listen{HTTP: l.GetHttp(), GRPC: l.GetGrpc(), Admin: l.GetAdmin()}, log)
	if err != nil {
		t.Fatal(err)
	}
	srv.SetRebuild(func(context.Context, *snapshot.Snapshot) (*snapshot.Snapshot, error) {
		next, err := config.Load(path)
		if err != nil {
			return nil, err
		}
		return build(next)
	})
	done := make(chan error, 1)
	go func() { done <- srv.Serve() }()
	return srv, done
}

func readAudit(t *testing.T, path string) []admin.AuditEntry {
	t.Helper()
	raw, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var out []admin.AuditEntry
	sc := bufio.NewScanner(strings.NewReader(string(raw)))
	for sc.Scan() {
		var e admin.AuditEntry
		if err := json.Unmarshal(sc.Bytes(), &e); err != nil {
			t.Fatalf("line %q: %v", sc.Text(), err)
		}
		if e.Time.IsZero() {
			t.Errorf("line %q: no time", sc.Text())
		}
		out = append(out, e)
	}
	return out
}

// TestAuditReloadsAndDrains: with admin.audit_log, a reload is written
// with what started it, its outcome and the config hashes before and
// after — an applied one, and a refused one with its config error (the
// running config's hash on both sides) — and a drain with its start and
// end and the calls in flight.
func TestAuditReloadsAndDrains(t *testing.T) {
	target, _ := startCountedBookstore(t)
	dir := t.TempDir()
	path, logPath := filepath.Join(dir, "portico.yaml"), filepath.Join(dir, "audit.jsonl")
	write := func(integration, extra string) {
		t.Helper()
		yaml := `listen: {http: "127.0.0.1:0", grpc: "127.0.0.1:0", admin: "127.0.0.1:0"}
admin: {audit_log: audit.jsonl}
integrations:
  - name: bookstore
    grpc: {target: "` + target + `"}
apis:
  - services: [example.bookstore.v1.BookstoreService]
    integration: ` + integration + `
` + extra
		if err := os.WriteFile(path, []byte(yaml), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	write("bookstore", "")
	srv, done := serveConfigFile(t, path)
	first := srv.Snapshot().Hash()

	write("bookstore", "    default_bindings: true\n")
	if err := srv.Reload(server.WithTrigger(context.Background(), "SIGHUP")); err != nil {
		t.Fatalf("reload: %v", err)
	}
	second := srv.Snapshot().Hash()
	write("bookstor", "")
	if err := srv.Reload(server.WithTrigger(context.Background(), "file watcher")); err == nil {
		t.Fatal("reload of a config naming an unknown integration: got no error")
	}
	// A call in flight when the drain starts, finishing within it.
	conn, err := grpc.NewClient(srv.GRPCAddr, grpc.WithTransportCredentials(insecure.NewCredentials()))
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	slow := make(chan error, 1)
	go func() {
		ctx := metadata.AppendToOutgoingContext(context.Background(), "x-delay", "300ms")
		_, err := bookstorev1.NewBookstoreServiceClient(conn).ListShelves(ctx, &bookstorev1.ListShelvesRequest{})
		slow <- err
	}()
	waitFor(t, func() bool { _, g := srv.InFlight(); return g == 1 })
	ctx, cancel := context.WithTimeout(server.WithTrigger(context.Background(), "SIGTERM"), 5*time.Second)
	defer cancel()
	if err := srv.Shutdown(ctx); err != nil {
		t.Fatalf("Shutdown: %v", err)
	}
	<-done
	if err := <-slow; err != nil {
		t.Errorf("the call in flight during the drain: %v", err)
	}

	got := readAudit(t, logPath)
	want := []admin.AuditEntry{
		{By: "SIGHUP", Action: "reload", Target: "gateway", Outcome: "applied", ConfigBefore: first, ConfigAfter: second},
		{By: "file watcher", Action: "reload", Target: "gateway", Outcome: "refused", ConfigBefore: second, ConfigAfter: second},
		{By: "SIGTERM", Action: "drain", Target: "gateway", Outcome: "started"},
		{By: "SIGTERM", Action: "drain", Target: "gateway", Outcome: "ended"},
	}
	if len(got) != len(want) {
		t.Fatalf("audit log: got %d lines %+v, want %d", len(got), got, len(want))
	}
	if first == second {
		t.Fatalf("the applied reload did not change the config hash (%s)", first)
	}
	for i, w := range want {
		g := got[i]
		if g.By != w.By || g.Action != w.Action || g.Target != w.Target || g.Outcome != w.Outcome ||
			g.ConfigBefore != w.ConfigBefore || g.ConfigAfter != w.ConfigAfter || g.Token != "" {
			t.Errorf("line %d: got %+v, want %+v", i+1, g, w)
		}
	}
	if msg := got[1].Message; !strings.Contains(msg, `apis[0].integration`) || !strings.Contains(msg, "bookstor") {
		t.Errorf("refused reload: message %q, want the config error", msg)
	}
	for i, want := range map[int]admin.InFlight{2: {GRPC: 1}, 3: {}} {
		if got[i].InFlight == nil || *got[i].InFlight != want {
			t.Errorf("drain line %d: in_flight %+v, want %+v", i+1, got[i].InFlight, want)
		}
	}
}
