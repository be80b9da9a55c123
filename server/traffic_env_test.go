package server_test

import (
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/portico-gw/portico/call"
	"github.com/portico-gw/portico/config"
	"github.com/portico-gw/portico/examples/bookstore"
	configv1 "github.com/portico-gw/portico/gen/portico/config/v1"
	"github.com/portico-gw/portico/pool"
	"github.com/portico-gw/portico/server"
	"github.com/portico-gw/portico/server/servertest"
	"github.com/portico-gw/portico/snapshot"
	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/grpc/metadata"
	"google.golang.org/grpc/stats"
)

// trafficBackend starts a bookstore on a loopback :0 port.
func trafficBackend(t testing.TB) (*bookstore.Server, string) {
	t.Helper()
	lis, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	b := bookstore.NewServer()
	gs := b.Serve(lis)
	t.Cleanup(gs.Stop)
	return b, lis.Addr().String()
}

// trafficGateway is one Portico in front of a backend.
type trafficGateway struct {
	srv  *server.Server
	url  string
	conn *grpc.ClientConn
	logs *lockedBuffer
	stop func()
}

type gatewayOptions struct {
	edit func(*configv1.Config)
	// pool is shared with reloads; nil: a new one.
	pool *pool.Pool
	// identities makes the gRPC door take a caller's identity from the
	// test-api-key and test-plan metadata (standing in for the API-key
	// provider: the rate-limit gate only reads call.Info.Identity).
	identities bool
}

// startTrafficGateway builds and serves a gateway in front of target; stop
// shuts it down (also run by t.Cleanup).
func startTrafficGateway(t testing.TB, target string, o gatewayOptions) *trafficGateway {
	t.Helper()
	cfg := servertest.BookstoreConfig(target)
	if o.edit != nil {
		o.edit(cfg)
	}
	if o.pool == nil {
		o.pool = pool.New()
	}
	logs := &lockedBuffer{}
	log := slog.New(slog.NewTextHandler(logs, &slog.HandlerOptions{Level: slog.LevelInfo}))
	file := &config.File{Config: cfg, Dir: t.TempDir()}
	snap, err := snapshot.Build(file, snapshot.Options{Pool: o.pool, Logger: log})
	if err != nil {
		t.Fatalf("snapshot.Build: %v", err)
	}
	var sopts []server.Options
	if o.identities {
		sopts = append(sopts, server.Options{GRPCStats: []stats.Handler{identityFromMetadata{}}})
	}
	l := cfg.GetListen()
	srv, err := server.New(snap, server.Listen{HTTP: l.GetHttp(), GRPC: l.GetGrpc()}, log, sopts...)
	if err != nil {
		t.Fatalf("server.New: %v", err)
	}
	srv.SetRebuild(func(ctx context.Context, _ *snapshot.Snapshot) (*snapshot.Snapshot, error) {
		return snapshot.Build(file, snapshot.Options{Pool: o.pool, Logger: log})
	})
	done := make(chan error, 1)
	go func() { done <- srv.Serve() }()
	conn, err := grpc.NewClient(srv.GRPCAddr, grpc.WithTransportCredentials(insecure.NewCredentials()))
	if err != nil {
		t.Fatal(err)
	}
	var once sync.Once
	stop := func() {
		once.Do(func() {
			conn.Close()
			ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
			defer cancel()
			_ = srv.Shutdown(ctx)
			<-done
		})
	}
	t.Cleanup(stop)
	return &trafficGateway{srv: srv, url: "http://" + srv.HTTPAddr, conn: conn, logs: logs, stop: stop}
}

// identityFromMetadata is a stats handler that puts an Identity in the
// call's Info, as an authentication gate would.
type identityFromMetadata struct{}

func (identityFromMetadata) TagRPC(ctx context.Context, _ *stats.RPCTagInfo) context.Context {
	md, _ := metadata.FromIncomingContext(ctx)
	key := md.Get("test-api-key")
	if len(key) == 0 {
		return ctx
	}
	id := &call.Identity{Provider: "test", Principal: "key:" + key[0], APIKey: key[0]}
	if p := md.Get("test-plan"); len(p) > 0 {
		id.Plan = p[0]
	}
	return call.NewContext(ctx, &call.Info{Identity: id})
}
func (identityFromMetadata) HandleRPC(context.Context, stats.RPCStats) {}
func (identityFromMetadata) TagConn(ctx context.Context, _ *stats.ConnTagInfo) context.Context {
	return ctx
}
func (identityFromMetadata) HandleConn(context.Context, stats.ConnStats) {}

// restReply is one REST request's answer.
type restReply struct {
	status int
	header http.Header
	body   map[string]any
	raw    string
}

func doREST(t testing.TB, client *http.Client, method, url string, body string, kv ...string) restReply {
	t.Helper()
	var rd io.Reader
	if body != "" {
		rd = strings.NewReader(body)
	}
	req, err := http.NewRequest(method, url, rd)
	if err != nil {
		t.Fatal(err)
	}
	for i := 0; i+1 < len(kv); i += 2 {
		req.Header.Set(kv[i], kv[i+1])
	}
	resp, err := client.Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", method, url, err)
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(resp.Body)
	rc := restReply{status: resp.StatusCode, header: resp.Header, raw: string(raw)}
	_ = json.Unmarshal(raw, &rc.body)
	return rc
}

// withRateLimits adds the named policies and applies them to the API.
func withRateLimits(policies ...*configv1.RateLimitPolicy) func(*configv1.Config) {
	return func(c *configv1.Config) {
		if c.RateLimits == nil {
			c.RateLimits = &configv1.RateLimits{}
		}
		c.RateLimits.Policies = append(c.RateLimits.Policies, policies...)
		for _, p := range policies {
			c.Apis[0].RateLimits = append(c.Apis[0].RateLimits, p.GetName())
		}
	}
}

func chain(edits ...func(*configv1.Config)) func(*configv1.Config) {
	return func(c *configv1.Config) {
		for _, e := range edits {
			e(c)
		}
	}
}
