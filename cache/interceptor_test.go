package cache

import (
	"context"
	"net/http"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/portico-gw/portico/call"
	bookstorev1 "github.com/portico-gw/portico/gen/example/bookstore/v1"
	configv1 "github.com/portico-gw/portico/gen/portico/config/v1"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/metadata"
	"google.golang.org/grpc/status"
)

// transport records the headers a call reports.
type transport struct {
	mu     sync.Mutex
	header metadata.MD
}

func (t *transport) Method() string { return "/example.bookstore.v1.BookstoreService/GetShelf" }
func (t *transport) SetHeader(md metadata.MD) error {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.header = metadata.Join(t.header, md)
	return nil
}
func (t *transport) SendHeader(md metadata.MD) error { return t.SetHeader(md) }
func (t *transport) SetTrailer(metadata.MD) error    { return nil }

// restCall is one REST call to the interceptor: its Info (for the
// headers the cache set), its transport, and its answer.
type restCall struct {
	info *call.Info
	tr   *transport
	resp *bookstorev1.Shelf
	err  error
}

func run(ic grpc.UnaryServerInterceptor, b *backend, principal, ifNoneMatch string, shelf int64) restCall {
	req, _ := http.NewRequest("GET", "/v1/shelves/1", nil)
	if ifNoneMatch != "" {
		req.Header.Set("If-None-Match", ifNoneMatch)
	}
	info := call.NewHTTP(req)
	if principal != "" {
		info.Identity = &call.Identity{Principal: principal}
	}
	tr := &transport{}
	ctx := grpc.NewContextWithServerTransportStream(call.NewContext(context.Background(), info), tr)
	out, err := ic(ctx, &bookstorev1.GetShelfRequest{Shelf: shelf}, nil, b.handle)
	rc := restCall{info: info, tr: tr, err: err}
	if out != nil {
		rc.resp, _ = out.(*bookstorev1.Shelf)
	}
	return rc
}

func interceptor(t *testing.T, mc *configv1.MethodCache, clk *clock) (*Cache, grpc.UnaryServerInterceptor) {
	t.Helper()
	c, m := build(t, cached("example.bookstore.v1.BookstoreService.GetShelf", mc), clk)
	st, err := c.Stage(m)
	if err != nil || st.Unary == nil {
		t.Fatalf("Stage = %+v, %v; want an interceptor", st, err)
	}
	return c, st.Unary
}

// TestHitMissStale: the first call misses and reaches the backend, the
// next ones within ttl are hits that do not; after ttl, within
// stale_while_revalidate, the stale answer is served and one refresh
// runs; past both, a miss again. The headers say which.
func TestHitMissStale(t *testing.T) {
	clk := newClock()
	_, ic := interceptor(t, &configv1.MethodCache{Ttl: ttl(10 * time.Second), StaleWhileRevalidate: ttl(5 * time.Second)}, clk)
	b := &backend{header: map[string]string{"x-from": "backend"}}
	first := run(ic, b, "alice", "", 1)
	if first.err != nil || first.resp.GetId() != 1 {
		t.Fatalf("miss: got %v, %v; want shelf 1", first.resp, first.err)
	}
	if got := first.info.ResponseHeader().Get(HeaderName); got != "miss" {
		t.Errorf("miss: %s = %q, want miss", HeaderName, got)
	}
	clk.advance(4 * time.Second)
	hit := run(ic, b, "alice", "", 1)
	if hit.err != nil || hit.resp.GetId() != 1 || b.count() != 1 {
		t.Fatalf("hit: got %v, %v after %d backend calls; want shelf 1 after 1", hit.resp, hit.err, b.count())
	}
	h := hit.info.ResponseHeader()
	if h.Get(HeaderName) != "hit" || h.Get("Cache-Control") != "private, max-age=6" || h.Get("ETag") != first.info.ResponseHeader().Get("ETag") || h.Get("ETag") == "" {
		t.Errorf("hit headers: %v; want hit, private, max-age=6 and the miss's ETag", h)
	}
	if got := hit.tr.header.Get("x-from"); len(got) != 1 || got[0] != "backend" {
		t.Errorf("hit: backend header x-from = %v, want [backend] replayed", got)
	}
	clk.advance(8 * time.Second) // 12s: stale
	stale := run(ic, b, "alice", "", 1)
	if stale.err != nil || stale.resp.GetId() != 1 || stale.info.ResponseHeader().Get(HeaderName) != "stale" {
		t.Fatalf("stale: got %v, %v, %s; want shelf 1, stale", stale.resp, stale.err, stale.info.ResponseHeader().Get(HeaderName))
	}
	if got := stale.info.ResponseHeader().Get("Cache-Control"); got != "private, max-age=0" {
		t.Errorf("stale: Cache-Control %q, want private, max-age=0", got)
	}
	// The refresh runs in the background: until it has stored its answer,
	// calls get the stale one and start no other refresh.
	var refreshed restCall
	waitFor(t, func() bool {
		refreshed = run(ic, b, "alice", "", 1)
		return refreshed.info.ResponseHeader().Get(HeaderName) == "hit"
	})
	if refreshed.resp.GetId() != 2 || b.count() != 2 {
		t.Errorf("after the refresh: got shelf %d after %d backend calls, want shelf 2 after 2", refreshed.resp.GetId(), b.count())
	}
	clk.advance(16 * time.Second) // past ttl and stale_while_revalidate
	if again := run(ic, b, "alice", "", 1); again.resp.GetId() != 3 || again.info.ResponseHeader().Get(HeaderName) != "miss" {
		t.Errorf("expired: got shelf %d (%s), want shelf 3 (miss)", again.resp.GetId(), again.info.ResponseHeader().Get(HeaderName))
	}
}

