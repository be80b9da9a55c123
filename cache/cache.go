package cache

import (
	"context"
	"log/slog"
	"time"

	"github.com/portico-gw/portico/catalog"
	"github.com/portico-gw/portico/pipeline"
	"github.com/portico-gw/portico/telemetry"
	"golang.org/x/sync/singleflight"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/proto"
)

// Cache is the policy: the rules of the cached methods and the store.
type Cache struct {
	store *pooled
	rules map[*catalog.Method]*rule
	cat   *catalog.Catalog
	log   *slog.Logger
	// flights makes one backend call per key at a time: concurrent
	// misses wait for it, and a stale answer's refresh runs once.
	flights singleflight.Group
	now     func() time.Time
}

func newCache(s *pooled, rules map[*catalog.Method]*rule, cat *catalog.Catalog, log *slog.Logger) *Cache {
	if log == nil {
		log = slog.Default()
	}
	return &Cache{store: s, rules: rules, cat: cat, log: log, now: time.Now}
}

// Stage is the method's interceptor, when it is cached.
func (c *Cache) Stage(m *catalog.Method) (pipeline.Stage, error) {
	r := c.rules[m]
	if r == nil {
		return pipeline.Stage{}, nil
	}
	return pipeline.Stage{Unary: c.interceptor(m, r)}, nil
}

// interceptor serves a fresh answer from the store (hit), a stale one
// while one refresh runs in the background (stale), or calls the backend
// once for every concurrent caller of the same key and keeps the answer
// (miss). Errors are never kept.
func (c *Cache) interceptor(m *catalog.Method, r *rule) grpc.UnaryServerInterceptor {
	return func(ctx context.Context, req any, _ *grpc.UnaryServerInfo, next grpc.UnaryHandler) (any, error) {
		msg, ok := req.(proto.Message)
		if !ok {
			return next(ctx, req)
		}
		a := newAnswerer(ctx, m, r)
		key, err := r.key(a.info, msg)
		if err != nil {
			return next(ctx, req) // a request that does not marshal is not keyed
		}
		now := c.now()
		if e := c.lookup(ctx, key); e != nil {
			switch {
			case now.Before(e.fresh):
				return a.answer(e, resultHit, now)
			case now.Before(e.stale):
				c.refresh(ctx, key, r, next, proto.Clone(msg))
				return a.answer(e, resultStale, now)
			}
		}
		e, err := c.fill(ctx, key, r, next, req)
		if err != nil {
			telemetry.CacheLookup(ctx, m.FullMethod(), resultMiss)
			return nil, err
		}
		return a.answer(e, resultMiss, c.now())
	}
}

// lookup reads key's entry; a store that fails or an entry that does
// not decode is a miss.
func (c *Cache) lookup(ctx context.Context, key string) *entry {
	b, ok, err := c.store.Get(ctx, key)
	if err != nil {
		c.log.Debug("cache: store read failed", "store", c.store.name, "error", err)
		return nil
	}
	if !ok {
		return nil
	}
	e, err := unmarshalEntry(b)
	if err != nil {
		return nil
	}
	return e
}

// fill calls the backend for key, once for every caller waiting on the
// same key. The call runs detached from the first caller's cancellation
// (the others still wait for it) but keeps its deadline; each caller
// stops waiting when its own context ends.
func (c *Cache) fill(ctx context.Context, key string, r *rule, next grpc.UnaryHandler, req any) (*entry, error) {
	fctx, cancel := detach(ctx)
	ch := c.flights.DoChan(key, func() (any, error) {
		defer cancel()
		return c.call(fctx, key, r, next, req)
	})
	select {
	case res := <-ch:
		if res.Err != nil {
			return nil, res.Err
		}
		return res.Val.(*entry), nil
	case <-ctx.Done():
		return nil, status.FromContextError(ctx.Err()).Err()
	}
}

// refresh starts one background call that refreshes key's stale entry,
// unless one is running; it never waits. The call keeps the caller's
// context values (its identity, its metadata) but neither its
// cancellation nor its deadline: the integration's timeout bounds it.
func (c *Cache) refresh(ctx context.Context, key string, r *rule, next grpc.UnaryHandler, req proto.Message) {
	bg := context.WithoutCancel(ctx)
	c.flights.DoChan(key, func() (any, error) {
		return c.call(bg, key, r, next, req)
	})
}

// detach returns ctx without its cancellation, with its deadline.
func detach(ctx context.Context) (context.Context, context.CancelFunc) {
	d := context.WithoutCancel(ctx)
	if dl, ok := ctx.Deadline(); ok {
		return context.WithDeadline(d, dl)
	}
	return d, func() {}
}

// call calls the backend, records the metadata it reports and keeps the
// answer as its Cache-Control allows. A panic below is an INTERNAL status
// here: the call may run on singleflight's goroutine, where nothing
// would recover it.
func (c *Cache) call(ctx context.Context, key string, r *rule, next grpc.UnaryHandler, req any) (_ *entry, err error) {
	defer func() {
		if v := recover(); v != nil {
			err = pipeline.Panicked(c.log, r.prefix, v)
		}
	}()
	// A call that finished while this caller looked the key up has
	// stored a fresh answer: take it rather than call again.
	if e := c.lookup(ctx, key); e != nil && c.now().Before(e.fresh) {
		return e, nil
	}
	rec := &recorder{}
	if orig := grpc.ServerTransportStreamFromContext(ctx); orig != nil {
		rec.method = orig.Method()
	}
	out, err := next(grpc.NewContextWithServerTransportStream(ctx, rec), req)
	if err != nil {
		return nil, err
	}
	msg, ok := out.(proto.Message)
	if !ok || msg == nil || !msg.ProtoReflect().IsValid() {
		return nil, status.Error(codes.Internal, "the backend returned no response")
	}
	body, err := deterministic.Marshal(msg)
	if err != nil {
		return nil, status.Error(codes.Internal, "the backend's response does not marshal")
	}
	e := &entry{body: body, header: rec.header, trailer: rec.trailer, etag: etagOf(body)}
	ttl, keep := r.freshness(rec.header)
	if !keep {
		return e, nil
	}
	now := c.now()
	e.fresh = now.Add(ttl)
	e.stale = e.fresh.Add(time.Duration(r.swr))
	evicted, err := c.store.Set(ctx, key, e.marshal(), ttl+time.Duration(r.swr))
	// Callers from now on read the store rather than wait for this call.
	c.flights.Forget(key)
	if err != nil {
		c.log.Debug("cache: store write failed", "store", c.store.name, "error", err)
		return e, nil
	}
	bytes := int64(-1)
	if c.store.local != nil {
		bytes = c.store.local.Bytes()
	}
	telemetry.CacheStored(ctx, c.store.name, bytes, evicted)
	return e, nil
}
