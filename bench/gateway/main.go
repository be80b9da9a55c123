// Command gateway is Portico built without the benchmark APIs' generated
// code: the same server package as cmd/portico (which links the
// bookstore's generated code for its demo), serving every API from the
// descriptor set its config lists, so every message is a dynamic one. It
// is what `go run ./bench` measures as Portico: speed without generated
// code. go run ./bench checks that it links none of the APIs' packages.
//
//	gateway -c portico.yaml [-grpc-stream-workers N] [-grpc-shared-write-buffer] ...
//
// Its other flags set grpc-go options on the gRPC door and the backends'
// connections: levers go run ./bench -variant measures against the
// defaults (see docs/performance.md).
package main

import (
	"context"
	"flag"
	"fmt"
	"log/slog"
	"os"
	"runtime/debug"
	"strconv"

	"github.com/portico-gw/portico/config"
	"github.com/portico-gw/portico/gcpolicy"
	"github.com/portico-gw/portico/internal/lifecycle"
	"github.com/portico-gw/portico/server"
	"github.com/portico-gw/portico/snapshot"
	"google.golang.org/grpc"
)

// levers are grpc-go options go run ./bench -variant measures against the
// defaults, in alternating rounds, before one is made Portico's default.
type levers struct {
	streamWorkers      uint
	sharedWriteBuffer  bool
	readBuffer         int
	writeBuffer        int
	clientSharedWrite  bool
	clientReadBuffer   int
	clientWriteBuffer  int
	initialWindowBytes int
	gcPercent          int
	goDefaults         bool
}

func main() {
	path := flag.String("c", "", "config file")
	var l levers
	flag.UintVar(&l.streamWorkers, "grpc-stream-workers", 0, "gRPC door: grpc.NumStreamWorkers (0: grpc-go's default, a goroutine per call)")
	flag.BoolVar(&l.sharedWriteBuffer, "grpc-shared-write-buffer", false, "gRPC door: grpc.SharedWriteBuffer")
	flag.IntVar(&l.readBuffer, "grpc-read-buffer", -1, "gRPC door: grpc.ReadBufferSize (-1: default)")
	flag.IntVar(&l.writeBuffer, "grpc-write-buffer", -1, "gRPC door: grpc.WriteBufferSize (-1: default)")
	flag.BoolVar(&l.clientSharedWrite, "backend-shared-write-buffer", false, "backends: grpc.WithSharedWriteBuffer")
	flag.IntVar(&l.clientReadBuffer, "backend-read-buffer", -1, "backends: grpc.WithReadBufferSize (-1: default)")
	flag.IntVar(&l.clientWriteBuffer, "backend-write-buffer", -1, "backends: grpc.WithWriteBufferSize (-1: default)")
	flag.IntVar(&l.initialWindowBytes, "grpc-initial-window", 0, "gRPC door: grpc.InitialWindowSize and InitialConnWindowSize (0: default)")
	flag.IntVar(&l.gcPercent, "gogc", 0, "the Go runtime's GC percent (debug.SetGCPercent, as GOGC would: the memory policy leaves it; 0: GOGC or the policy's)")
	flag.BoolVar(&l.goDefaults, "go-memory-defaults", false, "skip the memory policy (package gcpolicy): Go's default GC percent and no memory limit, as before it")
	flag.Parse()
	if l.gcPercent > 0 {
		debug.SetGCPercent(l.gcPercent)
	}
	if err := run(*path, l); err != nil {
		fmt.Fprintf(os.Stderr, "gateway: %v\n", err)
		os.Exit(1)
	}
}

// server is the door's options the levers set.
func (l levers) server() []grpc.ServerOption {
	var o []grpc.ServerOption
	if l.streamWorkers > 0 {
		o = append(o, grpc.NumStreamWorkers(uint32(l.streamWorkers)))
	}
	if l.sharedWriteBuffer {
		o = append(o, grpc.SharedWriteBuffer(true))
	}
	if l.readBuffer >= 0 {
		o = append(o, grpc.ReadBufferSize(l.readBuffer))
	}
	if l.writeBuffer >= 0 {
		o = append(o, grpc.WriteBufferSize(l.writeBuffer))
	}
	if l.initialWindowBytes > 0 {
		o = append(o, grpc.InitialWindowSize(int32(l.initialWindowBytes)), grpc.InitialConnWindowSize(int32(l.initialWindowBytes)))
	}
	return o
}

// dial is the backends' dial options the levers set.
func (l levers) dial() []grpc.DialOption {
	var o []grpc.DialOption
	if l.clientSharedWrite {
		o = append(o, grpc.WithSharedWriteBuffer(true))
	}
	if l.clientReadBuffer >= 0 {
		o = append(o, grpc.WithReadBufferSize(l.clientReadBuffer))
	}
	if l.clientWriteBuffer >= 0 {
		o = append(o, grpc.WithWriteBufferSize(l.clientWriteBuffer))
	}
	return o
}

func run(path string, l levers) error {
	log := slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelWarn}))
	cfg, err := config.Load(path)
	if err != nil {
		return err
	}
	snap, err := snapshot.Build(cfg, snapshot.Options{Logger: log, DialOptions: l.dial()})
	if err != nil {
		return err
	}
	// The memory policy, as cmd/portico applies it (-gogc counts as GOGC).
	memory := gcpolicy.New(func(name string) (string, bool) {
		if name == "GOGC" && l.gcPercent > 0 {
			return strconv.Itoa(l.gcPercent), true
		}
		return os.LookupEnv(name)
	})
	apply := func(s *snapshot.Snapshot) {
		if !l.goDefaults {
			memory.Apply(s.Runtime()).Log(log)
		}
	}
	apply(snap)
	ls := cfg.Config.GetListen()
	srv, err := server.New(snap, server.Listen{HTTP: ls.GetHttp(), GRPC: ls.GetGrpc(), Admin: ls.GetAdmin()}, log,
		server.Options{GRPCOptions: l.server(), Retired: apply})
	if err != nil {
		return err
	}
	// POST /reload on the admin listener builds the config again, as
	// cmd/portico does (go run ./bench reloads a large catalog under load).
	srv.SetRebuild(func(_ context.Context, current *snapshot.Snapshot) (*snapshot.Snapshot, error) {
		next, err := config.Load(path)
		if err != nil {
			return nil, err
		}
		if !l.goDefaults {
			memory.Expect()
		}
		s, err := snapshot.Build(next, snapshot.Options{Logger: log, DialOptions: l.dial()})
		if err != nil {
			apply(current)
			return nil, err
		}
		apply(s)
		return s, nil
	})
	// The line go run ./bench waits for, as cmd/portico prints it.
	admin := ""
	if srv.AdminAddr != "" {
		admin = ", admin on http://" + srv.AdminAddr
	}
	fmt.Printf("portico: REST on http://%s, gRPC on %s%s (%d methods)\n", srv.HTTPAddr, srv.GRPCAddr, admin, len(snap.Catalog().Methods()))
	return lifecycle.Run(srv.Serve, srv.Shutdown)
}
