package scalegen

import (
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"runtime"
	"syscall"
	"testing"
	"time"

	"github.com/portico-gw/portico/config"
	"github.com/portico-gw/portico/snapshot"
	"google.golang.org/protobuf/proto"
)

// build writes the generated catalog of n routes and its config to a
// temporary folder and builds a snapshot of it (as bench/gateway does,
// every message dynamic).
func build(tb testing.TB, n int) *snapshot.Snapshot {
	tb.Helper()
	dir, cfg := prepare(tb, n)
	return buildFrom(tb, dir, cfg)
}

// prepare writes the generated catalog of n routes to a temporary folder
// and returns the folder and the config serving it.
func prepare(tb testing.TB, n int) (dir string, cfg []byte) {
	tb.Helper()
	dir = tb.TempDir()
	data, err := proto.Marshal(Set(n))
	if err != nil {
		tb.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "scale.binpb"), data, 0o600); err != nil {
		tb.Fatal(err)
	}
	// The backend is never called: building does not dial.
	return dir, []byte(Config("scale.binpb", n, "127.0.0.1:1"))
}

// buildFrom loads the config (reading the descriptor set) and builds its
// snapshot: what a gateway does at start and on each reload.
func buildFrom(tb testing.TB, dir string, cfgData []byte) *snapshot.Snapshot {
	tb.Helper()
	cfg, err := config.Parse(cfgData, dir)
	if err != nil {
		tb.Fatal(err)
	}
	snap, err := snapshot.Build(cfg, snapshot.Options{DynamicTypes: true})
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { snap.Close() })
	return snap
}

func TestSetServesEveryRoute(t *testing.T) {
	const n = 2*PerService + 7 // a partial last service
	snap := build(t, n)
	if got, want := len(snap.Catalog().Methods()), n; got != want {
		t.Fatalf("methods: got %d, want %d", got, want)
	}
	if got, want := Services(n), 3; got != want {
		t.Errorf("Services(%d): got %d, want %d", n, got, want)
	}
	// The first, a middle and the last route are found (the backend is
	// unreachable: anything but 404 means the router matched the path).
	for _, i := range []int{0, PerService + 3, n - 1} {
		rec := httptest.NewRecorder()
		snap.Handler().ServeHTTP(rec, httptest.NewRequest(http.MethodGet, Route(i, "x"), nil))
		if rec.Code == http.StatusNotFound {
			t.Errorf("GET %s: got 404 (%s), want the route found", Route(i, "x"), rec.Body)
		}
	}
	rec := httptest.NewRecorder()
	snap.Handler().ServeHTTP(rec, httptest.NewRequest(http.MethodGet, Route(n, "x"), nil))
	if got, want := rec.Code, http.StatusNotFound; got != want {
		t.Errorf("GET %s (past the last route): got %d, want %d", Route(n, "x"), got, want)
	}
}

// BenchmarkBuild is loading the config and building the snapshot of a
// generated catalog (written once, before the loop): go run ./bench's
// load time without the process around it. cpu-µs/route is the process's
// CPU time (every goroutine, the garbage collector's too) per route: on
// a shared machine a steadier figure than the wall time. For profiles:
//
//	go test ./bench/scalegen -run '^$' -bench Build/routes=100000 -benchtime 1x -cpuprofile cpu.pprof -memprofile mem.pprof
func BenchmarkBuild(b *testing.B) {
	for _, n := range []int{10, 10000, 100000} {
		b.Run(fmt.Sprintf("routes=%d", n), func(b *testing.B) {
			dir, cfg := prepare(b, n)
			b.ReportAllocs()
			cpu0 := processCPU(b)
			for b.Loop() {
				buildFrom(b, dir, cfg)
			}
			b.ReportMetric(float64(b.Elapsed().Microseconds())/float64(b.N)/float64(n), "µs/route")
			b.ReportMetric(float64((processCPU(b)-cpu0).Microseconds())/float64(b.N)/float64(n), "cpu-µs/route")
		})
	}
}

// processCPU is the process's user and system CPU time so far.
func processCPU(tb testing.TB) time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		tb.Fatal(err)
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// BenchmarkHeap reports the live heap a built snapshot of a generated
// catalog holds per route, beyond one of 10 routes (after a GC each):
// what RSS per route comes from.
//
//	go test ./bench/scalegen -run '^$' -bench Heap -benchtime 1x
func BenchmarkHeap(b *testing.B) {
	heap := func() uint64 {
		runtime.GC()
		var ms runtime.MemStats
		runtime.ReadMemStats(&ms)
		return ms.HeapAlloc
	}
	for _, n := range []int{10000, 100000} {
		b.Run(fmt.Sprintf("routes=%d", n), func(b *testing.B) {
			var per float64
			for b.Loop() {
				small := build(b, 10)
				before := heap()
				large := build(b, n)
				after := heap()
				runtime.KeepAlive(small)
				runtime.KeepAlive(large)
				per = (float64(after) - float64(before)) / float64(n-10)
			}
			b.ReportMetric(per, "heapB/route")
		})
	}
}
