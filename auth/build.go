package auth

import (
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"strings"
	"time"

	"github.com/portico-gw/portico/auth/rules"
	"github.com/portico-gw/portico/catalog"
	"github.com/portico-gw/portico/config"
	configv1 "github.com/portico-gw/portico/gen/portico/config/v1"
	"github.com/portico-gw/portico/pipeline"
	"github.com/portico-gw/portico/pool"
	"google.golang.org/grpc"
	"google.golang.org/protobuf/reflect/protoreflect"
	"google.golang.org/protobuf/types/known/emptypb"
)

// settings are what auth is built from: the kind's environment, as the
// providers read it.
type settings struct {
	// Config is the whole config (tls, auth, apis, routes).
	Config *configv1.Config
	// Resolve makes a config path absolute.
	Resolve func(string) string
	// Pool holds the JWKS caches and authorizer clients across reloads.
	Pool *pool.Pool
	// Logger receives refusals (with their reasons) and fetch failures.
	Logger *slog.Logger
	// DialOptions are added to connections to authorizers (tests).
	DialOptions []grpc.DialOption
	// Now is the clock tokens are checked against.
	Now func() time.Time
	// Check builds only to check the config (portico validate, routes):
	// no JWKS is fetched (a remote key set is not started).
	Check bool
}

// builder carries one build.
type builder struct {
	env       settings
	problems  config.Errors
	providers map[string]provider
	leases    []*pool.Lease
	compiler  *rules.Compiler
}

func (b *builder) fail(field, msg string) {
	b.problems = append(b.problems, &config.Error{Field: field, Message: msg})
}

// failOnce is fail for a problem every method of an API would find.
func (b *builder) failOnce(field, msg string) {
	for _, p := range b.problems {
		if p.Field == field && p.Message == msg {
			return
		}
	}
	b.fail(field, msg)
}

func (b *builder) release() error {
	var errs []error
	for _, l := range b.leases {
		errs = append(errs, l.Release())
	}
	return errors.Join(errs...)
}

// Build is the auth policy kind: every provider of auth.providers, and
// for every exposed method and plain route its plan — its API's auth
// (apis[].auth), replaced part by part by its overrides
// (apis[].methods[].auth), or the route's (routes[].auth) — checked now:
// unknown providers and rules that do not compile against the method's
// request type are config errors at their keys. The policy gates calls
// before the body is read (authentication, authorizers, rules that read
// no request) and, once the request is decoded, runs the rules that read
// its fields. APIs and routes left public without saying so are warnings.
// Nil when nothing has auth; the pooled JWKS caches and authorizer
// clients are released when the snapshot closes.
func Build(env pipeline.Env) (pipeline.Policy, error) {
	return build(env, time.Now)
}

// build is Build with the clock tokens are checked against.
func build(env pipeline.Env, now func() time.Time) (_ pipeline.Policy, err error) {
	s := settings{Pool: env.Pool, Logger: env.Logger, DialOptions: env.DialOptions, Now: now, Check: env.Check,
		Resolve: func(p string) string { return p }}
	if env.Config != nil {
		s.Config, s.Resolve = env.Config.Config, env.Config.Resolve
	}
	if s.Logger == nil {
		s.Logger = slog.Default()
	}
	if s.Pool == nil {
		s.Pool = pool.New()
	}
	b := &builder{env: s}
	defer func() {
		if err != nil {
			_ = b.release()
		}
	}()
	b.buildProviders()
	pol, warnings := b.buildPlans(env.Catalog)
	if len(b.problems) > 0 {
		return nil, b.problems
	}
	env.Warn(warnings...)
	env.OnClose(b.release)
	pol.keys = b.keyProviders()
	if len(pol.methods) == 0 && len(pol.routes) == 0 && len(pol.keys) == 0 {
		return nil, nil
	}
	return pol, nil
}

// policy is auth built: each method's and route's plan, and the api_key
// providers' keys.
type policy struct {
	methods map[*catalog.Method]*plan
	routes  map[*catalog.PlainRoute]*plan
	keys    []KeyProvider
}

// KeyProviders returns the api_key providers' keys, in config order (the
// admin API manages them; snapshot.Snapshot.KeyProviders hands them on).
func (p *policy) KeyProviders() []KeyProvider { return p.keys }

