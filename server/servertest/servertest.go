// Package servertest starts a whole Portico in a test: the example
// bookstore backend on a loopback :0 port, the gateway's REST, gRPC and
// admin listeners on :0 ports, everything stopped by t.Cleanup.
package servertest

import (
	"context"
	"net"
	"net/http"
	"testing"
	"time"

	"github.com/portico-gw/portico/config"
	"github.com/portico-gw/portico/examples/bookstore"
	configv1 "github.com/portico-gw/portico/gen/portico/config/v1"
	"github.com/portico-gw/portico/server"
	"github.com/portico-gw/portico/snapshot"
	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/protobuf/types/known/durationpb"
)

// Env is a running gateway in front of a running bookstore.
type Env struct {
	// Backend is the bookstore; Calls() tells what it received.
	Backend *bookstore.Server
	// BackendAddr is the backend's address (for direct calls and for a
	// grpc-gateway reference in front of the same backend).
	BackendAddr string
	// Server is the gateway.
	Server *server.Server
	// URL is the REST door's base URL, e.g. http://127.0.0.1:41234.
	URL string
	// Conn is a client connection to the gRPC door.
	Conn *grpc.ClientConn
}

// Options adjust the environment.
type Options struct {
	// Config edits the config before it is built (set timeouts, default
	// bindings, …).
	Config func(*configv1.Config)
	// Build edits the build options (dynamic types, dial options, ...).
	Build func(*snapshot.Options)
	// Server adjusts the gateway's server (access log destination, ...).
	Server server.Options
}

// BookstoreConfig is the config the tests start from: the bookstore
// exposed through one grpc integration at target.
func BookstoreConfig(target string) *configv1.Config {
	return &configv1.Config{
		Listen: &configv1.Listen{Http: "127.0.0.1:0", Grpc: "127.0.0.1:0", Admin: "127.0.0.1:0"},
		Integrations: []*configv1.Integration{{
			Name: "bookstore",
			Kind: &configv1.Integration_Grpc{Grpc: &configv1.GrpcIntegration{
				Target:  target,
				Timeout: durationpb.New(10 * time.Second),
			}},
		}},
		Apis: []*configv1.Api{{
			Services:    []string{"example.bookstore.v1.BookstoreService"},
			Integration: "bookstore",
		}},
	}
}

// Start starts a backend and a gateway in front of it.
func Start(t testing.TB, opts Options) *Env {
	t.Helper()
	lis, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	backend := bookstore.NewServer()
	gs := backend.Serve(lis)
	t.Cleanup(gs.Stop)
	env := StartGateway(t, lis.Addr().String(), opts)
	env.Backend = backend
	return env
}

// StartGateway starts only the gateway, in front of target.
func StartGateway(t testing.TB, target string, opts Options) *Env {
	t.Helper()
	cfg := BookstoreConfig(target)
	if opts.Config != nil {
		opts.Config(cfg)
	}
	var bo snapshot.Options
	if opts.Build != nil {
		opts.Build(&bo)
	}
	snap, err := snapshot.Build(&config.File{Config: cfg, Dir: "."}, bo)
	if err != nil {
		t.Fatalf("snapshot.Build: %v", err)
	}
	l := cfg.GetListen()
	srv, err := server.New(snap, server.Listen{HTTP: l.GetHttp(), GRPC: l.GetGrpc(), Admin: l.GetAdmin()}, nil, opts.Server)
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
	env := &Env{BackendAddr: target, Server: srv, URL: "http://" + srv.HTTPAddr}
	if srv.GRPCAddr != "" {
		conn, err := grpc.NewClient(srv.GRPCAddr, grpc.WithTransportCredentials(insecure.NewCredentials()))
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { conn.Close() })
		env.Conn = conn
	}
	return env
}

// Client is an HTTP client for tests: no redirects followed, a timeout so a
// hang fails the test instead of stalling it.
func Client() *http.Client {
	return &http.Client{
		Timeout:       10 * time.Second,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}
}
