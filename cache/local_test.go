package cache

import (
	"bytes"
	"context"
	"fmt"
	"testing"
	"time"

	"google.golang.org/grpc/metadata"
)

// TestLocalBoundByBytes: the local store keeps at most max bytes of keys
// and values, dropping the least recently used first (a read makes an
// entry recent), and never keeps a value larger than itself.
func TestLocalBoundByBytes(t *testing.T) {
	ctx := context.Background()
	l := NewLocal(100, nil)
	val := bytes.Repeat([]byte("x"), 29) // 1-byte key + 29 = 30 bytes each
	for _, k := range []string{"a", "b", "c"} {
		if n, err := l.Set(ctx, k, val, time.Hour); n != 0 || err != nil {
			t.Fatalf("Set(%s) = %d, %v; want 0 evictions", k, n, err)
		}
	}
	if got, want := l.Bytes(), int64(90); got != want {
		t.Fatalf("Bytes() = %d, want %d", got, want)
	}
	if _, ok, _ := l.Get(ctx, "a"); !ok { // a is now the most recent
		t.Fatal("Get(a) missed")
	}
	n, _ := l.Set(ctx, "d", val, time.Hour)
	if n != 1 {
		t.Errorf("Set(d) evicted %d, want 1", n)
	}
	for k, want := range map[string]bool{"a": true, "b": false, "c": true, "d": true} {
		if _, ok, _ := l.Get(ctx, k); ok != want {
			t.Errorf("Get(%s) found = %v, want %v", k, ok, want)
		}
	}
	if got, want := l.Bytes(), int64(90); got != want {
		t.Errorf("Bytes() = %d, want %d", got, want)
	}
	// Replacing a value counts its new size only.
	if _, err := l.Set(ctx, "a", val[:9], time.Hour); err != nil {
		t.Fatal(err)
	}
	if got, want := l.Bytes(), int64(70); got != want {
		t.Errorf("after replacing a: Bytes() = %d, want %d", got, want)
	}
	// A value larger than the store is not kept, and drops nothing.
	if n, _ := l.Set(ctx, "huge", make([]byte, 200), time.Hour); n != 0 {
		t.Errorf("Set(huge) evicted %d, want 0", n)
	}
	if _, ok, _ := l.Get(ctx, "huge"); ok {
		t.Error("a value larger than the store was kept")
	}
	if got, want := l.Len(), 3; got != want {
		t.Errorf("Len() = %d, want %d", got, want)
	}
}

// TestLocalExpiry: a value is gone once its time to live has passed on
// the store's clock (injected: no sleeping).
func TestLocalExpiry(t *testing.T) {
	ctx := context.Background()
	clk := newClock()
	l := NewLocal(1<<20, clk.now)
	if _, err := l.Set(ctx, "k", []byte("v"), 10*time.Second); err != nil {
		t.Fatal(err)
	}
	clk.advance(9 * time.Second)
	if v, ok, _ := l.Get(ctx, "k"); !ok || string(v) != "v" {
		t.Fatalf("at 9s: Get = %q, %v; want v, true", v, ok)
	}
	clk.advance(time.Second)
	if _, ok, _ := l.Get(ctx, "k"); ok {
		t.Error("at 10s: Get found the value, want it expired")
	}
	if got := l.Bytes(); got != 0 {
		t.Errorf("Bytes() after expiry = %d, want 0", got)
	}
}

// TestLocalPurge: Purge drops the keys under a prefix and counts them;
// the empty prefix drops all.
func TestLocalPurge(t *testing.T) {
	ctx := context.Background()
	l := NewLocal(1<<20, nil)
	for i := range 3 {
		_, _ = l.Set(ctx, fmt.Sprintf("/s.S/A|principal=alice|%d", i), []byte("v"), time.Hour)
		_, _ = l.Set(ctx, fmt.Sprintf("/s.S/A|principal=bob|%d", i), []byte("v"), time.Hour)
		_, _ = l.Set(ctx, fmt.Sprintf("/s.S/B|%d", i), []byte("v"), time.Hour)
	}
	if n, _ := l.Purge(ctx, "/s.S/A|principal=alice|"); n != 3 {
		t.Errorf("Purge(alice) = %d, want 3", n)
	}
	if n, _ := l.Purge(ctx, "/s.S/A|"); n != 3 {
		t.Errorf("Purge(A) = %d, want 3", n)
	}
	if n, _ := l.Purge(ctx, ""); n != 3 {
		t.Errorf("Purge(all) = %d, want 3", n)
	}
	if l.Len() != 0 || l.Bytes() != 0 {
		t.Errorf("after purging all: Len %d, Bytes %d; want 0, 0", l.Len(), l.Bytes())
	}
}

// TestEntryRoundTrip: an entry reads back as written, metadata included;
// bytes that are not an entry are an error, not a panic.
func TestEntryRoundTrip(t *testing.T) {
	in := &entry{
		body:    []byte{8, 1, 18, 1, 'x'},
		header:  metadata.MD{"cache-control": {"max-age=5"}, "x-a": {"1", "2"}},
		trailer: metadata.MD{"x-t": {"t"}},
		fresh:   time.Unix(10, 5),
		stale:   time.Unix(20, 7),
		etag:    etagOf([]byte{8, 1}),
	}
	out, err := unmarshalEntry(in.marshal())
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(out.body, in.body) || out.etag != in.etag || !out.fresh.Equal(in.fresh) || !out.stale.Equal(in.stale) {
		t.Errorf("got %+v, want %+v", out, in)
	}
	if fmt.Sprint(out.header) != fmt.Sprint(in.header) || fmt.Sprint(out.trailer) != fmt.Sprint(in.trailer) {
		t.Errorf("metadata: got %v / %v, want %v / %v", out.header, out.trailer, in.header, in.trailer)
	}
	for _, bad := range [][]byte{{0xff}, {10, 50, 1}, {18, 3, 10, 5}} {
		if _, err := unmarshalEntry(bad); err == nil {
			t.Errorf("unmarshalEntry(%v): got no error", bad)
		}
	}
}
