package server

import (
	"context"
	"os"
	"path/filepath"
	"sync"
	"time"

	"github.com/fsnotify/fsnotify"
	"github.com/portico-gw/portico/snapshot"
)

// WatchInputs reloads the server when a file the current snapshot was
// built from changes, until ctx ends. Changes are debounced (an editor's
// write, rename and chmod are one reload), and directories are watched
// rather than files, so a file replaced by a rename is seen. After each
// reload the watched set follows the new snapshot's inputs.
func (s *Server) WatchInputs(ctx context.Context, debounce time.Duration) error {
	w, err := fsnotify.NewWatcher()
	if err != nil {
		return err
	}
	if debounce <= 0 {
		debounce = 200 * time.Millisecond
	}
	var mu sync.Mutex
	watched := map[string]bool{} // directories
	inputs := map[string]bool{}  // files and folders that matter
	follow := func(snap *snapshot.Snapshot) {
		mu.Lock()
		defer mu.Unlock()
		clear(inputs)
		want := map[string]bool{}
		for _, p := range snap.Inputs() {
			p = filepath.Clean(p)
			inputs[p] = true
			dir := p
			if st, err := os.Stat(p); err != nil || !st.IsDir() {
				dir = filepath.Dir(p)
			}
			want[dir] = true
		}
		for d := range watched {
			if !want[d] {
				_ = w.Remove(d)
				delete(watched, d)
			}
		}
		for d := range want {
			if !watched[d] {
				if err := w.Add(d); err == nil {
					watched[d] = true
				}
			}
		}
	}
	relevant := func(name string) bool {
		mu.Lock()
		defer mu.Unlock()
		name = filepath.Clean(name)
		for p := range inputs {
			if name == p || filepath.Dir(name) == p { // the file, or a file in a watched folder
				return true
			}
		}
		return false
	}
	follow(s.Snapshot())
	go func() {
		defer w.Close()
		var timer *time.Timer
		fire := make(chan struct{}, 1)
		for {
			select {
			case <-ctx.Done():
				return
			case ev, ok := <-w.Events:
				if !ok {
					return
				}
				if !relevant(ev.Name) {
					continue
				}
				if timer == nil {
					timer = time.AfterFunc(debounce, func() {
						select {
						case fire <- struct{}{}:
						default:
						}
					})
				} else {
					timer.Reset(debounce)
				}
			case <-fire:
				if err := s.Reload(WithTrigger(ctx, "file watcher")); err == nil {
					follow(s.Snapshot())
				}
			case err, ok := <-w.Errors:
				if !ok {
					return
				}
				s.log.Warn("watching the config files", "err", err)
			}
		}
	}()
	return nil
}
