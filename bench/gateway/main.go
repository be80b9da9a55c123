// Command gateway is Portico built without the benchmark APIs' generated
// code: the same server package as cmd/portico (which links the
// bookstore's generated code for its demo), serving every API from the
// descriptor set its config lists, so every message is a dynamic one. It
// is what `go run ./bench` measures as Portico: speed without generated
// code. go run ./bench checks that it links none of the APIs' packages.
//
//	gateway -c portico.yaml
package main

import (
	"context"
	"flag"
	"fmt"
	"log/slog"
	"os"

	"github.com/portico-gw/portico/config"
	"github.com/portico-gw/portico/internal/lifecycle"
	"github.com/portico-gw/portico/server"
	"github.com/portico-gw/portico/snapshot"
)

func main() {
	path := flag.String("c", "", "config file")
	flag.Parse()
	if err := run(*path); err != nil {
		fmt.Fprintf(os.Stderr, "gateway: %v\n", err)
		os.Exit(1)
	}
}

func run(path string) error {
	log := slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelWarn}))
	cfg, err := config.Load(path)
	if err != nil {
		return err
	}
	snap, err := snapshot.Build(cfg, snapshot.Options{Logger: log})
	if err != nil {
		return err
	}
	l := cfg.Config.GetListen()
	srv, err := server.New(snap, server.Listen{HTTP: l.GetHttp(), GRPC: l.GetGrpc(), Admin: l.GetAdmin()}, log)
	if err != nil {
		return err
	}
	// POST /reload on the admin listener builds the config again, as
	// cmd/portico does (go run ./bench reloads a large catalog under load).
	srv.SetRebuild(func(context.Context, *snapshot.Snapshot) (*snapshot.Snapshot, error) {
		next, err := config.Load(path)
		if err != nil {
			return nil, err
		}
		return snapshot.Build(next, snapshot.Options{Logger: log})
	})
	// The line go run ./bench waits for, as cmd/portico prints it.
	admin := ""
	if srv.AdminAddr != "" {
		admin = ", admin on http://" + srv.AdminAddr
	}
	fmt.Printf("portico: REST on http://%s, gRPC on %s%s (%d methods)\n", srv.HTTPAddr, srv.GRPCAddr, admin, len(snap.Catalog().Methods()))
	return lifecycle.Run(srv.Serve, srv.Shutdown)
}
