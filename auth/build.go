package auth

import (
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"strings"
	"time"

	"github.com/portico-gw/portico/auth/rules"
	"github.com/portico-gw/portico/call"
	"github.com/portico-gw/portico/catalog"
	"github.com/portico-gw/portico/config"
	configv1 "github.com/portico-gw/portico/gen/portico/config/v1"
	"github.com/portico-gw/portico/pipeline"
	"github.com/portico-gw/portico/pool"
	"google.golang.org/grpc"
)

// Env is what auth is built from.
type Env struct {
	// Config is the whole config (tls, auth, apis).
	Config *configv1.Config
	// Resolve makes a config path absolute.
	Resolve func(string) string
	// Methods are the exposed methods.
	Methods []*catalog.Method
	// Routes stand for the plain HTTP routes: Routes[i] is routes[i] of
	// the config (its auth applies; rules cannot read a request message).
	Routes []*catalog.Method
	// Pool holds the JWKS caches and authorizer clients across reloads.
	Pool *pool.Pool
	// Logger receives refusals (with their reasons) and fetch failures.
	Logger *slog.Logger
	// DialOptions are added to connections to authorizers (tests).
	DialOptions []grpc.DialOption
	// Now is the clock tokens are checked against (tests). Default
	// time.Now.
	Now func() time.Time
	// Check builds only to check the config (portico validate, routes):
	// no JWKS is fetched (a remote key set is not started). Default false.
	Check bool
}

// Policies are auth's part of the pipeline.
type Policies struct {
	// Authn is the gate (authentication, authorizers, rules that do not
	// read the request); Authz runs rules that read the request, after
	// decoding. Nil when no method has auth.
	Authn, Authz pipeline.Policy
	// Reserved reports metadata names auth sets for backends (forwarded
	// claims; x-portico-* are reserved anyway): no client may send them.
	Reserved func(string) bool
	// Warnings: APIs left public without saying so.
	Warnings []*config.Error
	// Close releases the pooled state (JWKS caches, authorizer clients).
	Close func() error
}