// waitFor polls cond (a background refresh has no other signal), up to
// 10s.
func waitFor(t *testing.T, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatal("condition not met within 10s")
		}
		time.Sleep(time.Millisecond)
	}
}

// TestPrincipalsApart: an answer made for one principal is not served
// to another (nor to an anonymous caller), unless the cache is shared.
func TestPrincipalsApart(t *testing.T) {
	clk := newClock()
	_, ic := interceptor(t, &configv1.MethodCache{Ttl: ttl(time.Minute)}, clk)
	b := &backend{}
	for i, who := range []string{"alice", "bob", "", "alice"} {
		got := run(ic, b, who, "", 1)
		want := []int64{1, 2, 3, 1}[i]
		if got.resp.GetId() != want {
			t.Errorf("call %d as %q: shelf %d, want %d", i, who, got.resp.GetId(), want)
		}
	}
	_, shared := interceptor(t, &configv1.MethodCache{Ttl: ttl(time.Minute), Shared: true}, clk)
	sb := &backend{}
	run(shared, sb, "alice", "", 1)
	if got := run(shared, sb, "bob", "", 1); got.resp.GetId() != 1 || sb.count() != 1 {
		t.Errorf("shared: bob got shelf %d after %d calls, want alice's shelf 1 after 1", got.resp.GetId(), sb.count())
	}
	if cc := run(shared, sb, "bob", "", 1).info.ResponseHeader().Get("Cache-Control"); cc != "max-age=60" {
		t.Errorf("shared: Cache-Control %q, want max-age=60", cc)
	}
}

// TestNotModified: a REST call whose If-None-Match holds the answer's
// ETag gets NotModified (304) from a hit, without reaching the backend;
// another ETag gets the answer.
func TestNotModified(t *testing.T) {
	clk := newClock()
	_, ic := interceptor(t, &configv1.MethodCache{Ttl: ttl(time.Minute)}, clk)
	b := &backend{}
	etag := run(ic, b, "", "", 1).info.ResponseHeader().Get("ETag")
	got := run(ic, b, "", `"other", W/`+etag, 1)
	if code, _, ok := call.HTTPStatusOf(got.err); !ok || code != http.StatusNotModified {
		t.Errorf("If-None-Match with the ETag: got %v, %v; want 304", got.resp, got.err)
	}
	if got.info.ResponseHeader().Get("ETag") != etag {
		t.Errorf("304: ETag %q, want %q", got.info.ResponseHeader().Get("ETag"), etag)
	}
	if other := run(ic, b, "", `"other"`, 1); other.err != nil || other.resp.GetId() != 1 {
		t.Errorf("another ETag: got %v, %v; want shelf 1", other.resp, other.err)
	}
	if b.count() != 1 {
		t.Errorf("backend calls = %d, want 1", b.count())
	}
}

// TestSingleFlight: concurrent misses of one key make one backend call,
// and every caller gets its answer.
func TestSingleFlight(t *testing.T) {
	clk := newClock()
	c, ic := interceptor(t, &configv1.MethodCache{Ttl: ttl(time.Minute)}, clk)
	var gets atomic.Int64
	c.store.Store = countingStore{Store: c.store.Store, gets: &gets}
	b := &backend{gate: make(chan struct{})}
	const n = 20
	var wg sync.WaitGroup
	results := make([]restCall, n)
	for i := range n {
		wg.Go(func() { results[i] = run(ic, b, "alice", "", 1) })
	}
	// The backend is held until every caller has looked the key up and
	// the one call has looked again (n+1 reads): the callers overlap.
	waitFor(t, func() bool { return gets.Load() >= n+1 })
	close(b.gate)
	wg.Wait()
	for i, r := range results {
		if r.err != nil || r.resp.GetId() != 1 {
			t.Errorf("caller %d: got %v, %v; want shelf 1", i, r.resp, r.err)
		}
	}
	if b.count() != 1 {
		t.Errorf("backend calls = %d, want 1", b.count())
	}
}

