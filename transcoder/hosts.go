package transcoder

import (
	"strings"

	"github.com/portico-gw/portico/catalog"
	"github.com/portico-gw/portico/catalog/httprule"
	"github.com/portico-gw/portico/transcoder/router"
)

// hostRouters is the REST door's host layer (apis[].hosts), in front of
// the path router: one router for the APIs without hosts, and one per
// host name and per wildcard of the APIs that have some. A request is
// looked up in its host's router, then in its wildcard's, then in the
// hostless one: the first that has the route serves it. Two map reads per
// request at most, whatever the number of hosts; none when no API has
// hosts.
type hostRouters struct {
	any   *router.Router[*route]
	exact map[string]*router.Router[*route] // "api.example.com"
	wild  map[string]*router.Router[*route] // "shop.example.com" for "*.shop.example.com"
}

func newHostRouters() *hostRouters { return &hostRouters{any: router.New[*route]()} }

// add adds a route for the hosts of its API (none: any host).
func (h *hostRouters) add(hosts []string, method string, tpl *httprule.Template, rt *route) error {
	if len(hosts) == 0 {
		return h.any.Add(method, tpl, rt)
	}
	for _, host := range hosts {
		table, name := &h.exact, host
		if parent, ok := strings.CutPrefix(host, "*."); ok {
			table, name = &h.wild, parent
		}
		if *table == nil {
			*table = map[string]*router.Router[*route]{}
		}
		r := (*table)[name]
		if r == nil {
			r = router.New[*route]()
			(*table)[name] = r
		}
		if err := r.Add(method, tpl, rt); err != nil {
			return err
		}
	}
	return nil
}

// forHost returns the routers a request for Host value hostHeader is
// looked up in, in order.
func (h *hostRouters) forHost(hostHeader string) hostView {
	if h.exact == nil && h.wild == nil {
		return hostView{h.any}
	}
	host := catalog.HostOf(hostHeader)
	v := hostView{h.exact[host]}
	if _, parent, ok := strings.Cut(host, "."); ok {
		v[1] = h.wild[parent]
	}
	v[2] = h.any
	return v
}

// hostView is the routers of one request's host, most specific first
// (nil entries are skipped).
type hostView [3]*router.Router[*route]

// Lookup is router.Lookup over the host's routers: the first that has a
// route for path and method; the methods allowed on path are the first
// router's that knows path.
func (v hostView) Lookup(method, path string) (router.Match[*route], []string, bool) {
	var allowed []string
	for _, r := range v {
		if r == nil {
			continue
		}
		m, a, found := r.Lookup(method, path)
		if found {
			return m, a, true
		}
		if allowed == nil {
			allowed = a
		}
	}
	return router.Match[*route]{}, allowed, false
}
