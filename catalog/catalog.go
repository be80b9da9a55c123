// Package catalog turns descriptors, HTTP rules and the exposed-API list of a
// config into an immutable set of methods: what the gateway exposes, how
// each method is bound to HTTP, which message types it uses and which
// backend serves it. Every error is found when the catalog is built.
package catalog

import (
	"fmt"
	"maps"
	"slices"
	"strings"

	"github.com/portico-gw/portico/catalog/httprule"
	"github.com/portico-gw/portico/config"
	configv1 "github.com/portico-gw/portico/gen/portico/config/v1"
	"google.golang.org/protobuf/reflect/protoreflect"
	"google.golang.org/protobuf/reflect/protoregistry"
)

// Catalog is the set of exposed methods. It is immutable once built.
type Catalog struct {
	methods  map[string]*Method // by gRPC path ("/package.Service/Method")
	list     []*Method          // the same, sorted by gRPC path once (see MethodList)
	services []protoreflect.ServiceDescriptor
	files    Resolver
	types    *TypeResolver
	apis     []*API
	routes   []*PlainRoute
	warnings []*config.Error
}

// Method returns the exposed method with a gRPC path
// ("/package.Service/Method"), or nil.
func (c *Catalog) Method(fullMethod string) *Method { return c.methods[fullMethod] }

// Methods returns the exposed methods by gRPC path (a copy: the catalog
// stays as built).
func (c *Catalog) Methods() map[string]*Method { return maps.Clone(c.methods) }

// Services returns the exposed services, in config order.
func (c *Catalog) Services() []protoreflect.ServiceDescriptor { return c.services }

// Files resolves every descriptor the exposed services use (for server
// reflection).
func (c *Catalog) Files() Resolver { return c.files }

// Types resolves message types by name from the same descriptors (for
// Any fields and error details in JSON).
func (c *Catalog) Types() *TypeResolver { return c.types }

// APIs returns the exposed APIs (apis[]), in config order.
func (c *Catalog) APIs() []*API { return c.apis }

// Routes returns the plain HTTP routes (routes[]), in config order.
func (c *Catalog) Routes() []*PlainRoute { return c.routes }

// Warnings are what New accepted but a reader of the config should hear
// about: route conflicts it resolved, rules it ignored. Each is located
// like an error (see config.Error). With Options.Strict they are errors
// instead.
func (c *Catalog) Warnings() []*config.Error { return c.warnings }

// Resolver finds descriptors by file path or full name.
type Resolver interface {
	FindFileByPath(string) (protoreflect.FileDescriptor, error)
	FindDescriptorByName(protoreflect.FullName) (protoreflect.Descriptor, error)
}

// API is one entry of the config's apis list, with its backend resolved.
type API struct {
	// Where names the entry in the config, e.g. "apis[0]", for errors.
	Where string
	// Services are fully-qualified service names.
	Services []string
	// Backend serves every method of the services.
	Backend Backend
	// BackendName is the integration's name (for route listings).
	BackendName string
	// DefaultBindings exposes methods without an HTTP rule at
	// POST /{package.Service}/{Method} with body "*".
	DefaultBindings bool
	// Settings are the entry's policy settings as the config gives them
	// (auth, rate limits, network rules, request and response mapping,
	// per-method overrides): each method carries its API, so a policy
	// kind reads them from the method it is asked about. Nil for an API
	// that is not from a config file (the admin API).
	Settings *configv1.Api
}

// Options are the inputs of New.
type Options struct {
	// Files holds the descriptors; nil means the compiled-in
	// protoregistry.GlobalFiles.
	Files *protoregistry.Files
	// Rules are HTTP rules from gRPC API Configuration files (see
	// LoadHTTPRules). A rule here replaces the method's google.api.http
	// annotation.
	Rules Rules
	// APIs lists the exposed services.
	APIs []API
	// Strict (the config's strict_routes) makes the warnings errors: two
	// methods bound to the same route, and a rule for a method of a service
	// that is loaded but not exposed. Default false, as grpc-gateway serves
	// both.
	Strict bool
	// DynamicTypes serves every message with dynamicpb, even where a
	// generated Go type is linked in: what a binary without the APIs'
	// generated code does (benchmarks and tests measure that path).
	DynamicTypes bool
	// Routes are the config's plain HTTP routes (routes[]): each becomes a
	// PlainRoute of the catalog, in config order.
	Routes []*configv1.Route
	// Partial has New return, with its error, the catalog of what did
	// build — every method of the services that resolved, a method whose
	// rule is bad without bindings — so that a check can go on against it
	// (portico validate reports the policies' problems in the same run).
	// Such a catalog must not be served. Default false: nil with an error.
	Partial bool
}

// New builds the catalog and checks all of it: every service exists, every
// HTTP rule parses, no service is exposed twice, rules name existing
// methods. Field references in rules are checked by the REST door when it
// compiles its routes.
//
// Two bindings with the same HTTP method and the same template up to
// variable names (the same httprule.Template.Shape: they match exactly the
// same paths) are a conflict, resolved the way grpc-gateway resolves it:
// the binding declared later wins, in the order of apis[], then services[],
// then the methods of a service as declared, then a rule's bindings
// (additional_bindings after the main one). The losing binding is dropped
// and a warning names both methods and where each rule was written.
//
// A rules-file selector naming a method of a service that is in the
// descriptors but not exposed is ignored with a warning; one naming no
// method at all is an error (a typo), with the closest name as a hint.
//
// Errors are config.Errors, every one found, in a stable order.
func New(opts Options) (*Catalog, error) {
	files := protoregistry.GlobalFiles
	if opts.Files != nil {
		files = opts.Files
	}
	c := &Catalog{methods: map[string]*Method{}, files: files}
	b := &builder{opts: opts, files: files, cat: c}
	b.expose()
	c.types = newTypeResolverFor(files, b.types)
	b.resolveConflicts()
	b.checkUnusedRules()
	b.resolveOverrides()
	b.addRoutes()
	c.list = sortedMethods(c.methods)
	if err := b.errs.err(); err != nil {
		if b.opts.Partial {
			c.warnings = b.warns.list()
			return c, err
		}
		return nil, err
	}
	c.warnings = b.warns.list()
	return c, nil
}