// keyProviders lists the api_key providers built, in config order.
func (b *builder) keyProviders() []KeyProvider {
	var out []KeyProvider
	for _, pc := range b.env.Config.GetAuth().GetProviders() {
		if k, ok := b.providers[pc.GetName()].auth.(*apiKeyProvider); ok {
			out = append(out, k.keyProvider())
		}
	}
	return out
}

func (p *policy) Stage(m *catalog.Method) (pipeline.Stage, error) {
	pl := p.methods[m]
	if pl == nil {
		return pipeline.Stage{}, nil
	}
	st := pipeline.Stage{Gate: pl.gate}
	if pl.requestRule != nil {
		st.Unary = pl.unary
		if m.Desc().IsStreamingClient() || m.Desc().IsStreamingServer() {
			st.Stream = pl.stream
		}
	}
	return st, nil
}

func (p *policy) RouteStage(r *catalog.PlainRoute) (pipeline.Stage, error) {
	if pl := p.routes[r]; pl != nil {
		return pipeline.Stage{Gate: pl.gate}, nil
	}
	return pipeline.Stage{}, nil
}

// effective is an API's or method's auth after inheritance.
type effective struct {
	public    bool
	providers []string
	require   string
	// where the parts come from, for errors.
	providersAt, requireAt string
}

// buildPlans resolves every exposed method's auth (its API's, replaced
// part by part by its overrides) and every plain route's.
func (b *builder) buildPlans(cat *catalog.Catalog) (*policy, []*config.Error) {
	pol := &policy{methods: map[*catalog.Method]*plan{}, routes: map[*catalog.PlainRoute]*plan{}}
	if cat == nil {
		return pol, nil
	}
	byAPI := map[*catalog.API][]*catalog.Method{}
	for _, m := range cat.MethodList() {
		byAPI[m.API()] = append(byAPI[m.API()], m)
	}
	var warnings []*config.Error
	for _, api := range cat.APIs() {
		a := api.Settings
		base := b.resolve(api.Where+".auth", a.GetAuth(), nil)
		anyAuth := a.GetAuth() != nil
		var consumed credentials
		for _, m := range byAPI[api] {
			eff := base
			overridden := false
			for _, o := range m.Overrides() {
				if overridden {
					b.fail(o.Where+".selector", fmt.Sprintf("%q is overridden twice", string(m.Desc().FullName())))
					continue
				}
				if o.Settings.GetAuth() == nil {
					continue
				}
				overridden, anyAuth = true, true
				eff = b.resolve(o.Where+".auth", o.Settings.GetAuth(), base)
			}
			if eff == nil || eff.public {
				continue
			}
			if p := b.plan(string(m.Desc().FullName()), m.Input().Descriptor(), eff, a.GetForwardCredentials()); p != nil {
				pol.methods[m] = p
				if p.creds != nil {
					consumed.add(*p.creds)
				}
			}
		}
		if !anyAuth {
			warnings = append(warnings, &config.Error{Field: api.Where, Message: "no auth: every method of " +
				strings.Join(api.Services, ", ") + " is public; set auth.providers, or auth: {public: true} to say so"})
		}
		b.checkForwardHeaders(api.Where, a.GetRequest().GetForwardHeaders(), consumed)
	}
	for _, r := range cat.Routes() {
		eff := b.resolve(r.Where+".auth", r.Settings.GetAuth(), nil)
		if r.Settings.GetAuth() == nil {
			warnings = append(warnings, &config.Error{Field: r.Where, Message: "no auth: " + r.Prefix + " is public; set auth.providers, or auth: {public: true} to say so"})
		}
		if eff == nil || eff.public {
			continue
		}
		if p := b.plan("route "+r.Prefix, nil, eff, r.Settings.GetForwardCredentials()); p != nil {
			if p.requestRule != nil {
				b.fail(eff.requireAt, "a plain HTTP route has no request message for a rule to read")
				continue
			}
			pol.routes[r] = p
		}
	}
	return pol, warnings
}

