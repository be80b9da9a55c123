package snapshot

import (
	"context"
	"errors"
	"fmt"
	"github.com/portico-gw/portico/gatewayresponses"
	"log/slog"
	"time"

	"github.com/portico-gw/portico/auth"
	"github.com/portico-gw/portico/catalog"
	"github.com/portico-gw/portico/compression"
	"github.com/portico-gw/portico/config"
	"github.com/portico-gw/portico/gcpolicy"
	"github.com/portico-gw/portico/integrations"
	"github.com/portico-gw/portico/limits"
	"github.com/portico-gw/portico/network"
	"github.com/portico-gw/portico/pipeline"
	"github.com/portico-gw/portico/pool"
	"github.com/portico-gw/portico/requestid"
	"github.com/portico-gw/portico/telemetry"
	"github.com/portico-gw/portico/transcoder"
	"google.golang.org/grpc"
	"google.golang.org/protobuf/reflect/protoregistry"
)

// Options adjust how a snapshot is built.
type Options struct {
	// Logger receives panics caught in calls and what policies log.
	// Default slog.Default(); URLs' user info is redacted in every line.
	Logger *slog.Logger
	// DialOptions are added to every gRPC client an integration makes
	// (tests: bufconn).
	DialOptions []grpc.DialOption
	// REST tunes the REST door beyond what the config sets.
	REST transcoder.Options
	// WebVanguardOnly serves every gRPC-Web and Connect call through
	// vanguard, none on webprotocols' direct path (tests hold one against
	// the other).
	WebVanguardOnly bool
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

// Build makes a snapshot from a loaded config. Every error — an unreadable
// descriptor set, a service missing from it, a bad HTTP rule, a route
// conflict, a rule naming a missing field, a bad validation rule, a method
// its integration cannot serve, a policy's bad setting — is reported here,
// never on a request. The error is a config.Errors, each problem located
// by its key path.
//
// The phases go as far as they can, so that one run reports every problem
// (portico validate): an integration that does not build leaves its APIs
// to be checked without it; a service that cannot be resolved, or whose
// descriptors could not be discovered, leaves its API without methods for
// the policies to check; a bad rules file leaves the others; every policy
// kind is built. Only descriptor sets that cannot be loaded stop the build
// before the catalog, and the edges (plain routes, docs, traffic) are
// checked only when the integrations and policies they rest on all built.
func Build(cfg *config.File, opts Options) (_ *Snapshot, err error) {
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
	s := &Snapshot{config: cfg, limits: limits.From(c), hash: config.Hash(c), builtAt: time.Now(), reserved: auth.Reserved(c)}
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
	problems = append(problems, located(err, "http_rules")...)

	idHeader := c.GetRequestId().GetHeader()
	if idHeader == "" {
		idHeader = requestid.DefaultHeader
	}
	if s.gateway, err = gatewayresponses.New(c.GetGatewayResponses(), idHeader); err != nil {
		problems = append(problems, located(err, "gateway_responses")...)
	}
	if s.runtime, err = gcpolicy.FromConfig(c.GetRuntime()); err != nil {
		problems = append(problems, located(err, "runtime")...)
	}
	if s.compress, err = compression.New(c.GetCompression()); err != nil {
		problems = append(problems, located(err, "compression")...)
	}
	dial := append(opts.DialOptions[:len(opts.DialOptions):len(opts.DialOptions)], telemetry.DialOptionsFor(c)...)
	dial = append(dial, s.compress.DialOptions()...)
	env := integrations.Env{Resolve: cfg.Resolve, Pool: opts.Pool, Logger: opts.Logger, DialOptions: dial, Check: opts.Check}
	backends := map[string]integrations.Backend{}
	for i, in := range c.GetIntegrations() {
		b, err := opts.Kinds.Build(env, in)
		if err != nil {
			problems = append(problems, &config.Error{Field: fmt.Sprintf("integrations[%d]", i), Message: err.Error()})
			continue
		}
		s.integrations = append(s.integrations, NamedBackend{Name: in.GetName(), Backend: b})
		backends[in.GetName()] = b
	}
	integrationsBuilt := len(s.integrations) == len(c.GetIntegrations())
	found := discover(opts, cfg, backends)
	problems = append(problems, found.problems...)
	s.unchecked = found.skipped
	var files *protoregistry.Files
	if len(c.GetDescriptors()) > 0 || len(found.files) > 0 {
		if files, err = catalog.LoadSourcesWith(cfg.Dir, c.GetDescriptors(), c.GetProtoPaths(), found.files); err != nil {
			// Without the descriptors nothing below can be checked.
			return nil, append(problems, located(err, "descriptors")...)
		}
	}
	apis, unknownIntegrations := catalogAPIs(c, backends, found.unknown)
	problems = append(problems, unknownIntegrations...)
	rules = withoutUndiscovered(c, rules, found.unknown)
	cat, err := catalog.New(catalog.Options{Files: files, Rules: rules, APIs: apis, Routes: c.GetRoutes(),
		Strict: c.GetStrictRoutes(), DynamicTypes: opts.DynamicTypes, Partial: true})
	if err != nil {
		problems = append(problems, located(err, "")...)
		if cat == nil {
			return nil, problems
		}
	}
	s.catalog = cat
	s.warnings = append(s.warnings, cat.Warnings()...)
	web := buildWeb(s, cat, c.GetProtocols(), opts.WebVanguardOnly)
	checkProblems, notServed := checkMethods(c, cat)
	problems = append(problems, checkProblems...)
	s.warnings = append(s.warnings, notServed...)

	penv := pipeline.Env{
		Config: cfg, Catalog: cat, Pool: opts.Pool, Logger: opts.Logger, Check: opts.Check,
		Reserved:  s.reserved,
		Backend:   func(name string) integrations.Backend { return backends[name] },
		OnWarning: func(w *config.Error) { s.warnings = append(s.warnings, w) },
		OnRelease: s.onClose,
	}
	policies, err := pipeline.BuildKinds(penv, kinds)
	policiesBuilt := err == nil
	s.policies = policies
	problems = append(problems, located(err, "")...)
	if s.pipeline, err = pipeline.New(cat.MethodList(), pipeline.Options{Logger: opts.Logger, Routes: cat.Routes()}, policies...); err != nil {
		return nil, append(problems, located(err, "apis")...)
	}
	if s.rest, err = transcoder.New(cat, s.pipeline, restOptions(opts, c, s, policies)); err != nil {
		problems = append(problems, located(err, "apis")...)
	}
	if s.rest == nil || !integrationsBuilt || !policiesBuilt {
		// The edges rest on the REST door, the integrations (plain
		// routes) and the policies' gates: checked once those are whole.
		return nil, problems
	}
	if s.edge, err = network.NewEdge(c.GetNetwork()); err != nil {
		problems = append(problems, located(err, "network")...)
	}
	s.ids = requestid.New(c.GetRequestId(), s.edge.TrustedPeer)
	if s.web, err = web.wait(); err != nil {
		problems = append(problems, located(err, "protocols")...)
	}
	if s.handler, err = restEdges(s); err != nil {
		problems = append(problems, located(err, "")...)
	}
	if s.webHandler, err = webOnly(s); err != nil {
		problems = append(problems, located(err, "")...)
	}
	if len(problems) > 0 {
		return nil, problems
	}
	s.reflect = newReflectionFiles(cat)
	return s, nil
}

// located returns err as config problems: as they are when err is
// config.Errors, else one at field. Nil for nil.
func located(err error, field string) config.Errors {
	if err == nil {
		return nil
	}
	var ce config.Errors
	if errors.As(err, &ce) {
		return ce
	}
	return config.Errors{{Field: field, Message: err.Error()}}
}
