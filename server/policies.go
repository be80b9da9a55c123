package server

import (
	"fmt"
	"slices"

	"github.com/portico-gw/portico/catalog"
	"github.com/portico-gw/portico/config"
	"github.com/portico-gw/portico/integrations"
	"github.com/portico-gw/portico/pipeline"
	"github.com/portico-gw/portico/validate"
)

// buildEnv is what the builders of policies and edges get: the config,
// the build options (pool, logger), the catalog and the integrations
// already built.
type buildEnv struct {
	cfg     *config.File
	opts    BuildOptions
	catalog *catalog.Catalog
	snap    *Snapshot
	env     integrations.Env
	// warnings are problems builders found that do not stop the snapshot;
	// Build adds them to Snapshot.Warnings.
	warnings []*config.Error
	// policies and reserved are the built policies (for the gates of
	// plain HTTP routes) and the metadata names policies set for backends,
	// once buildPolicies has made them.
	policies []pipeline.Policy
	reserved func(string) bool
	// routeMethods stand for the plain HTTP routes (routes[i] is
	// routeMethods[i]); policies give them gates like any method's.
	routeMethods []*catalog.Method
}

// policySet is the pipeline's policies, and what the doors need to know
// from them.
type policySet struct {
	policies []pipeline.Policy
	// reserved reports metadata names policies set for backends (identity
	// headers): no client may send them, on either door.
	reserved func(string) bool
}

// buildPolicies makes the pipeline's policies from the config, in the
// order they run: gates first (network rules, client_ip rate limits,
// authentication, the other rate limits; before the body is read), then
// what needs the decoded request
// (validation, authorization on request fields), then the integration
// request mapping, innermost. Each kind is built in a file of its own
// (policy_*.go); a kind the config does not use returns nil.
func buildPolicies(b *buildEnv) (policySet, error) {
	var set policySet
	selectors := checkSelectors(b)
	add := func(p pipeline.Policy) {
		if p != nil {
			set.policies = append(set.policies, p)
		}
	}
	// Every kind is built, each kind's problems collected, so one run
	// reports them all; the set then holds the kinds that built.
	var errs config.Errors
	fail := func(err error) {
		if err != nil {
			errs = append(errs, asConfigErrors(err, "").(config.Errors)...)
		}
	}
	network, err := networkPolicy(b)
	fail(err)
	authn, authz, reserved, err := authPolicies(b)
	fail(err)
	b.reserved = reserved
	clientLimits, limits, err := rateLimitPolicies(b)
	fail(err)
	val, err := validate.New()
	fail(err)
	mapping, err := mappingPolicy(b)
	fail(err)
	fail(addResponsePolicy(b, add))
	add(network)
	add(clientLimits) // before authn: refused authentications count too
	add(authn)
	add(limits)
	add(val)
	add(authz)
	add(mapping)
	set.reserved = reserved
	b.policies = set.policies
	if len(errs) > 0 || len(selectors) > 0 {
		return set, withSelectorErrors(selectors, errs)
	}
	return set, nil
}

// checkSelectors checks every apis[].methods[].selector before any policy
// kind reads one: each must name a method of its API's services, written
// package.Service.Method or /package.Service/Method (catalog.MethodSelector,
// the one reading every kind uses). A selector naming nothing would
// otherwise leave its policies silently unapplied.
func checkSelectors(b *buildEnv) config.Errors {
	var errs config.Errors
	for i, api := range b.cfg.Config.GetApis() {
		for j, mp := range api.GetMethods() {
			if _, err := b.catalog.APIMethod(api.GetServices(), mp.GetSelector()); err != nil {
				errs = append(errs, &config.Error{Field: fmt.Sprintf("apis[%d].methods[%d].selector", i, j), Message: err.Error()})
			}
		}
	}
	return errs
}

// withSelectorErrors is the selector problems with a policy kind's (err,
// possibly nil), without the kind's own view of the same selectors: every
// problem is reported once, and a bad selector does not hide the rest.
func withSelectorErrors(selectors config.Errors, err error) error {
	out := append(config.Errors(nil), selectors...)
	if err != nil {
		for _, e := range asConfigErrors(err, "").(config.Errors) {
			if !slices.ContainsFunc(selectors, func(s *config.Error) bool { return s.Field == e.Field }) {
				out = append(out, e)
			}
		}
	}
	if len(out) == 0 {
		return nil
	}
	return out
}
