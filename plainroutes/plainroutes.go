// Package plainroutes serves the config's plain HTTP routes (routes[]):
// path prefixes proxied to http integrations, through the same decisions
// as proto methods. The shape:
//
//   - What runs before routing applies to them as to every REST request:
//     they sit inside the REST door's edges (client address, global
//     allow/deny, CORS, CSRF) and its HTTP middleware (telemetry).
//   - Each route is an entry of the catalog (catalog.PlainRoute) with a
//     pipeline of its own (pipeline.Route): the policy kinds that gate
//     routes (pipeline.RoutePolicy: authentication, rate limits, network
//     rules) give it gates from the route's own settings (routes[i].auth,
//     .rate_limits, .network).
//   - Only gates run: a route has no message to decode, validate,
//     authorize on fields or map. What gates add to the incoming metadata
//     for the backend (the caller's identity) becomes request headers; the
//     names Portico reserves for that are removed from what the client
//     sent. Headers policies set for the response (Retry-After,
//     RateLimit-*) are added to the backend's response.
//   - Fail closed: a route that declares auth, rate_limits or network
//     rules but gets no gate from the policies is a config error, so a
//     route is never open by mistake.
//   - Routes take precedence over proto methods for paths under their
//     prefix; a prefix that covers a method's HTTP route is a config error.
//   - One canonical path (serve.go): a route is chosen, decided on and
//     forwarded on the same path, httpbackend.ParsePath's canonical form;
//     a path a backend could read differently is refused before any route
//     is chosen.
package plainroutes

import (
	"fmt"
	"net/http"
	"sort"
	"strings"

	"github.com/portico-gw/portico/catalog"
	"github.com/portico-gw/portico/catalog/httprule"
	"github.com/portico-gw/portico/config"
	configv1 "github.com/portico-gw/portico/gen/portico/config/v1"
	"github.com/portico-gw/portico/integrations"
	"github.com/portico-gw/portico/integrations/httpbackend"
	"github.com/portico-gw/portico/pipeline"
	"google.golang.org/grpc/status"
)

// route is one built plain HTTP route.
type route struct {
	prefix string // as configured
	match  string // the prefix's canonical decoded form, without its trailing "/"
	pr     *pipeline.Route
	proxy  http.Handler
}

// Options are what the routes are served with.
type Options struct {
	// Catalog holds the routes (Catalog.Routes) and the methods they
	// must not cover.
	Catalog *catalog.Catalog
	// Pipeline holds each route's gates.
	Pipeline *pipeline.Pipeline
	// Backend returns the integration called name, nil when there is
	// none.
	Backend func(name string) integrations.Backend
	// Reserved reports the metadata names policies set for backends.
	Reserved func(string) bool
	// MaxBodyBytes bounds a proxied request body (413).
	MaxBodyBytes int64
	// OnError answers a refused request in the REST door's format.
	OnError func(http.ResponseWriter, *http.Request, error)
}

// New serves the catalog's plain HTTP routes and hands every other
// request to next; next itself when there are none. Every route is
// checked: its prefix (canonical, unique in any letter case, covering no
// method's binding), its integration (an http one), and that a route
// declaring decisions gets gates.
func New(next http.Handler, o Options) (http.Handler, error) {
	routes := o.Catalog.Routes()
	if len(routes) == 0 {
		return next, nil
	}
	var problems config.Errors
	add := func(field, format string, args ...any) {
		problems = append(problems, &config.Error{Field: field, Message: fmt.Sprintf(format, args...)})
	}
	backends := make([]*httpbackend.Integration, len(routes))
	matches, parsed := make([]string, len(routes)), make([]bool, len(routes))
	for i, r := range routes {
		where := r.Where
		p, err := httpbackend.ParsePath(r.Prefix)
		if err != nil {
			add(where+".prefix", "%q: %s", r.Prefix, status.Convert(err).Message())
			continue
		}
		m := strings.TrimSuffix(p.Decoded, "/")
		matches[i], parsed[i] = m, true
		for first := range i {
			// Routes are looked up ignoring letter case (see match).
			switch {
			case !parsed[first]:
			case matches[first] == m:
				add(where+".prefix", "%q is also the prefix of routes[%d]", r.Prefix, first)
			case strings.EqualFold(matches[first], m):
				add(where+".prefix", "%q differs from the prefix of routes[%d] only in letter case", r.Prefix, first)
			}
		}
		be := o.Backend(r.BackendName)
		hb, ok := be.(*httpbackend.Integration)
		switch {
		case be == nil:
			add(where+".integration", "unknown integration %q", r.BackendName)
		case !ok:
			add(where+".integration", "%q is not an http integration (routes are proxied to http integrations)", r.BackendName)
		}
		backends[i] = hb
		for _, cm := range o.Catalog.MethodList() {
			for _, bd := range cm.Bindings() {
				if _, ok := foldCovers(m, samplePath(bd.Template)); ok {
					add(where+".prefix", "%q covers %s %s (method %s): a route takes precedence, so the method would be unreachable",
						r.Prefix, bd.HTTPMethod, bd.Template.Raw, cm.Desc().FullName())
				}
			}
		}
	}
	if len(problems) > 0 {
		return nil, problems
	}
	h := &routesHandler{next: next, reserved: o.Reserved, maxBody: o.MaxBodyBytes, onError: o.OnError}
	for i, r := range routes {
		pr := o.Pipeline.Route(r)
		if pr == nil {
			pr = &pipeline.Route{PlainRoute: r} // no policy gates it
		}
		if declaresGates(r.Settings) && !pr.HasGate() {
			add(r.Where, "declares auth, rate_limits or network rules, but no policy gates it (routes fail closed)")
			continue
		}
		rt := &route{prefix: r.Prefix, match: matches[i], pr: pr}
		po := httpbackend.ProxyOptions{OnError: h.proxyError, ModifyResponse: h.policyHeaders, Header: h.forwardHeaders}
		if r.Settings.GetStripPrefix() {
			po.StripPrefix = r.Prefix
		}
		var err error
		if rt.proxy, err = backends[i].Proxy(po); err != nil {
			add(r.Where+".prefix", "%q: %s", r.Prefix, status.Convert(err).Message())
			continue
		}
		h.routes = append(h.routes, rt)
	}
	if len(problems) > 0 {
		return nil, problems
	}
	// The longest prefix first: /api/v2/ before /api/.
	sort.SliceStable(h.routes, func(i, j int) bool { return len(h.routes[i].match) > len(h.routes[j].match) })
	return h, nil
}

// declaresGates reports whether a route asks for decisions a policy must
// make.
func declaresGates(r *configv1.Route) bool {
	a := r.GetAuth()
	return a != nil && !a.GetPublic() && (len(a.GetProviders()) > 0 || a.GetRequire() != "") ||
		len(r.GetRateLimits()) > 0 ||
		len(r.GetNetwork().GetAllow()) > 0 || len(r.GetNetwork().GetDeny()) > 0
}

// samplePath is a path a template matches: its wildcards filled in.
func samplePath(t *httprule.Template) string {
	var b strings.Builder
	for _, s := range t.Segments {
		b.WriteByte('/')
		if s.Kind == httprule.Literal {
			b.WriteString(s.Literal)
		} else {
			b.WriteString("x")
		}
	}
	if t.Verb != "" {
		b.WriteString(":" + t.Verb)
	}
	return b.String()
}
