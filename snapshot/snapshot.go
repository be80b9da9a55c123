// Package snapshot turns a checked config into an immutable snapshot:
// the catalog (methods and plain routes), the integrations, the policies
// compiled per method and route, and both doors' handlers with their
// edges. Everything is checked when the snapshot is built, never on a
// request; a reload builds a new snapshot beside the one serving and
// swaps it (package server).
package snapshot

import (
	"errors"
	"github.com/portico-gw/portico/gatewayresponses"
	"net/http"
	"sync"
	"time"

	"github.com/portico-gw/portico/call"
	"github.com/portico-gw/portico/catalog"
	"github.com/portico-gw/portico/compression"
	"github.com/portico-gw/portico/config"
	"github.com/portico-gw/portico/gcpolicy"
	"github.com/portico-gw/portico/integrations"
	"github.com/portico-gw/portico/limits"
	"github.com/portico-gw/portico/network"
	"github.com/portico-gw/portico/pipeline"
	"github.com/portico-gw/portico/requestid"
	"github.com/portico-gw/portico/transcoder"
	"github.com/portico-gw/portico/webprotocols"
)

// Snapshot is everything built from one config: immutable, checked whole
// when built, served until replaced. Its parts are read through methods.
type Snapshot struct {
	config       *config.File
	catalog      *catalog.Catalog
	pipeline     *pipeline.Pipeline
	policies     []pipeline.Policy
	rest         *transcoder.Transcoder
	handler      http.Handler
	webHandler   http.Handler
	web          *webprotocols.Edge
	limits       limits.Limits
	integrations []NamedBackend
	warnings     []*config.Error
	unchecked    []*config.Error
	hash         string
	builtAt      time.Time
	edge         *network.Edge
	ids          *requestid.IDs
	compress     *compression.Compression
	gateway      *gatewayresponses.Responses
	reserved     func(string) bool
	reflect      *reflectionFiles
	runtime      gcpolicy.Settings

	// closers run when the snapshot is closed, after its integrations
	// (policies and edges release their pooled state there).
	closers  []func() error
	inflight tracker
	closed   sync.Once
	closeErr error
}

// NamedBackend is a built integration and its name.
type NamedBackend struct {
	Name    string
	Backend integrations.Backend
}

// Config is the config the snapshot was built from.
func (s *Snapshot) Config() *config.File { return s.config }

// Catalog holds the exposed methods and the plain routes.
func (s *Snapshot) Catalog() *catalog.Catalog { return s.catalog }

// Pipeline holds every method's and route's compiled policies.
func (s *Snapshot) Pipeline() *pipeline.Pipeline { return s.pipeline }

// Policies are the policy kinds built, in kind order (none for a kind the
// config does not use): what a kind offers beyond its stages (the api_key
// providers' managed keys, the limiter's usage) is found on them by
// interface, as the REST door finds the response mapping.
func (s *Snapshot) Policies() []pipeline.Policy { return s.policies }

// Gateway is gateway_responses: the headers on every answer and the
// shape of the gateway's own refusals (nil: none configured).
func (s *Snapshot) Gateway() *gatewayresponses.Responses { return s.gateway }

// REST is the REST door's transcoder (routing, mapping, errors).
func (s *Snapshot) REST() *transcoder.Transcoder { return s.rest }

// Handler is the REST door with its edges: what runs before routing
// (client address and network rules, CORS and CSRF, the docs, the plain
// HTTP routes) around the transcoder.
func (s *Snapshot) Handler() http.Handler { return s.handler }

// WebHandler is what the gRPC listener serves on HTTP/1.1 connections:
// the same edges as Handler, gRPC-Web and Connect, and a 404 for the rest.
func (s *Snapshot) WebHandler() http.Handler { return s.webHandler }

// Runtime is the runtime section's memory policy (applied to the
// process by the command that serves, through a gcpolicy.Governor).
func (s *Snapshot) Runtime() gcpolicy.Settings { return s.runtime }

// Limits are the edge limits the config sets.
func (s *Snapshot) Limits() limits.Limits { return s.limits }

// Integrations are the built integrations, in config order.
func (s *Snapshot) Integrations() []NamedBackend { return s.integrations }

// Integration returns the integration called name, or nil.
func (s *Snapshot) Integration(name string) integrations.Backend {
	for _, nb := range s.integrations {
		if nb.Name == name {
			return nb.Backend
		}
	}
	return nil
}

// Warnings are problems that do not stop the snapshot (printed by
// `portico validate` and logged at start).
func (s *Snapshot) Warnings() []*config.Error { return s.warnings }

// Unchecked are the parts of the config a check-only build
// (Options.Check) left unchecked, each at its key: the APIs whose
// descriptors a backend's reflection gives, when Discover is off.
func (s *Snapshot) Unchecked() []*config.Error { return s.unchecked }

// Hash identifies the config the snapshot was built from (SHA-256 of its
// content, hex).
func (s *Snapshot) Hash() string { return s.hash }

// BuiltAt is when the snapshot was built.
func (s *Snapshot) BuiltAt() time.Time { return s.builtAt }

// Reserved reports the metadata names policies set for backends (the
// caller's identity): both doors drop them from what clients send.
func (s *Snapshot) Reserved() func(string) bool { return s.reserved }

// Admit is what the gRPC door does first, as the REST door's edges do:
// the call's request ID (requestid), the client's address behind trusted
// proxies and the global network rules (network.Edge). Nil when the call
// may go on.
func (s *Snapshot) Admit(info *call.Info) error {
	if s.ids != nil && info.RequestID() == "" {
		// A call translated from gRPC-Web or Connect has the ID the
		// REST listener's edges gave it.
		s.ids.Assign(info)
	}
	return s.edge.Admit(info)
}

// Reflection resolves, for server reflection, exactly the exposed
// services' files and their imports, plus the gateway's own services'
// (health, reflection) and the error details it sends.
func (s *Snapshot) Reflection() catalog.Resolver { return s.reflect }

// Close releases the snapshot's integrations (their pooled connections
// close when no other snapshot uses them) and the policies' pooled state.
// Closing twice is a no-op.
func (s *Snapshot) Close() error {
	s.closed.Do(func() {
		var errs []error
		for _, nb := range s.integrations {
			errs = append(errs, nb.Backend.Close())
		}
		for _, c := range s.closers {
			errs = append(errs, c())
		}
		s.closeErr = errors.Join(errs...)
	})
	return s.closeErr
}

// onClose has Close run f: policies and edges release their pool leases
// with it.
func (s *Snapshot) onClose(f func() error) { s.closers = append(s.closers, f) }

// ForAPI makes a snapshot of an API that is not from a config file (the
// admin API, served in-process through Portico's own doors): its catalog,
// pipeline and REST door, with limits.
func ForAPI(cat *catalog.Catalog, p *pipeline.Pipeline, rest *transcoder.Transcoder, lim limits.Limits) *Snapshot {
	return &Snapshot{catalog: cat, pipeline: p, rest: rest, handler: rest, limits: lim, reflect: newReflectionFiles(cat), builtAt: time.Now()}
}
