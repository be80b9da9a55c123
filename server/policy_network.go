package server

import (
	"context"
	"fmt"

	"github.com/portico-gw/portico/call"
	"github.com/portico-gw/portico/catalog"
	"github.com/portico-gw/portico/config"
	"github.com/portico-gw/portico/network"
	"github.com/portico-gw/portico/pipeline"
)

// networkPolicy gates calls on the client's address by their API's rules
// (apis[].network), after the global ones the edge applied; nil when no
// API sets a rule.
func networkPolicy(b *buildEnv) (pipeline.Policy, error) {
	bySvc := map[string]*network.Rules{}
	var errs config.Errors
	for i, api := range b.cfg.Config.GetApis() {
		n := api.GetNetwork()
		rules, rerrs := network.NewRules(fmt.Sprintf("apis[%d].network", i), n.GetAllow(), n.GetDeny())
		errs = append(errs, rerrs...)
		if rules == nil {
			continue
		}
		for _, svc := range api.GetServices() {
			bySvc[svc] = rules
		}
	}
	routeGates := make([]pipeline.Gate, len(b.routeMethods))
	anyRoute := false
	for i := range b.routeMethods {
		g, err := routeNetworkGate(b, i)
		if err != nil {
			errs = append(errs, asConfigErrors(err, fmt.Sprintf("routes[%d].network", i)).(config.Errors)...)
			continue
		}
		routeGates[i], anyRoute = g, anyRoute || g != nil
	}
	if len(errs) > 0 {
		return nil, errs
	}
	if len(bySvc) == 0 && !anyRoute {
		return nil, nil
	}
	return pipeline.PolicyFunc(func(m *catalog.Method) (pipeline.Stage, error) {
		if _, i, ok := routeOf(b.cfg.Config, m); ok {
			return pipeline.Stage{Gate: routeGates[i]}, nil
		}
		rules := bySvc[string(m.Desc.Parent().FullName())]
		if rules == nil {
			return pipeline.Stage{}, nil
		}
		return pipeline.Stage{Gate: networkGate(rules)}, nil
	}), nil
}

// networkGate refuses (403 / PERMISSION_DENIED) a client address the
// rules do not allow.
func networkGate(rules *network.Rules) pipeline.Gate {
	return func(ctx context.Context, info *call.Info) (context.Context, error) {
		if !rules.Allowed(info.ClientIP) {
			info.Refusal = "network"
			return nil, errAddressRefused
		}
		return ctx, nil
	}
}

// routeNetworkGate is the gate of plain HTTP route i (routes[i].network),
// for the routes edge to run before authentication; nil when the route
// sets no rule.
func routeNetworkGate(b *buildEnv, i int) (pipeline.Gate, error) {
	n := b.cfg.Config.GetRoutes()[i].GetNetwork()
	rules, errs := network.NewRules(fmt.Sprintf("routes[%d].network", i), n.GetAllow(), n.GetDeny())
	if len(errs) > 0 {
		return nil, errs
	}
	if rules == nil {
		return nil, nil
	}
	return networkGate(rules), nil
}
