package snapshot

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/portico-gw/portico/catalog"
	"github.com/portico-gw/portico/config"
	configv1 "github.com/portico-gw/portico/gen/portico/config/v1"
	"github.com/portico-gw/portico/integrations"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/proto"
)

// What Build does so that one run reports the problems of every phase:
// the APIs of an integration that did not build are checked with a
// stand-in backend; the APIs whose services cannot be resolved have no
// methods in the catalog, so the policies check nothing against them; a
// method an integration accepts without serving it is a warning.

// unbuilt stands for an integration that did not build (or that the
// config does not define): its APIs' methods are still checked. Its
// problem is reported where it is; a snapshot with one is never served.
type unbuilt struct{}

func (unbuilt) Unary(context.Context, *catalog.Method, proto.Message) (proto.Message, error) {
	return nil, status.Error(codes.Unavailable, "backend unavailable")
}

func (unbuilt) Stream(context.Context, *catalog.Method, grpc.ServerStream) error {
	return status.Error(codes.Unavailable, "backend unavailable")
}

func (unbuilt) Check(*catalog.Method) error { return nil }
func (unbuilt) Close() error                { return nil }

// catalogAPIs are the config's APIs for the catalog, each with its
// settings and its backend: the built integration, or unbuilt when it did
// not build or the config does not define it (a problem, returned). The
// APIs of an integration whose descriptors are unknown (undiscovered) are
// left out: their services cannot be resolved.
func catalogAPIs(c *configv1.Config, backends map[string]integrations.Backend, undiscovered map[string]bool) ([]catalog.API, config.Errors) {
	defined := map[string]bool{}
	for _, in := range c.GetIntegrations() {
		defined[in.GetName()] = true
	}
	var (
		apis     []catalog.API
		problems config.Errors
	)
	for i, a := range c.GetApis() {
		name := a.GetIntegration()
		if undiscovered[name] {
			continue
		}
		api := catalog.API{
			Where:           fmt.Sprintf("apis[%d]", i),
			Services:        a.GetServices(),
			BackendName:     name,
			DefaultBindings: a.GetDefaultBindings(),
			Backend:         unbuilt{},
			Settings:        a,
		}
		if b, ok := backends[name]; ok {
			api.Backend = b
		} else if !defined[name] {
			problems = append(problems, &config.Error{Field: api.Where + ".integration", Message: fmt.Sprintf("unknown integration %q", name)})
		}
		apis = append(apis, api)
	}
	return apis, problems
}

// checkMethods asks each method's integration whether it can serve it
// (integrations.Backend.Check): a refusal is a problem; a method accepted
// without being served (integrations.NotServed) is a warning, one per
// integration naming its methods, at integrations[k].<kind>.
func checkMethods(c *configv1.Config, cat *catalog.Catalog) (problems config.Errors, warnings []*config.Error) {
	type unserved struct {
		methods []string
		why     string
	}
	byName := map[string]*unserved{}
	for _, m := range cat.MethodList() {
		b, ok := m.Backend().(integrations.Backend)
		if !ok {
			continue
		}
		err := b.Check(m)
		var ns *integrations.NotServed
		switch {
		case err == nil:
		case errors.As(err, &ns):
			u := byName[m.BackendName()]
			if u == nil {
				u = &unserved{why: ns.Why}
				byName[m.BackendName()] = u
			}
			u.methods = append(u.methods, string(m.Desc().FullName()))
		default:
			problems = append(problems, &config.Error{Field: "apis", Message: fmt.Sprintf("method %s: integration %q: %v", m.Desc().FullName(), m.BackendName(), err)})
		}
	}
	for k, in := range c.GetIntegrations() {
		u := byName[in.GetName()]
		if u == nil {
			continue
		}
		field := fmt.Sprintf("integrations[%d]", k)
		if kind := integrations.Kind(in); kind != "" {
			field += "." + kind
		}
		what, them := "1 method", "it"
		if len(u.methods) > 1 {
			what, them = fmt.Sprintf("%d methods", len(u.methods)), "them"
		}
		warnings = append(warnings, &config.Error{Field: field, Message: fmt.Sprintf(
			"integration %q does not serve %s (%s); calls to %s answer UNIMPLEMENTED (HTTP 501): %s",
			in.GetName(), what, u.why, them, strings.Join(u.methods, ", "))})
	}
	return problems, warnings
}

// withoutUndiscovered is rules without those for the services of
// integrations whose descriptors are unknown: the catalog, which does not
// hold those services, would call them rules for methods that do not
// exist.
func withoutUndiscovered(c *configv1.Config, rules catalog.Rules, undiscovered map[string]bool) catalog.Rules {
	skip := map[string]bool{}
	for _, a := range c.GetApis() {
		if undiscovered[a.GetIntegration()] {
			for _, svc := range a.GetServices() {
				skip[svc] = true
			}
		}
	}
	if len(skip) == 0 {
		return rules
	}
	out := make(catalog.Rules, len(rules))
	for sel, r := range rules {
		if i := strings.LastIndexByte(sel, '.'); i > 0 && skip[sel[:i]] {
			continue
		}
		out[sel] = r
	}
	return out
}
