// Package catalog turns descriptors, HTTP rules and the exposed-API list of a
// config into an immutable set of methods: what the gateway exposes, how
// each method is bound to HTTP, which message types it uses and which
// backend serves it. Every error is found when the catalog is built.
package catalog

import (
	"fmt"
	"sort"
	"strings"

	"github.com/portico-gw/portico/catalog/httprule"
	"google.golang.org/genproto/googleapis/api/annotations"
	"google.golang.org/protobuf/reflect/protoreflect"
	"google.golang.org/protobuf/reflect/protoregistry"
)

// Catalog is the set of exposed methods. It is immutable once built.
type Catalog struct {
	// Methods by gRPC path ("/package.Service/Method").
	Methods map[string]*Method
	// Services exposed, in config order.
	Services []protoreflect.ServiceDescriptor
	// Files resolves every descriptor the exposed services use (for
	// server reflection).
	Files Resolver
}

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
}

// Options are the inputs of New.
type Options struct {
	// Files holds the descriptors; nil means the compiled-in
	// protoregistry.GlobalFiles.
	Files *protoregistry.Files
	// Rules are HTTP rules from gRPC API Configuration files, keyed by
	// selector (a method's full name). A rule here replaces the method's
	// google.api.http annotation.
	Rules map[string]*annotations.HttpRule
	// APIs lists the exposed services.
	APIs []API
}

// New builds the catalog and checks all of it: every service exists, every
// HTTP rule parses, no two services are exposed twice, rules name existing
// methods. Field references in rules are checked by the REST door when it
// compiles its routes.
func New(opts Options) (*Catalog, error) {
	var files Resolver = protoregistry.GlobalFiles
	if opts.Files != nil {
		files = opts.Files
	}
	c := &Catalog{Methods: map[string]*Method{}, Files: files}
	types := newTypeResolver()
	var errs []string
	seen := map[string]string{}
	usedRules := map[string]bool{}
	for _, api := range opts.APIs {
		if api.Backend == nil {
			errs = append(errs, fmt.Sprintf("%s.integration: no backend", api.Where))
			continue
		}
		for i, name := range api.Services {
			where := fmt.Sprintf("%s.services[%d]", api.Where, i)
			if prev, ok := seen[name]; ok {
				errs = append(errs, fmt.Sprintf("%s: service %q is already exposed by %s", where, name, prev))
				continue
			}
			seen[name] = where
			sd, err := findService(files, name)
			if err != nil {
				errs = append(errs, fmt.Sprintf("%s: %v", where, err))
				continue
			}
			c.Services = append(c.Services, sd)
			methods := sd.Methods()
			for j := 0; j < methods.Len(); j++ {
				md := methods.Get(j)
				m, err := newMethod(md, api, types)
				if err != nil {
					errs = append(errs, fmt.Sprintf("%s: %v", where, err))
					continue
				}
				rule, fromConfig := opts.Rules[string(md.FullName())]
				if fromConfig {
					usedRules[string(md.FullName())] = true
				} else {
					rule = annotationRule(md)
				}
				bindings, err := bindingsFor(m, rule, api.DefaultBindings)
				if err != nil {
					src := "google.api.http annotation"
					if fromConfig {
						src = "http_rules"
					}
					errs = append(errs, fmt.Sprintf("%s: method %s: %s: %v", where, md.FullName(), src, err))
					continue
				}
				m.Bindings = bindings
				c.Methods[m.FullMethod] = m
			}
		}
	}
	for sel := range opts.Rules {
		if !usedRules[sel] {
			errs = append(errs, fmt.Sprintf("http_rules: selector %q names no method of an exposed service", sel))
		}
	}
	if len(errs) > 0 {
		sort.Strings(errs)
		return nil, fmt.Errorf("%s", strings.Join(errs, "\n"))
	}
	return c, nil
}

// MethodList returns the methods sorted by gRPC path.
func (c *Catalog) MethodList() []*Method {
	out := make([]*Method, 0, len(c.Methods))
	for _, m := range c.Methods {
		out = append(out, m)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].FullMethod < out[j].FullMethod })
	return out
}

func findService(files Resolver, name string) (protoreflect.ServiceDescriptor, error) {
	d, err := files.FindDescriptorByName(protoreflect.FullName(name))
	if err != nil {
		return nil, fmt.Errorf("service %q not found in the descriptors", name)
	}
	sd, ok := d.(protoreflect.ServiceDescriptor)
	if !ok {
		return nil, fmt.Errorf("%q is not a service", name)
	}
	return sd, nil
}

// parseTemplate is the one place rules' path templates are parsed.
func parseTemplate(path string) (*httprule.Template, error) {
	return httprule.Parse(path)
}