// checkForwardHeaders refuses a request mapping that lists a header
// carrying credentials the API's providers consume (or the cookies, when
// a provider reads a cookie): they reach the backend only when the API
// says forward_credentials.
func (b *builder) checkForwardHeaders(where string, forward []string, consumed credentials) {
	for k, h := range forward {
		name := strings.ToLower(h)
		if slices.Contains(consumed.headers, name) || name == "cookie" && len(consumed.cookies) > 0 {
			b.fail(fmt.Sprintf("%s.request.forward_headers[%d]", where, k), fmt.Sprintf("%q carries credentials this API's "+
				"providers consume: they stay at the gateway unless %s.forward_credentials is true", h, where))
		}
	}
}

// resolve checks an auth block and applies inheritance from parent (nil
// for an API's own block). Nil means public without a word (no block).
func (b *builder) resolve(where string, a *configv1.ApiAuth, parent *effective) *effective {
	if a == nil {
		return parent
	}
	if a.GetPublic() {
		if len(a.GetProviders()) > 0 || a.GetRequire() != "" {
			b.fail(where+".public", "public: true cannot be combined with providers or require")
		}
		return &effective{public: true}
	}
	e := &effective{providers: a.GetProviders(), require: a.GetRequire(), providersAt: where + ".providers", requireAt: where + ".require"}
	if parent != nil && !parent.public {
		if len(e.providers) == 0 {
			e.providers, e.providersAt = parent.providers, parent.providersAt
		}
		if e.require == "" {
			e.require, e.requireAt = parent.require, parent.requireAt
		}
	}
	if len(e.providers) == 0 {
		if e.require != "" {
			b.fail(where+".providers", "require needs providers (who is the caller?)")
		} else {
			b.fail(where, "set providers, or public: true")
		}
		return nil
	}
	for k, name := range a.GetProviders() {
		if _, ok := b.providers[name]; !ok && !b.definedProvider(name) {
			b.fail(fmt.Sprintf("%s.providers[%d]", where, k), fmt.Sprintf("no auth.providers entry is named %q", name))
		}
	}
	return e
}

// definedProvider reports a provider named in the config that failed to
// build (its own error is reported; do not add "unknown" to it).
func (b *builder) definedProvider(name string) bool {
	for _, p := range b.env.Config.GetAuth().GetProviders() {
		if p.GetName() == name {
			return true
		}
	}
	return false
}

// plan compiles one method's (or route's) policy; nil when an error was
// recorded. name names it in logs and errors; input is the request type
// its rule may read (nil for a route: an empty message). forward: the API
// or route forwards credentials to its backend.
func (b *builder) plan(name string, input protoreflect.MessageDescriptor, e *effective, forward bool) *plan {
	p := &plan{method: name, log: b.env.Logger}
	for _, name := range e.providers {
		pr, ok := b.providers[name]
		if !ok {
			return nil // reported
		}
		if pr.auth != nil {
			p.authenticators = append(p.authenticators, pr.auth)
		} else {
			p.externals = append(p.externals, pr.external)
		}
	}
	if !forward {
		var c credentials
		for _, a := range p.authenticators {
			c.add(a.places())
		}
		if !c.empty() {
			p.creds = &c
		}
	}
	if len(p.authenticators) == 0 {
		for _, x := range p.externals {
			if x.client.CallerByPrincipalOnly() {
				b.failOnce(e.providersAt, fmt.Sprintf("authorizer %q caches its decisions by principal alone, and no authenticating provider "+
					"names the caller before it here: every caller would get the first one's decision; list one first, or add a header "+
					"(such as authorization) to its cache_key", x.name))
				return nil
			}
		}
	}
	if e.require != "" {
		if b.compiler == nil {
			c, err := rules.NewCompiler()
			if err != nil {
				b.fail(e.requireAt, err.Error())
				return nil
			}
			b.compiler = c
		}
		what := "method " + name
		if input == nil {
			what, input = name, (&emptypb.Empty{}).ProtoReflect().Descriptor()
		}
		r, err := b.compiler.Compile(e.require, input)
		if err != nil {
			b.fail(e.requireAt, fmt.Sprintf("%s: %v", what, err))
			return nil
		}
		if r.UsesRequest() {
			p.requestRule = r
		} else {
			p.gateRule = r
		}
	}
	return p
}
