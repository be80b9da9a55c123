package cache

import (
	"context"
	"log/slog"
	"sync"
	"testing"
	"time"

	"github.com/portico-gw/portico/catalog"
	"github.com/portico-gw/portico/config"
	bookstorev1 "github.com/portico-gw/portico/gen/example/bookstore/v1"
	configv1 "github.com/portico-gw/portico/gen/portico/config/v1"
	"github.com/portico-gw/portico/pipeline"
	"github.com/portico-gw/portico/pool"
	"google.golang.org/grpc"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/durationpb"
)

const bookstoreService = "example.bookstore.v1.BookstoreService"

// nop is a backend that is never called (the tests call interceptors
// with a handler of their own).
type nop struct{}

func (nop) Unary(context.Context, *catalog.Method, proto.Message) (proto.Message, error) {
	return nil, nil
}
func (nop) Stream(context.Context, *catalog.Method, grpc.ServerStream) error { return nil }

// env is the build environment of cfg with the compiled-in bookstore
// exposed as apis[0]; what the kind releases runs at the test's end.
func env(t *testing.T, cfg *configv1.Config) pipeline.Env {
	t.Helper()
	cat, err := catalog.New(catalog.Options{
		APIs: []catalog.API{{Where: "apis[0]", Services: []string{bookstoreService}, Backend: nop{}, BackendName: "b", Settings: cfg.GetApis()[0]}},
	})
	if err != nil {
		t.Fatal(err)
	}
	var closers []func() error
	t.Cleanup(func() {
		for _, c := range closers {
			_ = c()
		}
	})
	return pipeline.Env{Config: &config.File{Config: cfg, Dir: t.TempDir()}, Catalog: cat, Pool: pool.New(),
		Logger: slog.New(slog.DiscardHandler), OnRelease: func(f func() error) { closers = append(closers, f) }}
}

// cached is a config caching selector's answers with mc.
func cached(selector string, mc *configv1.MethodCache) *configv1.Config {
	return &configv1.Config{Apis: []*configv1.Api{{
		Services: []string{bookstoreService},
		Methods:  []*configv1.MethodPolicy{{Selector: selector, Cache: mc}},
	}}}
}

func ttl(d time.Duration) *durationpb.Duration { return durationpb.New(d) }

// clock is a settable clock.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func newClock() *clock { return &clock{t: time.Unix(1_700_000_000, 0)} }

func (c *clock) now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *clock) advance(d time.Duration) {
	c.mu.Lock()
	c.t = c.t.Add(d)
	c.mu.Unlock()
}

// build builds the kind from cfg with a local store on clk, and returns
// it with the method selector names.
func build(t *testing.T, cfg *configv1.Config, clk *clock) (*Cache, *catalog.Method) {
	t.Helper()
	e := env(t, cfg)
	p, err := Build(e)
	if err != nil || p == nil {
		t.Fatalf("Build: %v, %v", p, err)
	}
	c := p.(*Cache)
	c.now = clk.now
	c.store.local.now = clk.now
	name, err := catalog.MethodSelector(cfg.Apis[0].Methods[0].Selector)
	if err != nil {
		t.Fatal(err)
	}
	for _, m := range e.Catalog.MethodList() {
		if m.Desc().FullName() == name {
			return c, m
		}
	}
	t.Fatalf("no method %s", name)
	return nil, nil
}

// backend counts its calls and answers with a shelf numbered by the call.
type backend struct {
	mu    sync.Mutex
	calls int
	// header is reported with each answer; err ends each call.
	header map[string]string
	err    error
	// gate, when set, holds each call until it is closed.
	gate chan struct{}
}

func (b *backend) handle(ctx context.Context, req any) (any, error) {
	if b.gate != nil {
		<-b.gate
	}
	b.mu.Lock()
	b.calls++
	n := b.calls
	b.mu.Unlock()
	for k, v := range b.header {
		_ = grpc.SetHeader(ctx, map[string][]string{k: {v}})
	}
	if b.err != nil {
		return nil, b.err
	}
	return &bookstorev1.Shelf{Id: int64(n), Theme: "call"}, nil
}

func (b *backend) count() int {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.calls
}

// firstRule returns a method of c's rules (the tests cache one).
func firstRule(c *Cache) *catalog.Method {
	for m := range c.rules {
		return m
	}
	return nil
}
