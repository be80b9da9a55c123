package catalog

import (
	"fmt"
	"net"
	"regexp"
	"strings"

	"github.com/portico-gw/portico/catalog/httprule"
)

// Custom domains and base paths (apis[].hosts, apis[].base_path).
//
// A base path is part of every HTTP binding's template (it is parsed with
// it), so the router, the route listings and the OpenAPI document see the
// path as it is served. Hosts are kept per API: the REST door keeps a
// router per host (transcoder), the gRPC door's pipeline checks
// :authority, and route conflicts are looked for among the bindings that
// can serve the same host.

// hostName is an exact host name or a "*." wildcard of one label, in
// lower case.
var hostName = regexp.MustCompile(`^(\*\.)?[a-z0-9]([a-z0-9-]*[a-z0-9])?(\.[a-z0-9]([a-z0-9-]*[a-z0-9])?)*$`)

// checkHosts reports the first host of an API that is not a host name.
func checkHosts(hosts []string) (int, error) {
	for i, h := range hosts {
		if !hostName.MatchString(h) {
			return i, fmt.Errorf("%q: want a lower-case host name (api.example.com) or a wildcard of one label (*.example.com), no port", h)
		}
	}
	return 0, nil
}

// checkBasePath reports why p cannot be a base path.
func checkBasePath(p string) error {
	if p == "" {
		return nil
	}
	t, err := httprule.Parse(p)
	if err == nil && (t.Verb != "" || len(t.Vars) > 0 || strings.HasSuffix(p, "/")) {
		err = fmt.Errorf("want literal segments only")
	}
	if err == nil {
		for _, s := range t.Segments {
			if s.Kind != httprule.Literal {
				err = fmt.Errorf("want literal segments only")
			}
		}
	}
	if err != nil {
		return fmt.Errorf("%q: %v, e.g. /bookstore (no trailing /)", p, err)
	}
	return nil
}

// Hosts are the host names an API is served for: exact names and "*."
// wildcards; none: any host.
func (a *API) Hosts() []string { return a.Settings.GetHosts() }

// BasePath is the prefix of the API's HTTP bindings; "" for none.
func (a *API) BasePath() string { return a.Settings.GetBasePath() }

// ServesHost reports whether the API is served for host (as HostOf gives
// it). An API without hosts serves every host.
func (a *API) ServesHost(host string) bool {
	hosts := a.Hosts()
	if len(hosts) == 0 {
		return true
	}
	for _, h := range hosts {
		if h == host || strings.HasPrefix(h, "*.") && WildcardOf(host) == h {
			return true
		}
	}
	return false
}

// HostOf is the host name of a Host header or :authority as APIs' hosts
// are matched against it: without the port and a final dot, lower-case.
func HostOf(authority string) string {
	h := authority
	if host, _, err := net.SplitHostPort(authority); err == nil {
		h = host
	}
	return strings.ToLower(strings.TrimSuffix(h, "."))
}

// WildcardOf is the wildcard host that serves host: "*." and host
// without its first label ("" when host has one label only).
func WildcardOf(host string) string {
	_, parent, ok := strings.Cut(host, ".")
	if !ok || parent == "" {
		return ""
	}
	return "*." + parent
}

// hostKeys are the groups a binding's conflicts are looked for in: each
// of its API's hosts, or "" for an API without hosts.
func hostKeys(m *Method) []string {
	if m.api == nil || len(m.api.Hosts()) == 0 {
		return []string{""}
	}
	return m.api.Hosts()
}
