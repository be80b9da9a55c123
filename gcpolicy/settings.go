// Package gcpolicy is the gateway's memory policy for the Go runtime: a
// higher garbage-collection percent than Go's default (the collector took
// 12–18 % of the gateway's CPU at GOGC=100) and a soft memory limit that
// follows the catalog, so that a burst of large requests is collected
// before the process grows past the catalog plus a headroom. The config's
// runtime section sets it (Settings); a Governor applies it to the process
// after each snapshot is built, leaving to Go's own GOGC and GOMEMLIMIT
// what the operator set through them.
package gcpolicy

import (
	"fmt"

	"github.com/docker/go-units"
	"github.com/portico-gw/portico/config"
	configv1 "github.com/portico-gw/portico/gen/portico/config/v1"
)

const (
	// DefaultGCPercent is runtime.gc_percent's default (see
	// docs/performance.md, "Memory policy", for the measurements).
	DefaultGCPercent = 400
	// DefaultHeadroom is runtime.memory_headroom's default.
	DefaultHeadroom = 128 << 20
	// minHeadroom is the least headroom a config may set: below it the
	// limit would make the collector run almost without pause.
	minHeadroom = 16 << 20
)

// Settings are the runtime section's values, checked.
type Settings struct {
	gcPercent int
	headroom  int64
}

// Defaults are the settings of a config without a runtime section.
func Defaults() Settings {
	return Settings{gcPercent: DefaultGCPercent, headroom: DefaultHeadroom}
}

// FromConfig checks the runtime section (nil: the defaults); its errors
// are config.Errors at the key's path.
func FromConfig(rt *configv1.Runtime) (Settings, error) {
	s := Defaults()
	if p := rt.GetGcPercent(); p > 0 {
		s.gcPercent = int(p)
	}
	if h := rt.GetMemoryHeadroom(); h != "" {
		n, err := units.RAMInBytes(h)
		if err != nil || n < minHeadroom {
			return Settings{}, config.Errors{{Field: "runtime.memory_headroom",
				Message: fmt.Sprintf("%q is not a size of at least 16MiB (e.g. 128MiB)", h)}}
		}
		s.headroom = n
	}
	return s, nil
}

// GCPercent is the collector's target percentage the settings ask for.
func (s Settings) GCPercent() int { return s.gcPercent }

// Headroom is the room above the measured memory the limit leaves.
func (s Settings) Headroom() int64 { return s.headroom }

// Limit is the soft memory limit for a process that holds base bytes
// after a full collection: base plus the larger of the headroom and base
// itself. The headroom bounds a small gateway's growth under load; for a
// catalog larger than the headroom, base+base is where Go's default
// (GOGC=100) would collect, so a large catalog is never collected more
// often than with Go's defaults.
func (s Settings) Limit(base uint64) int64 {
	b := int64(min(base, 1<<61))
	return b + max(s.headroom, b)
}
