package server

import (
	"context"
	"errors"
	"sync"
	"time"

	configv1 "github.com/portico-gw/portico/gen/portico/config/v1"
	"github.com/portico-gw/portico/limits"
	"github.com/portico-gw/portico/snapshot"
	"google.golang.org/protobuf/proto"
)

// Rebuild loads the config again and builds a snapshot from it (the
// command that runs the server provides it: it knows the config file and
// how snapshots are built).
type Rebuild func(ctx context.Context, current *snapshot.Snapshot) (*snapshot.Snapshot, error)

// ReloadStatus is the outcome of the last reload.
type ReloadStatus struct {
	// At is when it ended; zero when no reload was tried.
	At time.Time
	// Err is why it failed; nil when it succeeded.
	Err error
	// Count is the number of reloads tried, and Failed how many failed.
	Count, Failed int
	// RestartNeeded lists the changed settings a reload cannot apply
	// (listen addresses, listener limits, TLS files, telemetry): the rest
	// of the new config serves, these keep their running values.
	RestartNeeded []string
}

type reloader struct {
	mu      sync.Mutex // one reload at a time
	rebuild Rebuild
	status  ReloadStatus
}

// errNoRebuild is returned by Reload on a server that cannot rebuild.
var errNoRebuild = errors.New("reload is not available: the server was started without a way to rebuild its config")

// SetRebuild gives the server its way to rebuild the snapshot.
func (s *Server) SetRebuild(r Rebuild) {
	s.reload.mu.Lock()
	defer s.reload.mu.Unlock()
	s.reload.rebuild = r
}

// Reload builds a new snapshot beside the live one and, if it builds,
// swaps it in; calls in flight finish on the old one, which is released
// once drained. A config that does not build leaves the old snapshot
// serving, and the error is returned (and kept for LastReload). Either
// way the reload is audited (WithTrigger names what started it).
func (s *Server) Reload(ctx context.Context) error {
	s.reload.mu.Lock()
	defer s.reload.mu.Unlock()
	if s.reload.rebuild == nil {
		return errNoRebuild
	}
	before := s.Snapshot().Hash()
	next, err := s.reload.rebuild(ctx, s.Snapshot())
	s.reload.status.Count++
	s.reload.status.At = time.Now()
	s.reload.status.Err = err
	s.reload.status.RestartNeeded = nil
	if err != nil {
		s.reload.status.Failed++
		s.log.Error("reload failed; the running config keeps serving", "err", err)
		s.auditReload(ctx, before, before, err)
		return err
	}
	if keys := restartNeeded(s.started, next.Config().Config); len(keys) > 0 {
		s.reload.status.RestartNeeded = keys
		s.log.Warn("reload: these changes need a restart and keep their running values", "keys", keys)
	}
	old := s.install(next)
	s.auditReload(ctx, before, next.Hash(), nil)
	if old == nil {
		return nil
	}
	go func() {
		// A replaced snapshot gets as long as a shutdown would give its
		// calls; a stream still running after that loses only what the new
		// snapshot no longer uses.
		ctx, cancel := context.WithTimeout(context.Background(), old.Limits().ShutdownGrace)
		defer cancel()
		s.retire(ctx, old)
	}()
	s.log.Info("reloaded", "methods", len(next.Catalog().Methods()))
	return nil
}

// LastReload reports the last reload's outcome.
func (s *Server) LastReload() ReloadStatus {
	s.reload.mu.Lock()
	defer s.reload.mu.Unlock()
	return s.reload.status
}

// restartNeeded names the settings that differ between the config the
// server started with and next, among those a reload cannot apply: they
// shape the listeners.
func restartNeeded(started, next *configv1.Config) []string {
	var out []string
	diff := func(key string, a, b proto.Message) {
		if !proto.Equal(a, b) {
			out = append(out, key)
		}
	}
	diff("listen", started.GetListen(), next.GetListen())
	diff("tls", started.GetTls(), next.GetTls())
	diff("telemetry", started.GetTelemetry(), next.GetTelemetry())
	a, b := limits.From(started), limits.From(next)
	if a.MaxHeaderBytes != b.MaxHeaderBytes || a.ReadHeaderTimeout != b.ReadHeaderTimeout || a.IdleTimeout != b.IdleTimeout ||
		a.MaxConcurrentStreams != b.MaxConcurrentStreams || a.MaxInFlight != b.MaxInFlight || a.MaxBodyBytesInFlight != b.MaxBodyBytesInFlight ||
		a.KeepaliveTime != b.KeepaliveTime || a.KeepaliveTimeout != b.KeepaliveTimeout || a.MinPingInterval != b.MinPingInterval {
		out = append(out, "limits (listener settings)")
	}
	return out
}
