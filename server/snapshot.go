// Package server assembles Portico: it builds immutable snapshots from a
// config (catalog, integrations, pipeline, REST door), and runs the
// listeners — the REST door, the gRPC door and the admin endpoints — over
// the current snapshot, which a reload swaps atomically.
package server

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"regexp"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/portico-gw/portico/call"
	"github.com/portico-gw/portico/catalog"
	"github.com/portico-gw/portico/config"
	configv1 "github.com/portico-gw/portico/gen/portico/config/v1"
	"github.com/portico-gw/portico/integrations"
	"github.com/portico-gw/portico/integrations/grpcbackend"
	"github.com/portico-gw/portico/integrations/httpbackend"
	"github.com/portico-gw/portico/integrations/mock"
	"github.com/portico-gw/portico/limits"
	"github.com/portico-gw/portico/pipeline"
	"github.com/portico-gw/portico/pool"
	"github.com/portico-gw/portico/transcoder"
	"google.golang.org/grpc"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/reflect/protoregistry"
)

// Snapshot is everything built from one config: immutable, checked whole
// when built, served until replaced.
type Snapshot struct {
	Config   *config.File
	Catalog  *catalog.Catalog
	Pipeline *pipeline.Pipeline
	REST     *transcoder.Transcoder
	// Handler is the REST door with what runs before routing (network
	// rules, CORS, plain HTTP routes) around REST.
	Handler http.Handler
	// Limits are the edge limits the config sets.
	Limits limits.Limits
	// Integrations by name, in config order.
	Integrations []NamedBackend
	// Warnings are problems that do not stop the snapshot (printed by
	// `portico validate` and logged at start).
	Warnings []*config.Error
	// Unchecked are the parts of the config a check-only build
	// (BuildOptions.Check) left unchecked, each at its key: the APIs whose
	// descriptors a backend's reflection gives, when Discover is off.
	Unchecked []*config.Error
	// Hash identifies the config the snapshot was built from (SHA-256 of
	// its content, hex), and BuiltAt is when it was built.
	Hash    string
	BuiltAt time.Time

	grpcEdge func(ctx context.Context, info *call.Info) error
	reflect  *reflectionFiles
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

// BuildOptions adjust how a snapshot is built.
type BuildOptions struct {
	// Logger receives panics caught in calls. Default slog.Default().
	Logger *slog.Logger
	// DialOptions are added to every gRPC client an integration makes
	// (tests: bufconn).
	DialOptions []grpc.DialOption
	// REST tunes the REST door beyond what the config sets.
	REST transcoder.Options
	// Pool holds state that outlives a snapshot; a reload passes the
	// running snapshot's pool so what did not change is reused. Nil: a
	// pool of the snapshot's own.
	Pool *pool.Pool
	// Kinds are the integration kinds. Nil: DefaultKinds().
	Kinds integrations.Registry
	// DynamicTypes serves every message with dynamicpb, as a binary
	// without the APIs' generated code would (benchmarks).
	DynamicTypes bool
	// Context bounds what building waits for (descriptor discovery from
	// backends). Nil: 10 seconds.
	Context context.Context
	// Check builds the snapshot only to check the config (portico
	// validate, portico routes): every setting is checked as for serving,
	// but nothing a running gateway owns or serves with is opened — no
	// backend is dialled, no JWKS fetched, no quota state file opened
	// (a running gateway holds it) — and the descriptors of `discover:
	// true` integrations are not fetched unless Discover is set: their
	// APIs are then listed in Snapshot.Unchecked. A checked snapshot must
	// not be served. Default false.
	Check bool
	// Discover, with Check, fetches the descriptors of `discover: true`
	// integrations from their backends' server reflection as serving does
	// (portico validate --discover): the one thing such a check dials.
	// Default false.
	Discover bool
}

// DefaultKinds are the integration kinds Portico builds in.
func DefaultKinds() integrations.Registry {
	return integrations.Registry{
		"grpc": grpcbackend.Factory,
		"http": httpbackend.Factory,
		"mock": mock.Factory,
	}
}

// Build makes a snapshot from a loaded config. Every error — an unreadable
// descriptor set, a service missing from it, a bad HTTP rule, a route
// conflict, a rule naming a missing field, a bad validation rule, a method
// its integration cannot serve — is reported here, never on a request. The
// error is a config.Errors, each problem located by its key path.
//
// The phases go as far as they can, so that one run reports every problem
// (portico validate): an integration that does not build leaves its APIs
// to be checked without it; a service that cannot be resolved, or whose
// descriptors could not be discovered, leaves its API out of the policies'
// checks; a bad rules file leaves the others. Only descriptor sets that
// cannot be loaded stop the build before the catalog, and the edges (plain
// routes, docs, traffic) are checked only when the integrations and
// policies they rest on all built.
func Build(cfg *config.File, opts BuildOptions) (_ *Snapshot, err error) {
	if opts.Logger == nil {
		opts.Logger = slog.Default()
	}
	opts.Logger = slog.New(config.RedactingHandler(opts.Logger.Handler())) // no URL's user info in a log line
	if opts.Pool == nil {
		opts.Pool = pool.New()
	}
	if opts.Kinds == nil {
		opts.Kinds = DefaultKinds()
	}
	c := cfg.Config
	s := &Snapshot{Config: cfg, Limits: limits.From(c), Hash: configHash(c), BuiltAt: time.Now()}
	defer func() {
		if err != nil {
			_ = s.Close()
		}
	}()
	var problems config.Errors
	rulePaths := make([]string, len(c.GetHttpRules()))
	for i, p := range c.GetHttpRules() {
		rulePaths[i] = cfg.Resolve(p)
	}
	rules, err := catalog.ReadHTTPRules(rulePaths)
	if err != nil {
		problems = append(problems, asConfigErrors(err, "http_rules").(config.Errors)...)
	}

	dial := append(opts.DialOptions[:len(opts.DialOptions):len(opts.DialOptions)], telemetryDialOptions(cfg)...)
	env := integrations.Env{Resolve: cfg.Resolve, Pool: opts.Pool, Logger: opts.Logger, DialOptions: dial, Check: opts.Check}
	backends := map[string]integrations.Backend{}
	for i, in := range c.GetIntegrations() {
		b, err := opts.Kinds.Build(env, in)
		if err != nil {
			problems = append(problems, &config.Error{Field: fmt.Sprintf("integrations[%d]", i), Message: err.Error()})
			continue
		}
		s.Integrations = append(s.Integrations, NamedBackend{Name: in.GetName(), Backend: b})
		backends[in.GetName()] = b
	}
	integrationsBuilt := len(s.Integrations) == len(c.GetIntegrations())
	if opts.Check {
		problems = append(problems, checkDoorTLS(cfg, opts.Logger)...)
	}
	found := discover(opts, cfg, backends)
	problems = append(problems, found.problems...)
	s.Unchecked = found.skipped
	var files *protoregistry.Files
	if len(c.GetDescriptors()) > 0 || len(found.files) > 0 {
		if files, err = catalog.LoadSourcesWith(cfg.Dir, c.GetDescriptors(), c.GetProtoPaths(), found.files); err != nil {
			// Without the descriptors nothing below can be checked.
			return nil, append(problems, asConfigErrors(err, "descriptors").(config.Errors)...)
		}
	}
	apis, hidden, unknownIntegrations := catalogAPIs(c, files, backends, found.unknown)
	problems = append(problems, unknownIntegrations...)
	rules = withoutUndiscovered(c, rules, found.unknown)
	cat, err := catalog.New(catalog.Options{Files: files, Rules: rules, APIs: apis, Strict: c.GetStrictRoutes(), DynamicTypes: opts.DynamicTypes, Partial: true})
	if err != nil {
		problems = append(problems, asConfigErrors(err, "").(config.Errors)...)
		if cat == nil {
			return nil, problems
		}
	}
	s.Catalog = cat
	s.Warnings = append(s.Warnings, cat.Warnings...)
	checkProblems, notServed := checkMethods(c, cat)
	problems = append(problems, checkProblems...)
	s.Warnings = append(s.Warnings, notServed...)

	b := &buildEnv{cfg: policyView(cfg, hidden), opts: opts, catalog: cat, snap: s, env: env}
	if n := len(c.GetRoutes()); n > 0 {
		// The plain HTTP routes' synthetic methods exist before the
		// policies, which give them their gates (see edge_routes.go).
		if b.routeMethods, err = routeMethods(n); err != nil {
			return nil, append(problems, asConfigErrors(err, "routes").(config.Errors)...)
		}
	}
	set, err := buildPolicies(b)
	policiesBuilt := err == nil
	if err != nil {
		problems = append(problems, asConfigErrors(err, "").(config.Errors)...)
	}
	if s.Pipeline, err = pipeline.New(cat.MethodList(), pipeline.Options{Logger: opts.Logger}, set.policies...); err != nil {
		return nil, append(problems, asConfigErrors(err, "apis").(config.Errors)...)
	}
	if s.REST, err = transcoder.New(cat, s.Pipeline, restOptions(b, set, s.Limits)); err != nil {
		problems = append(problems, asConfigErrors(err, "apis").(config.Errors)...)
	}
	if s.REST == nil || !integrationsBuilt || !policiesBuilt {
		// The edges rest on the REST door, the integrations (plain
		// routes) and the policies' gates: checked once those are whole.
		return nil, problems
	}
	if s.Handler, err = restEdge(b, s.REST); err != nil {
		problems = append(problems, asConfigErrors(err, "").(config.Errors)...)
	}
	if s.grpcEdge, err = grpcEdge(b); err != nil {
		problems = append(problems, asConfigErrors(err, "").(config.Errors)...)
	}
	if len(problems) > 0 {
		return nil, problems
	}
	s.Warnings = append(s.Warnings, b.warnings...)
	s.reflect = newReflectionFiles(cat)
	return s, nil
}

// restOptions are the REST door's options: the build's, as policy
// builders left them (addResponsePolicy sets its hooks), with the
// config's limits where the build set none.
func restOptions(b *buildEnv, set policySet, lim limits.Limits) transcoder.Options {
	restOpts := b.opts.REST
	restOpts.ForwardHeaders = append(restOpts.ForwardHeaders, b.cfg.Config.GetRest().GetForwardHeaders()...)
	restOpts.HTTPBodyCSP = b.cfg.Config.GetRest().GetHttpBodyContentSecurityPolicy()
	if restOpts.MaxBodyBytes == 0 {
		restOpts.MaxBodyBytes = lim.MaxBodyBytes
	}
	if restOpts.MaxPathBytes == 0 {
		restOpts.MaxPathBytes = lim.MaxPathBytes
	}
	if restOpts.MaxJSONDepth == 0 {
		restOpts.MaxJSONDepth = lim.MaxJSONDepth
	}
	if restOpts.MaxJSONValues == 0 {
		restOpts.MaxJSONValues = lim.MaxJSONValues
	}
	if restOpts.MaxQueryParams == 0 {
		restOpts.MaxQueryParams = lim.MaxQueryParams
	}
	if restOpts.BodyTimeout == 0 {
		restOpts.BodyTimeout = lim.BodyTimeout
		if restOpts.BodyTimeout == 0 {
			restOpts.BodyTimeout = -1 // configured off
		}
	}
	if restOpts.WriteTimeout == 0 {
		restOpts.WriteTimeout = lim.WriteTimeout
		if restOpts.WriteTimeout == 0 {
			restOpts.WriteTimeout = -1
		}
	}
	restOpts.RecursionLimit = lim.RecursionLimit()
	if restOpts.Reserved == nil {
		restOpts.Reserved = set.reserved
	}
	if restOpts.Logger == nil {
		restOpts.Logger = b.opts.Logger
	}
	return restOpts
}

// configHash is the SHA-256 of the config's content (its deterministic
// protobuf encoding), hex.
func configHash(c *configv1.Config) string {
	b, err := proto.MarshalOptions{Deterministic: true}.Marshal(c)
	if err != nil {
		return ""
	}
	sum := sha256.Sum256(b)
	return hex.EncodeToString(sum[:])
}

// asConfigErrors returns err as config.Errors: as it is when it already is
// one; otherwise one problem per line, at the key path the line starts
// with ("apis[0].services[1]: ..."), else at field (a message that repeats
// field as its prefix loses it).
func asConfigErrors(err error, field string) error {
	var ce config.Errors
	if errors.As(err, &ce) {
		return ce
	}
	for _, line := range strings.Split(err.Error(), "\n") {
		if line = strings.TrimSpace(line); line == "" {
			continue
		}
		if m := keyPath.FindStringSubmatch(line); m != nil {
			ce = append(ce, &config.Error{Field: m[1], Message: m[2]})
			continue
		}
		ce = append(ce, &config.Error{Field: field, Message: line})
	}
	return ce
}

// keyPath matches a message that starts with a key path.
var keyPath = regexp.MustCompile(`^([a-z_][a-z0-9_]*(?:\[\d+\])*(?:\.[a-z_][a-z0-9_]*(?:\[\d+\])*)*): (.+)$`)

// Integration returns the integration called name, or nil.
func (s *Snapshot) Integration(name string) integrations.Backend {
	for _, nb := range s.Integrations {
		if nb.Name == name {
			return nb.Backend
		}
	}
	return nil
}

// Close releases the snapshot's integrations (their pooled connections
// close when no other snapshot uses them). Closing twice is a no-op.
func (s *Snapshot) Close() error {
	s.closed.Do(func() {
		var errs []error
		for _, nb := range s.Integrations {
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

// tracker counts a snapshot's calls in flight, so a replaced snapshot is
// released only once its last call is done.
type tracker struct {
	n        atomic.Int64
	draining atomic.Bool
	once     sync.Once
	done     chan struct{}
	mu       sync.Mutex
}

func (t *tracker) enter() { t.n.Add(1) }

func (t *tracker) leave() {
	if t.n.Add(-1) == 0 && t.draining.Load() {
		t.finish()
	}
}

func (t *tracker) finish() {
	t.once.Do(func() {
		t.mu.Lock()
		if t.done == nil {
			t.done = make(chan struct{})
		}
		close(t.done)
		t.mu.Unlock()
	})
}

// drained returns a channel closed once no call is in flight; calls that
// enter after it is asked for are not waited for (the caller made sure no
// new call picks this snapshot).
func (t *tracker) drained() <-chan struct{} {
	t.mu.Lock()
	if t.done == nil {
		t.done = make(chan struct{})
	}
	ch := t.done
	t.mu.Unlock()
	t.draining.Store(true)
	if t.n.Load() == 0 {
		t.finish()
	}
	return ch
}

// InFlight is how many calls are running on the snapshot.
func (s *Snapshot) InFlight() int64 { return s.inflight.n.Load() }
