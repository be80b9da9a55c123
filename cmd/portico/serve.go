package main

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/signal"
	"syscall"

	"github.com/portico-gw/portico/config"
	"github.com/portico-gw/portico/gcpolicy"
	"github.com/portico-gw/portico/pool"
	"github.com/portico-gw/portico/server"
	"github.com/portico-gw/portico/snapshot"
)

type overrides struct{ http, grpc, admin string }

// serve runs the gateway on cfg (the demo when cfg is nil) until SIGINT or
// SIGTERM, then drains it (see server.Shutdown) within the config's
// shutdown.grace_period. SIGHUP reloads the config file.
func serve(cfg *config.File, over overrides, stdout, stderr io.Writer) int {
	log := slog.New(slog.NewTextHandler(stderr, nil))
	cleanup := func() {}
	if cfg == nil {
		var err error
		if cfg, cleanup, err = startDemo(); err != nil {
			fmt.Fprintf(stderr, "portico: %v\n", err)
			return exitFailure
		}
	}
	defer cleanup()
	// State that outlives a snapshot (connections, caches, counters) is
	// shared by every snapshot this process builds.
	states := pool.New()
	build := func(f *config.File) (*snapshot.Snapshot, error) {
		return snapshot.Build(f, snapshot.Options{Logger: log, Pool: states})
	}
	snap, err := build(cfg)
	if err != nil {
		printProblems(stderr, displayPath(cfg), cfg.Join(nil, err))
		return exitUsage
	}
	for _, w := range snap.Warnings() {
		log.Warn(w.Error())
	}
	// The runtime's memory policy (runtime: in the config; GOGC and
	// GOMEMLIMIT win): measured and applied now, when a reload has built
	// its snapshot, and again when the replaced one is closed.
	memory := gcpolicy.New(os.LookupEnv)
	memory.Apply(snap.Runtime()).Log(log)
	l := cfg.Config.GetListen()
	listen := server.Listen{HTTP: l.GetHttp(), GRPC: l.GetGrpc(), Admin: l.GetAdmin()}
	if over.http != "" {
		listen.HTTP = over.http
	}
	if over.grpc != "" {
		listen.GRPC = over.grpc
	}
	if over.admin != "" {
		listen.Admin = over.admin
	}
	srv, err := server.New(snap, listen, log, server.Options{
		Retired: func(serving *snapshot.Snapshot) { memory.Apply(serving.Runtime()).Log(log) },
	})
	if err != nil {
		_ = snap.Close()
		fmt.Fprintf(stderr, "portico: %v\n", err)
		return exitFailure
	}
	if cfg.Path != "" {
		srv.SetRebuild(func(ctx context.Context, current *snapshot.Snapshot) (*snapshot.Snapshot, error) {
			next, err := config.Load(cfg.Path)
			if err != nil {
				return nil, err
			}
			memory.Expect() // room for the new snapshot beside the serving one
			s, err := build(next)
			if err != nil {
				memory.Apply(current.Runtime()).Log(log)
				return nil, next.Join(nil, err)
			}
			memory.Apply(s.Runtime()).Log(log)
			return s, nil
		})
	}
	scheme := "http"
	if cfg.Config.GetTls() != nil {
		scheme = "https"
	}
	fmt.Fprintf(stdout, "portico: REST on %s://%s", scheme, srv.HTTPAddr)
	if srv.GRPCAddr != "" {
		fmt.Fprintf(stdout, ", gRPC on %s", srv.GRPCAddr)
	}
	if srv.AdminAddr != "" {
		fmt.Fprintf(stdout, ", admin on http://%s", srv.AdminAddr)
	}
	fmt.Fprintf(stdout, " (%d methods)\n", len(snap.Catalog().Methods()))
	if cfg.Path == "" {
		printDemoHelp(stdout, srv)
	}

	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if cfg.Path != "" {
		// A change to the config file, or to a file it names, reloads.
		if err := srv.WatchInputs(ctx, 0); err != nil {
			log.Warn("not watching the config files; reload with SIGHUP or POST /reload", "err", err)
		}
	}
	hup := make(chan os.Signal, 1)
	signal.Notify(hup, syscall.SIGHUP)
	defer signal.Stop(hup)
	errc := make(chan error, 1)
	go func() { errc <- srv.Serve() }()
	for {
		select {
		case err := <-errc:
			if err != nil {
				fmt.Fprintf(stderr, "portico: %v\n", err)
				return exitFailure
			}
			return exitOK
		case <-hup:
			_ = srv.Reload(server.WithTrigger(ctx, "SIGHUP")) // logged and audited; a bad config leaves the old one serving
			continue
		case <-ctx.Done():
		}
		break
	}
	grace := srv.Snapshot().Limits().ShutdownGrace
	log.Info("draining", "grace", grace)
	by := "signal"
	if cause := context.Cause(ctx); cause != nil && cause != context.Canceled {
		by = cause.Error() // "terminated signal received": which one, for the audit log
	}
	shutdownCtx, cancel := context.WithTimeout(server.WithTrigger(context.Background(), by), grace)
	defer cancel()
	if err := srv.Shutdown(shutdownCtx); err != nil {
		fmt.Fprintf(stderr, "portico: shutdown: %v\n", err)
	}
	<-errc
	return exitOK
}

// displayPath names a config file in messages: as given, or "demo".
func displayPath(f *config.File) string {
	if f.Path == "" {
		return "demo"
	}
	return f.Path
}
