package grpcbackend

import (
	"context"
	"net"
	"path/filepath"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/portico-gw/portico/call"
	"github.com/portico-gw/portico/catalog"
	"github.com/portico-gw/portico/examples/bookstore"
	bookstorev1 "github.com/portico-gw/portico/gen/example/bookstore/v1"
	configv1 "github.com/portico-gw/portico/gen/portico/config/v1"
	"github.com/portico-gw/portico/integrations"
	"github.com/portico-gw/portico/pool"
	"google.golang.org/grpc"
	"google.golang.org/grpc/health"
	healthpb "google.golang.org/grpc/health/grpc_health_v1"
	"google.golang.org/grpc/metadata"
)

// backend is a bookstore on a real listener with a health server the test
// controls.
type backend struct {
	store  *bookstore.Server
	srv    *grpc.Server
	health *health.Server
	addr   string // host:port, or the socket path
	lis    net.Listener
}

// startBackend serves a bookstore on a loopback :0 port (network "tcp") or
// on a unix socket in a temporary folder (network "unix").
func startBackend(t *testing.T, network string, opts ...grpc.ServerOption) *backend {
	t.Helper()
	addr := "127.0.0.1:0"
	if network == "unix" {
		addr = filepath.Join(t.TempDir(), "backend.sock")
	}
	lis, err := net.Listen(network, addr)
	if err != nil {
		t.Fatal(err)
	}
	return serveBackend(t, lis, opts...)
}

func serveBackend(t *testing.T, lis net.Listener, opts ...grpc.ServerOption) *backend {
	t.Helper()
	b := &backend{store: bookstore.NewServer(), srv: grpc.NewServer(opts...), health: health.NewServer(), lis: lis, addr: lis.Addr().String()}
	b.store.Register(b.srv)
	b.health.SetServingStatus("", healthpb.HealthCheckResponse_SERVING)
	healthpb.RegisterHealthServer(b.srv, b.health)
	go func() { _ = b.srv.Serve(lis) }()
	t.Cleanup(b.srv.Stop)
	return b
}

// build makes an integration from g the way a snapshot does: Factory,
// then Check for every bookstore method routed to it.
func build(t *testing.T, g *configv1.GrpcIntegration, dial ...grpc.DialOption) (*Integration, map[string]*catalog.Method) {
	t.Helper()
	env := integrations.Env{Pool: pool.New(), DialOptions: dial, Resolve: func(p string) string { return p }}
	b, err := Factory(env, &configv1.Integration{Name: "books", Kind: &configv1.Integration_Grpc{Grpc: g}})
	if err != nil {
		t.Fatalf("Factory: %v", err)
	}
	i := b.(*Integration)
	t.Cleanup(func() { i.Close() })
	cat, err := catalog.New(catalog.Options{APIs: []catalog.API{{
		Where: "apis[0]", Services: []string{"example.bookstore.v1.BookstoreService"}, Backend: i, BackendName: "books",
	}}})
	if err != nil {
		t.Fatal(err)
	}
	for _, m := range cat.MethodList() {
		if err := i.Check(m); err != nil {
			t.Fatalf("Check(%s): %v", m.FullMethod(), err)
		}
	}
	return i, cat.Methods()
}

func bookMethod(t *testing.T, methods map[string]*catalog.Method, name string) *catalog.Method {
	t.Helper()
	m, ok := methods["/example.bookstore.v1.BookstoreService/"+name]
	if !ok {
		t.Fatalf("no method %s", name)
	}
	return m
}

// waitReady waits until the integration reports ready, or fails the test.
func waitReady(t *testing.T, i *Integration) {
	t.Helper()
	ready := make(chan struct{}, 1)
	stop := i.Notify(func() {
		select {
		case ready <- struct{}{}:
		default:
		}
	})
	defer stop()
	ctx := testContext(t)
	for !i.Ready() {
		select {
		case <-ready:
		case <-ctx.Done():
			t.Fatalf("integration not ready: %s", i.State())
		}
	}
}

// scriptedShelves is a BookstoreService whose GetShelf and CreateShelf
// answer as a test says, call by call.
type scriptedShelves struct {
	bookstorev1.UnimplementedBookstoreServiceServer
	calls atomic.Int64
	// answer is called with the call number (from 1) and the call's
	// context; it returns the shelf or the error.
	answer func(ctx context.Context, n int64) (*bookstorev1.Shelf, error)

	mu       sync.Mutex
	attempts []string // grpc-previous-rpc-attempts of each call, "" when absent
}

func (s *scriptedShelves) record(ctx context.Context) int64 {
	md, _ := metadata.FromIncomingContext(ctx)
	v := ""
	if vs := md.Get(previousAttempts); len(vs) > 0 {
		v = vs[0]
	}
	s.mu.Lock()
	s.attempts = append(s.attempts, v)
	s.mu.Unlock()
	return s.calls.Add(1)
}

func (s *scriptedShelves) GetShelf(ctx context.Context, _ *bookstorev1.GetShelfRequest) (*bookstorev1.Shelf, error) {
	return s.answer(ctx, s.record(ctx))
}

func (s *scriptedShelves) CreateShelf(ctx context.Context, _ *bookstorev1.CreateShelfRequest) (*bookstorev1.Shelf, error) {
	return s.answer(ctx, s.record(ctx))
}

// startScripted serves s on a loopback port.
func startScripted(t *testing.T, s *scriptedShelves) string {
	t.Helper()
	lis, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	srv := grpc.NewServer()
	bookstorev1.RegisterBookstoreServiceServer(srv, s)
	go func() { _ = srv.Serve(lis) }()
	t.Cleanup(srv.Stop)
	return lis.Addr().String()
}

// within fails the test if f takes longer than d.
func within(t *testing.T, d time.Duration, what string, f func()) {
	t.Helper()
	start := time.Now()
	f()
	if took := time.Since(start); took > d {
		t.Errorf("%s took %v, want under %v", what, took, d)
	}
}

// withCallInfo returns ctx carrying a gRPC call's Info with md, as the
// gRPC door makes it.
func withCallInfo(ctx context.Context, md metadata.MD) context.Context {
	return call.NewContext(ctx, &call.Info{Door: call.GRPC, MD: md})
}

func envWithPool() integrations.Env {
	return integrations.Env{Pool: pool.New(), Resolve: func(p string) string { return p }}
}

func mustFactory(t *testing.T, env integrations.Env, g *configv1.GrpcIntegration) *Integration {
	t.Helper()
	b, err := Factory(env, &configv1.Integration{Name: "books", Kind: &configv1.Integration_Grpc{Grpc: g}})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { b.Close() })
	return b.(*Integration)
}