// builder carries one build.
type builder struct {
	env       Env
	problems  config.Errors
	providers map[string]provider
	reserved  map[string]bool
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

// Build makes auth's policies from the config: every provider, and for
// every exposed method its plan, checked now (unknown providers, selectors
// naming no exposed method, rules that do not compile against the method's
// request type are config errors, as config.Errors with key paths).
func Build(env Env) (_ *Policies, err error) {
	if env.Logger == nil {
		env.Logger = slog.Default()
	}
	if env.Now == nil {
		env.Now = time.Now
	}
	if env.Resolve == nil {
		env.Resolve = func(p string) string { return p }
	}
	b := &builder{env: env, reserved: map[string]bool{}}
	defer func() {
		if err != nil {
			_ = b.release()
		}
	}()
	b.buildProviders()
	plans, warnings := b.buildPlans()
	if len(b.problems) > 0 {
		return nil, b.problems
	}
	pol := &Policies{Warnings: warnings, Close: b.release}
	if len(b.reserved) > 0 {
		// In every spelling a backend may read as the same name.
		reserved := make(map[string]bool, len(b.reserved))
		for k := range b.reserved {
			reserved[call.HeaderName(k)] = true
		}
		pol.Reserved = func(k string) bool { return reserved[call.HeaderName(k)] }
	}
	if len(plans) == 0 {
		return pol, nil
	}
	pol.Authn = pipeline.PolicyFunc(func(m *catalog.Method) (pipeline.Stage, error) {
		p := plans[m]
		if p == nil {
			return pipeline.Stage{}, nil
		}
		return pipeline.Stage{Gate: p.gate}, nil
	})
	pol.Authz = pipeline.PolicyFunc(func(m *catalog.Method) (pipeline.Stage, error) {
		p := plans[m]
		if p == nil || p.requestRule == nil {
			return pipeline.Stage{}, nil
		}
		st := pipeline.Stage{Unary: p.unary}
		if m.Desc.IsStreamingClient() || m.Desc.IsStreamingServer() {
			st.Stream = p.stream
		}
		return st, nil
	})
	return pol, nil
}

// effective is an API's or method's auth after inheritance.
type effective struct {
	public    bool
	providers []string
	require   string
	// where the parts come from, for errors.
	providersAt, requireAt string
}

// buildPlans resolves every exposed method's auth: its API's, replaced
// part by part by a methods[] override.
func (b *builder) buildPlans() (map[*catalog.Method]*plan, []*config.Error) {
	byService := map[string][]*catalog.Method{}
	for _, m := range b.env.Methods {
		svc := string(m.Desc.Parent().FullName())
		byService[svc] = append(byService[svc], m)
	}
	plans := map[*catalog.Method]*plan{}
	var warnings []*config.Error
	for i, api := range b.env.Config.GetApis() {
		where := fmt.Sprintf("apis[%d]", i)
		base := b.resolve(where+".auth", api.GetAuth(), nil)
		overrides := map[string]*effective{}
		exposed := map[string]*catalog.Method{}
		for _, svc := range api.GetServices() {
			for _, m := range byService[svc] {
				exposed[string(m.Desc.FullName())] = m
			}
		}
		anyAuth := api.GetAuth() != nil
		for j, mp := range api.GetMethods() {
			at := fmt.Sprintf("%s.methods[%d]", where, j)
			name, err := catalog.MethodSelector(mp.GetSelector())
			if err != nil {
				b.fail(at+".selector", err.Error())
				continue
			}
			sel := string(name)
			if _, ok := exposed[sel]; !ok {
				b.fail(at+".selector", fmt.Sprintf("%q names no exposed method of this API (want package.Service.Method of %s)", mp.GetSelector(), strings.Join(api.GetServices(), ", ")))
				continue
			}
			if _, dup := overrides[sel]; dup {
				b.fail(at+".selector", fmt.Sprintf("%q is overridden twice", sel))
				continue
			}
			if mp.GetAuth() == nil {
				continue
			}
			anyAuth = true
			overrides[sel] = b.resolve(at+".auth", mp.GetAuth(), base)
		}
		if !anyAuth {
			warnings = append(warnings, &config.Error{Field: where, Message: "no auth: every method of " +
				strings.Join(api.GetServices(), ", ") + " is public; set auth.providers, or auth: {public: true} to say so"})
		}
		var consumed credentials
		for name, m := range exposed {
			eff := base
			if o, ok := overrides[name]; ok {
				eff = o
			}
			if eff == nil || eff.public {
				continue
			}
			if p := b.plan(m, eff, api.GetForwardCredentials()); p != nil {
				plans[m] = p
				if p.creds != nil {
					consumed.add(*p.creds)
				}
			}
		}
		b.checkForwardHeaders(where, api.GetRequest().GetForwardHeaders(), consumed)
	}
	for i, r := range b.env.Config.GetRoutes() {
		if i >= len(b.env.Routes) {
			break
		}
		where := fmt.Sprintf("routes[%d]", i)
		eff := b.resolve(where+".auth", r.GetAuth(), nil)
		if r.GetAuth() == nil {
			warnings = append(warnings, &config.Error{Field: where, Message: "no auth: " + r.GetPrefix() + " is public; set auth.providers, or auth: {public: true} to say so"})
		}
		if eff == nil || eff.public {
			continue
		}
		if p := b.plan(b.env.Routes[i], eff, r.GetForwardCredentials()); p != nil {
			if p.requestRule != nil {
				b.fail(eff.requireAt, "a plain HTTP route has no request message for a rule to read")
				continue
			}
			plans[b.env.Routes[i]] = p
		}
	}
	return plans, warnings
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

// plan compiles one method's policy; nil when an error was recorded.
// forward: the API or route forwards credentials to its backend.
func (b *builder) plan(m *catalog.Method, e *effective, forward bool) *plan {
	p := &plan{method: string(m.Desc.FullName()), log: b.env.Logger}
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
		r, err := b.compiler.Compile(e.require, m.Input.Descriptor())
		if err != nil {
			b.fail(e.requireAt, fmt.Sprintf("method %s: %v", m.Desc.FullName(), err))
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
