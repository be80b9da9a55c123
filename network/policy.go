package network

import (
	"context"

	"github.com/portico-gw/portico/call"
	"github.com/portico-gw/portico/catalog"
	"github.com/portico-gw/portico/config"
	configv1 "github.com/portico-gw/portico/gen/portico/config/v1"
	"github.com/portico-gw/portico/pipeline"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
)

// ErrAddressRefused answers a client address the rules refuse (403 /
// PERMISSION_DENIED).
var ErrAddressRefused = status.Error(codes.PermissionDenied, "client address not allowed")

// Build is the network policy kind: each API's client address rules
// (apis[].network) and each plain route's (routes[].network), as an early
// gate — after the global rules, which the edge applies to every request
// (Edge), and before authentication. Nil when no API or route sets a rule.
func Build(env pipeline.Env) (pipeline.Policy, error) {
	p := &policy{apis: map[*catalog.API]*Rules{}, routes: map[*catalog.PlainRoute]*Rules{}}
	var errs config.Errors
	seen := map[*catalog.API]bool{}
	for _, m := range env.Catalog.MethodList() {
		api := m.API()
		if api == nil || seen[api] {
			continue
		}
		seen[api] = true
		if rules, rerrs := newRules(api.Where+".network", api.Settings.GetNetwork()); rules != nil {
			p.apis[api] = rules
		} else {
			errs = append(errs, rerrs...)
		}
	}
	for _, r := range env.Catalog.Routes() {
		if rules, rerrs := newRules(r.Where+".network", r.Settings.GetNetwork()); rules != nil {
			p.routes[r] = rules
		} else {
			errs = append(errs, rerrs...)
		}
	}
	if len(errs) > 0 {
		return nil, errs
	}
	if len(p.apis) == 0 && len(p.routes) == 0 {
		return nil, nil
	}
	return p, nil
}

func newRules(field string, n *configv1.IpRules) (*Rules, config.Errors) {
	return NewRules(field, n.GetAllow(), n.GetDeny())
}

type policy struct {
	apis   map[*catalog.API]*Rules
	routes map[*catalog.PlainRoute]*Rules
}

func (p *policy) Stage(m *catalog.Method) (pipeline.Stage, error) {
	return stage(p.apis[m.API()]), nil
}

func (p *policy) RouteStage(r *catalog.PlainRoute) (pipeline.Stage, error) {
	return stage(p.routes[r]), nil
}

func stage(rules *Rules) pipeline.Stage {
	if rules == nil {
		return pipeline.Stage{}
	}
	return pipeline.Stage{Early: func(ctx context.Context, info *call.Info) (context.Context, error) {
		if !rules.Allowed(info.ClientIP) {
			info.Refusal = "network"
			return nil, ErrAddressRefused
		}
		return ctx, nil
	}}
}
