package gcpolicy

import (
	"log/slog"
	"math"
	"runtime/debug"
	"runtime/metrics"
	"strings"
	"sync"

	"github.com/docker/go-units"
)

// Governor applies Settings to the process. One per process: the GC
// percent and the memory limit are the runtime's, not a snapshot's.
type Governor struct {
	mu sync.Mutex
	// envPercent and envLimit are true when the operator set GOGC or
	// GOMEMLIMIT: Go's own variables win, and the Governor leaves that
	// setting alone.
	envPercent, envLimit bool
	// base is the memory measured at the last Apply; limit the limit
	// the Governor set then (0: none).
	base  uint64
	limit int64
}

// Applied is the runtime's state after an Apply, read back from the
// runtime (runtime/metrics), not from what was asked.
type Applied struct {
	// GCPercent is the collector's percentage in effect (-1: off).
	GCPercent int
	// Limit is the soft memory limit in effect (math.MaxInt64: none).
	Limit int64
	// Base is the memory the runtime held after a full collection.
	Base uint64
	// FromEnv lists the environment variables that won (GOGC,
	// GOMEMLIMIT).
	FromEnv []string
}

// New makes the process's Governor; lookup reads the environment
// (os.LookupEnv). A variable set to the empty string counts as unset, as
// Go's runtime reads it.
func New(lookup func(string) (string, bool)) *Governor {
	set := func(name string) bool { v, ok := lookup(name); return ok && v != "" }
	return &Governor{envPercent: set("GOGC"), envLimit: set("GOMEMLIMIT")}
}

// Apply collects garbage in full (returning the freed memory to the
// system), measures what the runtime still holds (the serving snapshots,
// the connections' state) and sets the GC percent and the soft memory
// limit from s and that measure. The gateway calls it after a snapshot is
// built and after a replaced one is closed; it costs one full collection.
func (g *Governor) Apply(s Settings) Applied {
	g.mu.Lock()
	defer g.mu.Unlock()
	if !g.envPercent {
		debug.SetGCPercent(s.gcPercent)
	}
	debug.FreeOSMemory()
	g.base = held()
	if !g.envLimit {
		g.limit = 0
		if currentPercent() >= 0 {
			// With GOGC=off and no GOMEMLIMIT the operator asked
			// for no collection at all: no limit is set either.
			g.limit = s.Limit(g.base)
		}
		debug.SetMemoryLimit(cmp(g.limit))
	}
	return g.state()
}

// Expect makes room for one more snapshot as large as the measured one
// while it is built beside the serving one (a reload): without it, a
// large catalog's reload would find the process at its limit and the
// collector would run without pause until the old snapshot is closed.
// The next Apply measures again.
func (g *Governor) Expect() {
	g.mu.Lock()
	defer g.mu.Unlock()
	if g.envLimit || g.limit == 0 {
		return
	}
	g.limit += int64(min(g.base, 1<<61))
	debug.SetMemoryLimit(g.limit)
}

// state reads the runtime's settings back.
func (g *Governor) state() Applied {
	a := Applied{GCPercent: currentPercent(), Limit: debug.SetMemoryLimit(-1), Base: g.base}
	if g.envPercent {
		a.FromEnv = append(a.FromEnv, "GOGC")
	}
	if g.envLimit {
		a.FromEnv = append(a.FromEnv, "GOMEMLIMIT")
	}
	return a
}

// cmp is the limit to give the runtime: none (math.MaxInt64, Go's
// default) for 0.
func cmp(limit int64) int64 {
	if limit == 0 {
		return math.MaxInt64
	}
	return limit
}

// held is the memory the runtime's limit counts: everything it mapped
// minus the heap it returned to the system (runtime/debug.SetMemoryLimit's
// definition).
func held() uint64 {
	s := []metrics.Sample{{Name: "/memory/classes/total:bytes"}, {Name: "/memory/classes/heap/released:bytes"}}
	metrics.Read(s)
	return s[0].Value.Uint64() - s[1].Value.Uint64()
}

// currentPercent is the GC percent in effect (-1: off).
func currentPercent() int {
	s := []metrics.Sample{{Name: "/gc/gogc:percent"}}
	metrics.Read(s)
	return int(s[0].Value.Uint64())
}

// Log writes the state to log (at start and after each reload).
func (a Applied) Log(log *slog.Logger) {
	limit := "none"
	if a.Limit != math.MaxInt64 {
		limit = units.BytesSize(float64(a.Limit))
	}
	log.Info("memory policy", "gc_percent", a.GCPercent, "memory_limit", limit,
		"measured", units.BytesSize(float64(a.Base)), "from_env", strings.Join(a.FromEnv, ","))
}
