package idlepark

import (
	"bytes"
	"net"
	"net/http"
	"runtime"
	"sync/atomic"
	"testing"
)

// TestIdleConnectionCost holds n idle keep-alive connections on a server
// with and without parking and measures what each costs the process
// (heap and stacks in use, after a collection; the test's own side of
// each connection, a socket and no buffer, is counted in both). Run with
// -v to see the figures; the parked one must be the smaller.
func TestIdleConnectionCost(t *testing.T) {
	if testing.Short() {
		t.Skip("opens hundreds of connections")
	}
	const n = 200
	base := runtime.NumGoroutine()
	var plain, parked float64
	t.Run("net/http alone", func(t *testing.T) { plain = idleCost(t, n, false) })
	// The first server's connections are gone before the second is measured.
	waitFor(t, "the first server's goroutines to end", func() bool { return runtime.NumGoroutine() <= base })
	t.Run("parked", func(t *testing.T) { parked = idleCost(t, n, true) })
	t.Logf("%d idle connections: %.2f KB each with net/http alone, %.2f KB parked (%.2fx)", n, plain/1024, parked/1024, parked/plain)
	if parked >= plain {
		t.Fatalf("got %.0f bytes per parked connection, want less than net/http's %.0f", parked, plain)
	}
}

// idleCost returns the bytes of heap and stack in use per idle
// connection held.
func idleCost(t *testing.T, n int, park bool) float64 {
	var idle atomic.Int64
	srv := &http.Server{Handler: echo, ConnState: func(_ net.Conn, s http.ConnState) {
		if s == http.StateIdle {
			idle.Add(1)
		}
	}}
	l, addr := serve(t, srv, park)
	// One connection first: what the server sets up once is not counted.
	warm := dialRaw(t, addr)
	warm.Close()
	before := inUse()
	conns := make([]net.Conn, n)
	for i := range conns {
		conns[i] = dialRaw(t, addr)
	}
	waitFor(t, "every connection idle", func() bool { return idle.Load() >= int64(n+1) })
	if park {
		parkedAre(t, l, n)
	}
	after := inUse()
	for _, c := range conns {
		c.Close()
	}
	return float64(int64(after)-int64(before)) / float64(n)
}

// dialRaw opens a connection and makes one request on it, reading the
// answer without a buffer of its own.
func dialRaw(t *testing.T, addr string) net.Conn {
	t.Helper()
	c, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	if _, err := c.Write([]byte(get("/a"))); err != nil {
		t.Fatal(err)
	}
	var got []byte
	buf := make([]byte, 512)
	for !bytes.HasSuffix(got, []byte("GET /a 0")) {
		k, err := c.Read(buf)
		if err != nil {
			t.Fatalf("reading the answer: %v (got %q)", err, got)
		}
		got = append(got, buf[:k]...)
	}
	return c
}

// inUse is the heap and stack memory in use after a collection.
func inUse() uint64 {
	runtime.GC()
	runtime.GC()
	var m runtime.MemStats
	runtime.ReadMemStats(&m)
	return m.HeapInuse + m.StackInuse
}
