package server_test

import (
	"context"
	"log/slog"
	"testing"
	"time"

	"github.com/portico-gw/portico/config"
	"github.com/portico-gw/portico/server"
	"github.com/portico-gw/portico/snapshot"
)

// TestRetiredAfterReload: Options.Retired (the seam the command's memory
// policy measures the process at) is called once per reload, after the
// replaced snapshot is closed, with the snapshot now serving.
func TestRetiredAfterReload(t *testing.T) {
	build := func(percent string) *snapshot.Snapshot {
		f, err := config.Parse([]byte(`listen: {http: "127.0.0.1:0"}
runtime: {gc_percent: `+percent+`}
`), t.TempDir())
		if err != nil {
			t.Fatal(err)
		}
		s, err := snapshot.Build(f, snapshot.Options{Logger: slog.New(slog.DiscardHandler)})
		if err != nil {
			t.Fatal(err)
		}
		return s
	}
	first := build("200")
	retired := make(chan *snapshot.Snapshot, 4)
	srv, err := server.New(first, server.Listen{HTTP: "127.0.0.1:0"}, slog.New(slog.DiscardHandler),
		server.Options{Retired: func(serving *snapshot.Snapshot) { retired <- serving }})
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- srv.Serve() }()
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		_ = srv.Shutdown(ctx)
		<-done
	})
	var next *snapshot.Snapshot
	srv.SetRebuild(func(context.Context, *snapshot.Snapshot) (*snapshot.Snapshot, error) {
		next = build("300")
		return next, nil
	})
	if err := srv.Reload(context.Background()); err != nil {
		t.Fatal(err)
	}
	select {
	case got := <-retired:
		if got != next {
			t.Errorf("Retired got a snapshot with gc_percent %d, want the one serving (%d)", got.Runtime().GCPercent(), next.Runtime().GCPercent())
		}
		select {
		case <-first.Drained():
		default:
			t.Error("Retired was called before the replaced snapshot was drained")
		}
	case <-time.After(10 * time.Second):
		t.Fatal("Retired not called within 10s of the reload")
	}
	select {
	case s := <-retired:
		t.Errorf("Retired called again (gc_percent %d), want once per reload", s.Runtime().GCPercent())
	default:
	}
}
