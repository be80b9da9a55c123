package apikey_test

import (
	"context"
	"errors"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/portico-gw/portico/auth/apikey"
	"github.com/portico-gw/portico/ratelimit/redistest"
)

// clock is a settable clock for expiry and grace periods.
type clock struct{ ns atomic.Int64 }

func newClock() *clock {
	c := &clock{}
	c.ns.Store(time.Date(2030, 1, 2, 3, 4, 5, 0, time.UTC).UnixNano())
	return c
}

func (c *clock) now() time.Time               { return time.Unix(0, c.ns.Load()) }
func (c *clock) advance(d time.Duration)      { c.ns.Add(int64(d)) }
func (c *clock) at(d time.Duration) time.Time { return c.now().Add(d) }

func newStore(t *testing.T, addr string, c *clock) *apikey.Store {
	t.Helper()
	s := apikey.NewStore(apikey.StoreOptions{Address: addr, Provider: "partners", Poll: 20 * time.Millisecond,
		Timeout: 500 * time.Millisecond, Now: c.now})
	t.Cleanup(func() { _ = s.Close() })
	return s
}

// eventually waits (at most 2s) for cond, polling.
func eventually(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(2 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("after 2s: %s", what)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

func TestStoreSharedAcrossReplicas(t *testing.T) {
	rd := redistest.Start(t)
	c := newClock()
	a, b := newStore(t, rd.Addr, c), newStore(t, rd.Addr, c)
	ctx := context.Background()

	rec, secret, err := a.Create(ctx, apikey.Record{ID: "k1", Plan: "gold"})
	if err != nil {
		t.Fatal(err)
	}
	if rec.Principal != "k1" || rec.SHA256 != apikey.Hash(secret) {
		t.Errorf("Create: got principal %q, sha256 %q, want k1 and the secret's hash", rec.Principal, rec.SHA256)
	}
	if got := a.Lookup(secret); got == nil || got.ID != "k1" || got.Plan != "gold" {
		t.Fatalf("Lookup on the replica that created it: got %+v, want k1 at once", got)
	}
	eventually(t, "replica b accepts the new key", func() bool { return b.Lookup(secret) != nil })
	if got := b.Lookup(secret + "x"); got != nil {
		t.Errorf("Lookup(another secret): got %+v, want nil", got)
	}
	if _, _, err := a.Create(ctx, apikey.Record{ID: "k1"}); !errors.Is(err, apikey.ErrExists) {
		t.Errorf("Create twice: got %v, want ErrExists", err)
	}

	if _, err := a.Update(ctx, "k1", func(r *apikey.Record) error { r.Disabled = true; return nil }); err != nil {
		t.Fatal(err)
	}
	eventually(t, "replica b refuses the disabled key", func() bool { return b.Lookup(secret) == nil })
	if _, err := b.Update(ctx, "k1", func(r *apikey.Record) error {
		r.Disabled, r.Principal, r.SHA256 = false, "acme", "tampered"
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	eventually(t, "replica a accepts the key enabled again, as acme", func() bool {
		r := a.Lookup(secret)
		return r != nil && r.Principal == "acme"
	})

	if err := b.Revoke(ctx, "k1"); err != nil {
		t.Fatal(err)
	}
	eventually(t, "replica a refuses the revoked key", func() bool { return a.Lookup(secret) == nil })
	if _, err := a.Get(ctx, "k1"); !errors.Is(err, apikey.ErrNotFound) {
		t.Errorf("Get after Revoke: got %v, want ErrNotFound", err)
	}
	if err := a.Revoke(ctx, "k1"); !errors.Is(err, apikey.ErrNotFound) {
		t.Errorf("Revoke twice: got %v, want ErrNotFound", err)
	}
}

func TestStoreExpiryAndRotation(t *testing.T) {
	rd := redistest.Start(t)
	c := newClock()
	s := newStore(t, rd.Addr, c)
	ctx := context.Background()
	_, old, err := s.Create(ctx, apikey.Record{ID: "k", Expires: c.at(time.Hour)})
	if err != nil {
		t.Fatal(err)
	}
	rec, fresh, err := s.Rotate(ctx, "k", 10*time.Minute)
	if err != nil {
		t.Fatal(err)
	}
	if fresh == old || rec.SHA256 != apikey.Hash(fresh) || rec.PreviousSHA256 != apikey.Hash(old) {
		t.Fatalf("Rotate: got %+v, want the new secret's hash and the old one's as previous", rec)
	}
	if s.Lookup(old) == nil || s.Lookup(fresh) == nil {
		t.Fatalf("within the grace period: got old %v, new %v, want both accepted", s.Lookup(old) != nil, s.Lookup(fresh) != nil)
	}
	c.advance(10 * time.Minute)
	if s.Lookup(old) != nil {
		t.Error("old secret after the grace period: accepted, want refused")
	}
	if s.Lookup(fresh) == nil {
		t.Error("new secret after the grace period: refused, want accepted")
	}
	c.advance(50 * time.Minute)
	if s.Lookup(fresh) != nil {
		t.Error("after expire time: accepted, want refused")
	}
	if _, again, err := s.Rotate(ctx, "k", 0); err != nil || s.Lookup(fresh) != nil {
		t.Errorf("Rotate without grace: err %v, previous accepted %v, want the previous refused at once", err, s.Lookup(fresh) != nil)
	} else if r, _ := s.Get(ctx, "k"); r.PreviousSHA256 != "" || r.SHA256 != apikey.Hash(again) {
		t.Errorf("Rotate without grace: got %+v, want no previous secret", r)
	}
}

func TestStoreKeepsKnownKeysWhileRedisIsDown(t *testing.T) {
	rd := redistest.StartPersistent(t)
	c := newClock()
	s := newStore(t, rd.Addr, c)
	ctx := context.Background()
	_, known, err := s.Create(ctx, apikey.Record{ID: "known"})
	if err != nil {
		t.Fatal(err)
	}
	rd.Kill()
	if err := s.Sync(ctx); err == nil {
		t.Fatal("Sync with Redis down: got nil, want an error")
	}
	if s.Lookup(known) == nil {
		t.Error("known key while Redis is down: refused, want accepted")
	}
	if _, _, err := s.Create(ctx, apikey.Record{ID: "new"}); err == nil {
		t.Error("Create while Redis is down: got nil error, want one")
	}
	rd.Restart()
	eventually(t, "the store reaches Redis again", func() bool { return s.Sync(ctx) == nil })
	if s.Lookup(known) == nil {
		t.Error("known key after Redis restarted with its append-only file: refused, want accepted")
	}
	// A replica that starts now reads the keys kept across the restart.
	late := newStore(t, rd.Addr, c)
	eventually(t, "a new replica reads the kept key", func() bool { return late.Lookup(known) != nil })
	_, added, err := late.Create(ctx, apikey.Record{ID: "added"})
	if err != nil {
		t.Fatal(err)
	}
	eventually(t, "the first replica catches up", func() bool { return s.Lookup(added) != nil })
}

func TestStoreConcurrentUpdatesAllApply(t *testing.T) {
	rd := redistest.Start(t)
	c := newClock()
	a, b := newStore(t, rd.Addr, c), newStore(t, rd.Addr, c)
	ctx := context.Background()
	if _, _, err := a.Create(ctx, apikey.Record{ID: "k"}); err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	for i, s := range []*apikey.Store{a, b, a, b} {
		wg.Add(1)
		go func() {
			defer wg.Done()
			_, err := s.Update(ctx, "k", func(r *apikey.Record) error {
				r.APIs = append(r.APIs, string(rune('a'+i)))
				return nil
			})
			if err != nil {
				t.Errorf("Update %d: %v", i, err)
			}
		}()
	}
	wg.Wait()
	r, err := a.Get(ctx, "k")
	if err != nil {
		t.Fatal(err)
	}
	if len(r.APIs) != 4 {
		t.Errorf("after four concurrent updates: got APIs %v, want four entries (none lost)", r.APIs)
	}
	list, err := b.List(ctx)
	if err != nil || len(list) != 1 || list[0].ID != "k" {
		t.Errorf("List: got %v, %v, want [k]", list, err)
	}
}
