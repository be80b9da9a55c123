package config

import (
	"fmt"
	"net"
	"sort"
	"strings"

	configv1 "github.com/portico-gw/portico/gen/portico/config/v1"
)

// check records the problems that the schema's rules cannot express: those
// that relate one field to another (names referenced, addresses shared),
// and the syntax of addresses, grpc targets and URLs (address.go). Values
// the rules already reject (an empty name, say) are skipped here, so each
// problem is reported once.
func check(cfg *configv1.Config, errs *errorList) {
	checkListen(cfg.GetListen(), errs)
	known := checkIntegrations(cfg.GetIntegrations(), errs)
	checkApis(cfg.GetApis(), known, errs)
	checkRoutes(cfg.GetRoutes(), known, errs)
	checkEndpoints(cfg, errs)
	checkHTTPURLs(cfg, errs)
}

// checkListen checks that each listen address is host:port with a numeric
// port, and that no two doors share an address.
func checkListen(l *configv1.Listen, errs *errorList) {
	seen := map[string]string{} // address -> field
	for _, a := range []struct{ field, addr string }{
		{"listen.http", l.GetHttp()},
		{"listen.grpc", l.GetGrpc()},
		{"listen.admin", l.GetAdmin()},
	} {
		if a.addr == "" {
			continue
		}
		if msg := listenAddress(a.addr); msg != "" {
			errs.add(a.field, msg)
			continue
		}
		if _, port, _ := net.SplitHostPort(a.addr); port == "0" {
			continue // each ":0" listener gets a port of its own
		}
		if first, ok := seen[a.addr]; ok {
			errs.add(a.field, fmt.Sprintf("address %q is already used by %s", a.addr, first))
			continue
		}
		seen[a.addr] = a.field
	}
}

// checkIntegrations checks that integration names are unique and that
// targets and URLs are well-formed, and returns the kind of each name
// ("grpc", "http" or "mock").
func checkIntegrations(ints []*configv1.Integration, errs *errorList) map[string]string {
	known := map[string]string{}
	for i, in := range ints {
		name := in.GetName()
		kind := ""
		if g := in.GetGrpc(); g != nil {
			kind = "grpc"
			where := fmt.Sprintf("integrations[%d].grpc", i)
			switch {
			case g.GetTarget() == "" && len(g.GetTargets()) == 0:
				errs.add(where+".target", "is required (or targets)")
			case g.GetTarget() != "" && len(g.GetTargets()) > 0:
				errs.add(where, "target and targets are exclusive: set one")
			case g.GetTarget() != "":
				if msg := grpcTarget(g.GetTarget()); msg != "" {
					errs.add(where+".target", msg)
				}
			}
			for j, t := range g.GetTargets() {
				if t.GetTarget() == "" {
					continue // the schema's rules say it is required
				}
				if msg := grpcTarget(t.GetTarget()); msg != "" {
					errs.add(fmt.Sprintf("%s.targets[%d].target", where, j), msg)
				}
			}
		}
		if h := in.GetHttp(); h != nil {
			kind = "http"
			if u := h.GetUrl(); u != "" {
				if msg := httpURL(u); msg != "" {
					errs.add(fmt.Sprintf("integrations[%d].http.url", i), msg)
				}
			}
		}
		if in.GetMock() != nil {
			kind = "mock"
		}
		if name == "" {
			continue
		}
		if _, dup := known[name]; dup {
			errs.add(fmt.Sprintf("integrations[%d].name", i), fmt.Sprintf("duplicate integration %q", name))
			continue
		}
		known[name] = kind
	}
	return known
}

// checkApis checks that each api names a known integration, and that each
// service is exposed by one api only.
func checkApis(apis []*configv1.Api, known map[string]string, errs *errorList) {
	services := map[string]string{} // service -> field where first listed
	for i, api := range apis {
		if in := api.GetIntegration(); in != "" {
			if _, ok := known[in]; !ok {
				errs.add(fmt.Sprintf("apis[%d].integration", i), fmt.Sprintf("unknown integration %q (%s)", in, knownNames(known, "")))
			}
		}
		for j, s := range api.GetServices() {
			if s == "" {
				continue
			}
			field := fmt.Sprintf("apis[%d].services[%d]", i, j)
			if first, ok := services[s]; ok {
				errs.add(field, fmt.Sprintf("service %q is already listed at %s", s, first))
				continue
			}
			services[s] = field
		}
	}
}

// checkRoutes checks that each route names an http integration.
func checkRoutes(routes []*configv1.Route, known map[string]string, errs *errorList) {
	for i, r := range routes {
		in := r.GetIntegration()
		if in == "" {
			continue // the schema's rules say it is required
		}
		field := fmt.Sprintf("routes[%d].integration", i)
		switch kind, ok := known[in]; {
		case !ok:
			errs.add(field, fmt.Sprintf("unknown http integration %q (%s)", in, knownNames(known, "http")))
		case kind != "http":
			errs.add(field, fmt.Sprintf("integration %q is a %s integration; routes proxy to http integrations only", in, kind))
		}
	}
}

// checkEndpoints checks the syntax of the other addresses the gateway
// calls: an external authorizer's grpc target, the OTLP receiver and Redis.
func checkEndpoints(cfg *configv1.Config, errs *errorList) {
	for i, p := range cfg.GetAuth().GetProviders() {
		if t := p.GetExternal().GetTarget(); t != "" {
			if msg := grpcTarget(t); msg != "" {
				errs.add(fmt.Sprintf("auth.providers[%d].external.target", i), msg)
			}
		}
		if j := p.GetJwt(); j != nil {
			where := fmt.Sprintf("auth.providers[%d].jwt", i)
			if u := j.GetJwksUri(); u != "" {
				if msg := fetchURL(u); msg != "" {
					errs.add(where+".jwks_uri", msg)
				}
			}
			if iss := j.GetIssuer(); iss != "" && j.GetDiscovery() {
				if msg := fetchURL(iss); msg != "" {
					errs.add(where+".issuer", msg+" (discovery fetches {issuer}/.well-known/openid-configuration)")
				}
			}
		}
	}
	if e := cfg.GetTelemetry().GetTraces().GetOtlpEndpoint(); e != "" {
		if msg := hostPort(e); msg != "" {
			errs.add("telemetry.traces.otlp_endpoint", msg)
		}
	}
	if a := cfg.GetRateLimits().GetRedis().GetAddress(); a != "" {
		if msg := hostPort(a); msg != "" {
			errs.add("rate_limits.redis.address", msg)
		}
	}
}

// knownNames lists the integration names of a kind ("" for all) for a
// message.
func knownNames(known map[string]string, kind string) string {
	var names []string
	for n, k := range known {
		if kind == "" || k == kind {
			names = append(names, n)
		}
	}
	if len(names) == 0 {
		return "none are defined"
	}
	sort.Strings(names)
	return "known: " + strings.Join(names, ", ")
}
