package main

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/signal"
	"syscall"
	"time"

	"github.com/portico-gw/portico/config"
	"github.com/portico-gw/portico/server"
)

type overrides struct{ http, grpc, admin string }

func serve(cfgPath string, over overrides, stdout, stderr io.Writer) int {
	log := slog.New(slog.NewTextHandler(stderr, nil))
	var (
		cfg     *config.File
		cleanup = func() {}
		err     error
	)
	if cfgPath == "" {
		cfg, cleanup, err = startDemo()
	} else {
		cfg, err = config.Load(cfgPath)
	}
	if err != nil {
		fmt.Fprintf(stderr, "portico: %v\n", err)
		return 1
	}
	defer cleanup()
	snap, err := server.Build(cfg, server.BuildOptions{Logger: log})
	if err != nil {
		fmt.Fprintf(stderr, "portico: %v\n", err)
		return 1
	}
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
	srv, err := server.New(snap, listen, log)
	if err != nil {
		_ = snap.Close()
		fmt.Fprintf(stderr, "portico: %v\n", err)
		return 1
	}
	fmt.Fprintf(stdout, "portico: REST on http://%s", srv.HTTPAddr)
	if srv.GRPCAddr != "" {
		fmt.Fprintf(stdout, ", gRPC on %s", srv.GRPCAddr)
	}
	if srv.AdminAddr != "" {
		fmt.Fprintf(stdout, ", admin on http://%s", srv.AdminAddr)
	}
	fmt.Fprintf(stdout, " (%d methods)\n", len(snap.Catalog.Methods))
	if cfgPath == "" {
		printDemoHelp(stdout, srv)
	}

	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	errc := make(chan error, 1)
	go func() { errc <- srv.Serve() }()
	select {
	case err := <-errc:
		if err != nil {
			fmt.Fprintf(stderr, "portico: %v\n", err)
			return 1
		}
		return 0
	case <-ctx.Done():
	}
	shutdownCtx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := srv.Shutdown(shutdownCtx); err != nil {
		fmt.Fprintf(stderr, "portico: shutdown: %v\n", err)
	}
	<-errc
	return 0
}
