package pool_test

import (
	"errors"
	"testing"

	"github.com/portico-gw/portico/pool"
)

type conn struct {
	name   string
	closed int
}

func (c *conn) Close() error { c.closed++; return nil }

// TestReuseAndClose: the same key gives the same value until every lease
// is released; then it is closed once, and the next Acquire opens anew.
func TestReuseAndClose(t *testing.T) {
	p := pool.New()
	opens := 0
	open := func() (*conn, error) { opens++; return &conn{name: "a"}, nil }
	a1, l1, err := pool.Acquire(p, "grpc:a:target=x", open)
	if err != nil {
		t.Fatal(err)
	}
	a2, l2, err := pool.Acquire(p, "grpc:a:target=x", open)
	if err != nil {
		t.Fatal(err)
	}
	if a1 != a2 || opens != 1 {
		t.Fatalf("got %p and %p after %d opens, want one value opened once", a1, a2, opens)
	}
	if err := l1.Release(); err != nil {
		t.Fatal(err)
	}
	if err := l1.Release(); err != nil { // twice: no-op
		t.Fatal(err)
	}
	if a1.closed != 0 {
		t.Fatalf("closed %d times with a lease left, want 0", a1.closed)
	}
	if err := l2.Release(); err != nil {
		t.Fatal(err)
	}
	if a1.closed != 1 || p.Len() != 0 {
		t.Fatalf("closed %d times, %d pooled; want 1 and 0", a1.closed, p.Len())
	}
	a3, l3, err := pool.Acquire(p, "grpc:a:target=x", open)
	if err != nil {
		t.Fatal(err)
	}
	defer l3.Release()
	if a3 == a1 || opens != 2 {
		t.Errorf("after the last release: got the old value (%v) or %d opens, want a new one", a3 == a1, opens)
	}
}

// TestChangedSettingsOpenNew: another key is another value; a reload that
// changed one integration keeps the other's value.
func TestChangedSettingsOpenNew(t *testing.T) {
	p := pool.New()
	a, la, _ := pool.Acquire(p, "a:v1", func() (*conn, error) { return &conn{name: "a"}, nil })
	b, lb, _ := pool.Acquire(p, "b:v1", func() (*conn, error) { return &conn{name: "b"}, nil })
	// The new snapshot: a unchanged, b changed.
	a2, la2, _ := pool.Acquire(p, "a:v1", func() (*conn, error) { return &conn{name: "a again"}, nil })
	b2, lb2, _ := pool.Acquire(p, "b:v2", func() (*conn, error) { return &conn{name: "b2"}, nil })
	// The old snapshot drained and released.
	la.Release()
	lb.Release()
	if a2 != a || a.closed != 0 {
		t.Errorf("unchanged value: reused %v, closed %d; want reused, 0", a2 == a, a.closed)
	}
	if b2 == b || b.closed != 1 {
		t.Errorf("changed value: reused %v, old closed %d; want new, 1", b2 == b, b.closed)
	}
	la2.Release()
	lb2.Release()
	if p.Len() != 0 {
		t.Errorf("%d values left, want 0", p.Len())
	}
}

func TestOpenError(t *testing.T) {
	p := pool.New()
	boom := errors.New("boom")
	_, l, err := pool.Acquire(p, "k", func() (*conn, error) { return nil, boom })
	if !errors.Is(err, boom) || l != nil {
		t.Errorf("got %v, %v; want the open error and no lease", l, err)
	}
	if p.Len() != 0 {
		t.Errorf("a failed open was pooled")
	}
}

func TestTypeMismatch(t *testing.T) {
	p := pool.New()
	_, l, err := pool.Acquire(p, "k", func() (*conn, error) { return &conn{}, nil })
	if err != nil {
		t.Fatal(err)
	}
	defer l.Release()
	if _, _, err := pool.Acquire(p, "k", func() (string, error) { return "x", nil }); err == nil {
		t.Error("got no error asking for a string under a *conn's key")
	}
}
