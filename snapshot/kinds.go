package snapshot

import (
	"github.com/portico-gw/portico/auth"
	"github.com/portico-gw/portico/cache"
	"github.com/portico-gw/portico/hosts"
	"github.com/portico-gw/portico/integrations/mapping"
	"github.com/portico-gw/portico/mirror"
	"github.com/portico-gw/portico/network"
	"github.com/portico-gw/portico/pipeline"
	"github.com/portico-gw/portico/ratelimit"
	"github.com/portico-gw/portico/responsemap"
	"github.com/portico-gw/portico/validate"
)

// kinds are the policy kinds, in the order they run. Each builds itself
// from its own settings (Build(pipeline.Env) (pipeline.Policy, error)).
// For each method (and plain route), the kinds' early gates run first in
// this order, then their gates, before the body is read; once the request
// is decoded, their interceptors run in this order, the first outermost:
//
//	early gates:   hosts (gRPC door), network rules, client_ip rate limits
//	gates:         authentication, the other rate limits and plans
//	interceptors:  response mapping, validation, authorization on request
//	               fields, the response cache, request mapping, mirror
//
// The response cache's interceptor runs after every gate (authentication,
// rate limits: a hit is counted and refused like any call) and after
// validation and authorization on request fields, so a cached answer
// skips none of them; it runs before the request mapping, which shapes
// only what the backend receives, and inside the response mapping, which
// then treats a hit as it treats the backend's answer.
//
// Adding a kind is its own package and one line here.
var kinds = []pipeline.Kind{
	{Name: "response mapping", Build: responsemap.Build}, // outermost: sees the status a call ends with
	{Name: "hosts", Build: hosts.Build},                  // early: the gRPC door's :authority against apis[].hosts
	{Name: "network", Build: network.Build},              // early: the API's or route's address rules
	{Name: "validation", Build: validate.Build},          // decoded requests with buf.validate rules
	{Name: "auth", Build: auth.Build},                    // gate: authentication; then rules on request fields
	{Name: "rate limits", Build: ratelimit.Build},        // early: client_ip limits; gate: the others, after auth
	{Name: "response cache", Build: cache.Build},         // after every gate and check: serves hits, keeps misses
	{Name: "request mapping", Build: mapping.Build},      // what the backend receives
	{Name: "mirror", Build: mirror.Build},                // innermost: copies the call as its backend gets it (a cache hit is not copied)
}
