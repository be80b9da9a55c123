package main

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"time"
)

// profileRound fetches a CPU profile of the Portico whose admin listener
// is at admin for the seconds of a measured round, from its
// /debug/pprof/profile, and writes it to dir/name.pprof: what `go tool pprof` reads. It returns
// a function that waits for the profile and reports its error.
func profileRound(ctx context.Context, admin string, d time.Duration, dir, name string) func() error {
	seconds := max(1, int(d/time.Second)-1)
	done := make(chan error, 1)
	go func() {
		done <- fetchProfile(ctx, fmt.Sprintf("http://%s/debug/pprof/profile?seconds=%d", admin, seconds), filepath.Join(dir, profileName(name)))
	}()
	return func() error { return <-done }
}

// saveHeld writes the heap (after a GC) and goroutine profiles of the
// Portico whose admin listener is at admin to dir/name-heap.pprof and
// dir/name-goroutine.pprof, and its runtime.MemStats (the text heap
// profile's end: stacks, heap, spans in use) to dir/name-memstats.pprof:
// what its held connections are made of.
func saveHeld(ctx context.Context, admin, dir, name string) error {
	for _, p := range []string{"heap?gc=1", "goroutine", "heap?debug=1"} {
		kind, _, _ := strings.Cut(p, "?")
		if strings.HasSuffix(p, "debug=1") {
			kind = "memstats"
		}
		if err := fetchProfile(ctx, fmt.Sprintf("http://%s/debug/pprof/%s", admin, p), filepath.Join(dir, profileName(name+"-"+kind))); err != nil {
			return err
		}
	}
	return nil
}

// fetchProfile GETs url (on loopback the admin listener needs no token)
// and writes the body of a 200 to path.
func fetchProfile(ctx context.Context, url, path string) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return err
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("GET %s: %s", url, resp.Status)
	}
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	if _, err := io.Copy(f, resp.Body); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}

// profileName makes a file name of a target's name.
func profileName(name string) string {
	return strings.NewReplacer(" ", "-", "/", "-", ":", "-", "[", "", "]", "").Replace(name) + ".pprof"
}