// builder holds what New works with.
type builder struct {
	opts      Options
	files     *protoregistry.Files
	cat       *Catalog
	errs      problems
	warns     problems
	usedRules map[string]bool
	types     *typeResolver
	// bindings in declaration order (see New), for conflicts.
	bindings []*Binding
	// apis are the exposed APIs, as the methods point to them.
	apis []*API
	// descs holds each binding origin's words once: every method of a
	// file without source positions has the same ("google.api.http
	// annotation in f.proto"), a string per route otherwise.
	descs map[string]string
}

// intern returns s, or the equal string it returned before.
func (b *builder) intern(s string) string {
	if v, ok := b.descs[s]; ok {
		return v
	}
	if b.descs == nil {
		b.descs = map[string]string{}
	}
	b.descs[s] = s
	return s
}

// warn records a warning, or an error in strict mode.
func (b *builder) warn(e *config.Error) {
	if b.opts.Strict {
		e.Message += " (strict_routes is set)"
		b.errs.addErr(e)
		return
	}
	b.warns.addErr(e)
}

// expose adds the methods of every exposed service with their bindings.
func (b *builder) expose() {
	types := newTypeResolver()
	types.dynamicOnly = b.opts.DynamicTypes
	b.types = types
	seen := map[string]string{}
	b.usedRules = map[string]bool{}
	b.apis = make([]*API, len(b.opts.APIs))
	for i := range b.opts.APIs {
		api := b.opts.APIs[i] // the method's own copy: Options stay the caller's
		b.apis[i] = &api
	}
	b.cat.apis = b.apis
	for _, api := range b.apis {
		if api.Backend == nil {
			b.errs.add(api.Where+".integration", "no backend")
			continue
		}
		if i, err := checkHosts(api.Hosts()); err != nil {
			b.errs.add(fmt.Sprintf("%s.hosts[%d]", api.Where, i), "%v", err)
		}
		if err := checkBasePath(api.BasePath()); err != nil {
			b.errs.add(api.Where+".base_path", "%v", err)
			continue
		}
		for i, name := range api.Services {
			where := fmt.Sprintf("%s.services[%d]", api.Where, i)
			if prev, ok := seen[name]; ok {
				b.errs.add(where, "service %q is already exposed by %s", name, prev)
				continue
			}
			seen[name] = where
			sd, err := b.findService(name)
			if err != nil {
				b.errs.add(where, "%v", err)
				continue
			}
			b.cat.services = append(b.cat.services, sd)
			methods := sd.Methods()
			for j := 0; j < methods.Len(); j++ {
				b.exposeMethod(methods.Get(j), api, where, types)
			}
		}
	}
}

func (b *builder) exposeMethod(md protoreflect.MethodDescriptor, api *API, where string, types *typeResolver) {
	m, err := newMethod(md, api, types)
	if err != nil {
		b.errs.add(where, "%v", err)
		return
	}
	src := ruleSource{field: where}
	if r, ok := b.opts.Rules[string(md.FullName())]; ok {
		b.usedRules[string(md.FullName())] = true
		src.rule, src.file = r.HTTP, r
	} else if src.rule, err = annotationRule(md); err != nil {
		b.errs.add(where, "method %s: %v", md.FullName(), err)
		if b.opts.Partial {
			b.cat.methods[m.fullMethod] = m // without bindings (see Options.Partial)
		}
		return
	}
	bindings, berr := bindingsFor(m, src, api.DefaultBindings)
	if berr != nil {
		if src.file != nil {
			b.errs.addErr(src.file.errorAt(berr.sub, "rule for method %s: %s", md.FullName(), berr.msg))
		} else {
			b.errs.add(where, "method %s: %s: %s", md.FullName(), src.origin(md, berr.sub).Desc, berr.msg)
		}
		if b.opts.Partial {
			b.cat.methods[m.fullMethod] = m // without bindings (see Options.Partial)
		}
		return
	}
	for _, bd := range bindings {
		bd.Origin.Desc = b.intern(bd.Origin.Desc)
	}
	m.bindings = bindings
	b.bindings = append(b.bindings, bindings...)
	b.cat.methods[m.fullMethod] = m
}

// MethodList returns the methods sorted by gRPC path (a copy: the
// catalog stays as built). The order is computed once, when the catalog
// is built: every policy kind and both doors ask for it, and sorting a
// large catalog each time cost more than building its methods (issue 19).
func (c *Catalog) MethodList() []*Method { return slices.Clone(c.list) }

// sortedMethods lists methods by gRPC path.
func sortedMethods(methods map[string]*Method) []*Method {
	out := make([]*Method, 0, len(methods))
	for _, m := range methods {
		out = append(out, m)
	}
	slices.SortFunc(out, func(a, b *Method) int { return strings.Compare(a.fullMethod, b.fullMethod) })
	return out
}

// parseTemplate is the one place rules' path templates are parsed.
func parseTemplate(path string) (*httprule.Template, error) {
	return httprule.Parse(path)
}
