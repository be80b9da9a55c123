package gcpolicy

import (
	"math"
	"runtime"
	"runtime/debug"
	"testing"
)

// keepRuntime restores the process's GC percent and memory limit after a
// test that changes them.
func keepRuntime(t *testing.T) {
	percent := debug.SetGCPercent(100)
	debug.SetGCPercent(percent)
	limit := debug.SetMemoryLimit(-1)
	t.Cleanup(func() {
		debug.SetGCPercent(percent)
		debug.SetMemoryLimit(limit)
	})
}

// env is a fake environment for New.
func env(vars map[string]string) func(string) (string, bool) {
	return func(name string) (string, bool) {
		v, ok := vars[name]
		return v, ok
	}
}

func TestApplySetsPercentAndLimit(t *testing.T) {
	keepRuntime(t)
	debug.SetGCPercent(100)
	debug.SetMemoryLimit(math.MaxInt64)
	s, err := FromConfig(nil)
	if err != nil {
		t.Fatal(err)
	}
	a := New(env(nil)).Apply(s)
	if a.GCPercent != DefaultGCPercent {
		t.Errorf("GC percent: got %d, want %d", a.GCPercent, DefaultGCPercent)
	}
	if a.Base == 0 {
		t.Fatal("measured nothing")
	}
	if want := s.Limit(a.Base); a.Limit != want {
		t.Errorf("memory limit: got %d, want %d (measured %d)", a.Limit, want, a.Base)
	}
	if got := debug.SetMemoryLimit(-1); got != a.Limit {
		t.Errorf("runtime's limit: got %d, want %d", got, a.Limit)
	}
	if len(a.FromEnv) != 0 {
		t.Errorf("from the environment: got %v, want none", a.FromEnv)
	}
}

// TestEnvironmentWins: what the operator set through GOGC or GOMEMLIMIT
// (the runtime read them at start: set here as it would have) is left
// alone, each variable for its own setting.
func TestEnvironmentWins(t *testing.T) {
	keepRuntime(t)
	s, err := FromConfig(nil)
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name        string
		vars        map[string]string
		percent     int   // as the runtime read GOGC
		limit       int64 // as the runtime read GOMEMLIMIT
		wantPercent int
		wantLimit   func(base uint64) int64
	}{
		{"GOGC", map[string]string{"GOGC": "150"}, 150, math.MaxInt64, 150, s.Limit},
		{"GOMEMLIMIT", map[string]string{"GOMEMLIMIT": "300MiB"}, 100, 300 << 20, DefaultGCPercent,
			func(uint64) int64 { return 300 << 20 }},
		{"both", map[string]string{"GOGC": "50", "GOMEMLIMIT": "1GiB"}, 50, 1 << 30, 50,
			func(uint64) int64 { return 1 << 30 }},
		{"GOGC=off", map[string]string{"GOGC": "off"}, -1, math.MaxInt64, -1,
			func(uint64) int64 { return math.MaxInt64 }},
		{"empty", map[string]string{"GOGC": "", "GOMEMLIMIT": ""}, 100, math.MaxInt64, DefaultGCPercent, s.Limit},
	} {
		debug.SetGCPercent(tc.percent)
		debug.SetMemoryLimit(tc.limit)
		a := New(env(tc.vars)).Apply(s)
		if a.GCPercent != tc.wantPercent {
			t.Errorf("%s: GC percent: got %d, want %d", tc.name, a.GCPercent, tc.wantPercent)
		}
		if want := tc.wantLimit(a.Base); a.Limit != want {
			t.Errorf("%s: memory limit: got %d, want %d", tc.name, a.Limit, want)
		}
	}
}

func TestExpectMakesRoomForASecondSnapshot(t *testing.T) {
	keepRuntime(t)
	debug.SetGCPercent(100)
	g := New(env(nil))
	a := g.Apply(Defaults())
	g.Expect()
	if got, want := debug.SetMemoryLimit(-1), a.Limit+int64(a.Base); got != want {
		t.Errorf("limit while building: got %d, want %d", got, want)
	}
	b := g.Apply(Defaults())
	if want := Defaults().Limit(b.Base); b.Limit != want {
		t.Errorf("limit after the next Apply: got %d, want %d", b.Limit, want)
	}
	// With the limit the operator's, Expect leaves it.
	debug.SetMemoryLimit(200 << 20)
	g = New(env(map[string]string{"GOMEMLIMIT": "200MiB"}))
	g.Apply(Defaults())
	g.Expect()
	if got := debug.SetMemoryLimit(-1); got != 200<<20 {
		t.Errorf("operator's limit after Expect: got %d, want %d", got, 200<<20)
	}
}

// sink keeps the garbage the load makes from being optimised away.
var sink []byte

// collections allocates total bytes of short-lived garbage and returns
// how many collections ran meanwhile.
func collections(total int) uint32 {
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	for n := 0; n < total; n += 1 << 20 {
		sink = make([]byte, 1<<20)
	}
	runtime.ReadMemStats(&after)
	return after.NumGC - before.NumGC
}

// TestLargeCatalogDoesNotThrash: with a live heap larger than the
// headroom (a large catalog), the limit follows it, and the collector
// runs no more often than Go's default would (once per live heap's worth
// of allocation), where a fixed headroom would run it many times as
// often.
func TestLargeCatalogDoesNotThrash(t *testing.T) {
	if testing.Short() {
		t.Skip("holds 256 MB")
	}
	keepRuntime(t)
	live := make([][]byte, 256)
	for i := range live {
		live[i] = make([]byte, 1<<20)
	}
	s, err := FromConfig(nil)
	if err != nil {
		t.Fatal(err)
	}
	a := New(env(nil)).Apply(s)
	if a.Base < 256<<20 {
		t.Fatalf("measured %d bytes, want at least the 256 MB held", a.Base)
	}
	const load = 2 << 30
	got := collections(load)
	// Go's default collects once per live heap allocated: 8 here.
	if bound := uint32(load/a.Base) + 3; got > bound {
		t.Errorf("collections while allocating 2 GiB over %d MB held: got %d, want at most %d", a.Base>>20, got, bound)
	}
	// The same load under a limit that does not follow the catalog (the
	// held memory plus 16 MiB) collects many times as often: what the
	// bound above would catch.
	debug.SetMemoryLimit(int64(a.Base) + 16<<20)
	fixed := collections(load)
	if fixed < 4*got {
		t.Errorf("collections under a fixed headroom: got %d, want at least 4 × %d", fixed, got)
	}
	t.Logf("collections over 2 GiB with %d MB held: %d (limit %d MB), %d with a 16 MiB headroom", a.Base>>20, got, a.Limit>>20, fixed)
	runtime.KeepAlive(live)
}