// TestErrorsNotCached: an error answers the call and is not kept; the
// next call reaches the backend again.
func TestErrorsNotCached(t *testing.T) {
	clk := newClock()
	_, ic := interceptor(t, &configv1.MethodCache{Ttl: ttl(time.Minute)}, clk)
	b := &backend{err: status.Error(codes.Unavailable, "down")}
	for range 2 {
		if got := run(ic, b, "", "", 1); status.Code(got.err) != codes.Unavailable {
			t.Errorf("got %v, want UNAVAILABLE", got.err)
		}
	}
	if b.count() != 2 {
		t.Errorf("backend calls = %d, want 2", b.count())
	}
}

// TestBackendCacheControl: the backend's Cache-Control is honoured:
// no-store and no-cache keep nothing, private keeps nothing in a shared
// cache, max-age shortens the ttl.
func TestBackendCacheControl(t *testing.T) {
	for _, tc := range []struct {
		cc     string
		shared bool
		calls  int // backend calls for two calls 5s apart
	}{
		{"no-store", false, 2},
		{"No-Cache", false, 2},
		{"private", true, 2},
		{"private, max-age=30", false, 1},
		{"max-age=3", false, 2},
		{"max-age=10", false, 1},
		{"max-age=oops", false, 2},
	} {
		clk := newClock()
		_, ic := interceptor(t, &configv1.MethodCache{Ttl: ttl(time.Minute), Shared: tc.shared}, clk)
		b := &backend{header: map[string]string{"cache-control": tc.cc}}
		run(ic, b, "", "", 1)
		clk.advance(5 * time.Second)
		run(ic, b, "", "", 1)
		if b.count() != tc.calls {
			t.Errorf("Cache-Control %q (shared %v): backend calls %d, want %d", tc.cc, tc.shared, b.count(), tc.calls)
		}
	}
}

// TestPurge: Purge drops a method's answers, or those under a key
// prefix; a method that is not cached or a prefix outside the method's
// keys is refused.
func TestPurge(t *testing.T) {
	clk := newClock()
	c, ic := interceptor(t, &configv1.MethodCache{Ttl: ttl(time.Minute)}, clk)
	b := &backend{}
	for _, who := range []string{"alice", "bob"} {
		run(ic, b, who, "", 1)
		run(ic, b, who, "", 2)
	}
	ctx := context.Background()
	const m = "/example.bookstore.v1.BookstoreService/GetShelf|"
	if n, err := c.Purge(ctx, "example.bookstore.v1.BookstoreService.GetShelf", m+"principal=alice|"); n != 2 || err != nil {
		t.Errorf("Purge(alice) = %d, %v; want 2", n, err)
	}
	if n, err := c.Purge(ctx, "/example.bookstore.v1.BookstoreService/GetShelf", ""); n != 2 || err != nil {
		t.Errorf("Purge(method) = %d, %v; want 2", n, err)
	}
	if _, err := c.Purge(ctx, "example.bookstore.v1.BookstoreService.ListShelves", ""); status.Code(err) != codes.NotFound {
		t.Errorf("Purge(uncached method): %v, want NOT_FOUND", err)
	}
	if _, err := c.Purge(ctx, "example.bookstore.v1.BookstoreService.GetShelf", "/other|"); status.Code(err) != codes.InvalidArgument {
		t.Errorf("Purge(prefix of another method): %v, want INVALID_ARGUMENT", err)
	}
	if _, err := c.Purge(ctx, "not a method", ""); status.Code(err) != codes.InvalidArgument {
		t.Errorf("Purge(bad selector): %v, want INVALID_ARGUMENT", err)
	}
	if got := run(ic, b, "alice", "", 1); got.resp.GetId() != 5 {
		t.Errorf("after purge: shelf %d, want 5 (a miss)", got.resp.GetId())
	}
}

// countingStore counts reads.
type countingStore struct {
	Store
	gets *atomic.Int64
}

func (s countingStore) Get(ctx context.Context, key string) ([]byte, bool, error) {
	s.gets.Add(1)
	return s.Store.Get(ctx, key)
}
