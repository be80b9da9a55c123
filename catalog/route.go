package catalog

import (
	"fmt"

	configv1 "github.com/portico-gw/portico/gen/portico/config/v1"
)

// PlainRoute is one routes[] entry of the config: a path prefix proxied
// to an http integration, with policies of its own (auth, rate limits,
// network rules). It is an entry of the catalog beside the methods, with
// a pipeline of its own (gates only: it has no message to decode); the
// REST door's plain-route edge serves it.
type PlainRoute struct {
	// Where is the entry's key path, e.g. "routes[2]", for errors.
	Where string
	// Index is the entry's position in routes[].
	Index int
	// Prefix is the path prefix as configured.
	Prefix string
	// BackendName is the integration the route is proxied to.
	BackendName string
	// Settings are the entry as the config gives it.
	Settings *configv1.Route
}

// Key is the route's name in rate-limit keys ("route:" and its prefix).
func (r *PlainRoute) Key() string { return "route:" + r.Prefix }

// addRoutes makes the plain routes' entries. Their paths and
// integrations are checked where they are served (they need the http
// integrations' own path rules).
func (b *builder) addRoutes() {
	for i, r := range b.opts.Routes {
		b.cat.routes = append(b.cat.routes, &PlainRoute{
			Where:       fmt.Sprintf("routes[%d]", i),
			Index:       i,
			Prefix:      r.GetPrefix(),
			BackendName: r.GetIntegration(),
			Settings:    r,
		})
	}
}
