package snapshot

import (
	"strings"
	"testing"

	"github.com/portico-gw/portico/config"
	"github.com/portico-gw/portico/gcpolicy"
)

// TestBuildChecksRuntime: the runtime section is checked when the
// snapshot is built, its errors at their key paths, and the snapshot
// carries the settings the command applies.
func TestBuildChecksRuntime(t *testing.T) {
	build := func(yaml string) (*Snapshot, error) {
		f, err := config.Parse([]byte("listen: {http: \"127.0.0.1:0\"}\n"+yaml), t.TempDir())
		if err != nil {
			return nil, err
		}
		return Build(f, Options{Check: true})
	}
	for _, tc := range []struct{ yaml, want string }{
		{"runtime: {memory_headroom: lots}\n", `runtime.memory_headroom: "lots" is not a size`},
		{"runtime: {memory_headroom: 1MiB}\n", `runtime.memory_headroom: "1MiB" is not a size of at least 16MiB`},
		{"runtime: {gc_percent: 20000}\n", "runtime.gc_percent"},
	} {
		if _, err := build(tc.yaml); err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%q: got %v, want an error with %q", tc.yaml, err, tc.want)
		}
	}
	s, err := build("runtime: {gc_percent: 250, memory_headroom: 256MiB}\n")
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if got := s.Runtime(); got.GCPercent() != 250 || got.Headroom() != 256<<20 {
		t.Errorf("Runtime(): got %d %d, want 250 %d", got.GCPercent(), got.Headroom(), 256<<20)
	}
	d, err := build("")
	if err != nil {
		t.Fatal(err)
	}
	defer d.Close()
	if got := d.Runtime(); got != gcpolicy.Defaults() {
		t.Errorf("Runtime() without the section: got %+v, want the defaults", got)
	}
}
