package gcpolicy

import (
	"errors"
	"testing"

	"github.com/portico-gw/portico/config"
	configv1 "github.com/portico-gw/portico/gen/portico/config/v1"
)

func TestFromConfig(t *testing.T) {
	for _, tc := range []struct {
		name         string
		rt           *configv1.Runtime
		wantPercent  int
		wantHeadroom int64
	}{
		{"unset", nil, DefaultGCPercent, DefaultHeadroom},
		{"empty", &configv1.Runtime{}, DefaultGCPercent, DefaultHeadroom},
		{"percent", &configv1.Runtime{GcPercent: 150}, 150, DefaultHeadroom},
		{"headroom", &configv1.Runtime{MemoryHeadroom: "64MiB"}, DefaultGCPercent, 64 << 20},
		{"both", &configv1.Runtime{GcPercent: 800, MemoryHeadroom: "1GiB"}, 800, 1 << 30},
	} {
		s, err := FromConfig(tc.rt)
		if err != nil {
			t.Fatalf("%s: FromConfig: %v", tc.name, err)
		}
		if s.GCPercent() != tc.wantPercent || s.Headroom() != tc.wantHeadroom {
			t.Errorf("%s: got percent %d headroom %d, want %d %d", tc.name, s.GCPercent(), s.Headroom(), tc.wantPercent, tc.wantHeadroom)
		}
	}
}

func TestFromConfigRefusesBadHeadroom(t *testing.T) {
	for _, h := range []string{"lots", "-5MiB", "8MiB", "0"} {
		_, err := FromConfig(&configv1.Runtime{MemoryHeadroom: h})
		var ce config.Errors
		if !errors.As(err, &ce) || len(ce) != 1 || ce[0].Field != "runtime.memory_headroom" {
			t.Errorf("memory_headroom %q: got %v, want one config error at runtime.memory_headroom", h, err)
		}
	}
}

// TestLimitFollowsBase: the headroom bounds a small process; a process
// holding more than the headroom gets room for its own size (Go's default
// collection point), never less.
func TestLimitFollowsBase(t *testing.T) {
	s := Defaults()
	for _, tc := range []struct {
		base uint64
		want int64
	}{
		{0, DefaultHeadroom},
		{20 << 20, 20<<20 + DefaultHeadroom},
		{DefaultHeadroom, 2 * DefaultHeadroom},
		{300 << 20, 600 << 20},
	} {
		if got := s.Limit(tc.base); got != tc.want {
			t.Errorf("Limit(%d): got %d, want %d", tc.base, got, tc.want)
		}
	}
}
