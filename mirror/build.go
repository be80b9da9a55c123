package mirror

import (
	"errors"
	"fmt"

	"github.com/portico-gw/portico/catalog"
	"github.com/portico-gw/portico/config"
	"github.com/portico-gw/portico/integrations"
	"github.com/portico-gw/portico/pipeline"
)

// Build is the mirror policy kind: for each method whose
// apis[].methods[] entry sets mirror, an interceptor (innermost: after
// request mapping) that copies a share of its calls. The target
// integration must exist and serve the method (its Check), the method
// must be unary, and a method is mirrored once. Nil when no method is
// mirrored.
func Build(env pipeline.Env) (pipeline.Policy, error) {
	stages := map[*catalog.Method]pipeline.Stage{}
	var errs config.Errors
	var cs *copies
	for _, m := range env.Catalog.MethodList() {
		for _, o := range m.Overrides() {
			mc := o.Settings.GetMirror()
			if mc == nil {
				continue
			}
			where := o.Where + ".mirror"
			if _, twice := stages[m]; twice {
				errs = append(errs, &config.Error{Field: where, Message: "the method is mirrored by another methods[] entry already"})
				continue
			}
			if err := check(env, m, mc.GetIntegration()); err != nil {
				errs = append(errs, &config.Error{Field: where + ".integration", Message: err.Error()})
				continue
			}
			if mc.GetPercent() < 1 || mc.GetPercent() > 100 {
				errs = append(errs, &config.Error{Field: where + ".percent", Message: "1 to 100 (the share of calls copied)"})
				continue
			}
			if cs == nil {
				cs = newCopies()
				env.OnClose(cs.Close)
			}
			n := int(mc.GetMaxInFlight())
			if n == 0 {
				n = DefaultMaxInFlight
			}
			mr := &mirror{integration: mc.GetIntegration(), backend: env.Backend(mc.GetIntegration()), method: m,
				sample: NewSampler(mc.GetPercent()), slots: make(chan struct{}, n), copies: cs}
			stages[m] = pipeline.Stage{Unary: mr.unary}
		}
	}
	if len(errs) > 0 {
		return nil, errs
	}
	if len(stages) == 0 {
		return nil, nil
	}
	return pipeline.PolicyFunc(func(m *catalog.Method) (pipeline.Stage, error) { return stages[m], nil }), nil
}

// check says why m cannot be mirrored to the integration named name.
func check(env pipeline.Env, m *catalog.Method, name string) error {
	if m.Streaming() {
		return errors.New("mirror copies unary calls only; the method streams")
	}
	if api := m.API(); api != nil && api.Settings.GetIntegration() == name {
		return fmt.Errorf("%q is the method's own integration: mirror to another", name)
	}
	var b integrations.Backend
	if env.Backend != nil {
		b = env.Backend(name)
	}
	if b == nil {
		return fmt.Errorf("no integration %q (or it did not build)", name)
	}
	if err := b.Check(m); err != nil {
		var ns *integrations.NotServed
		if errors.As(err, &ns) {
			return fmt.Errorf("integration %q does not serve %s: %s", name, m.FullMethod(), ns.Why)
		}
		return fmt.Errorf("integration %q cannot serve %s: %v", name, m.FullMethod(), err)
	}
	return nil
}
