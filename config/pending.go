package config

import (
	"fmt"

	configv1 "github.com/portico-gw/portico/gen/portico/config/v1"
)

// notImplemented is the message of a key the schema has but the gateway
// does not act on yet: refused, rather than silently ignored.
const notImplemented = "not implemented yet"

// checkPending refuses the keys whose behaviour is not built yet (the
// response cache and gateway_responses), and requires an http
// integration's url (or urls).
// Each line goes when its feature lands.
func checkPending(cfg *configv1.Config, errs *errorList) {
	if g := cfg.GetGatewayResponses(); len(g.GetHeaders()) > 0 || len(g.GetErrors()) > 0 {
		errs.add("gateway_responses", notImplemented)
	}
	if cfg.GetCache() != nil {
		errs.add("cache", notImplemented)
	}
	for i, api := range cfg.GetApis() {
		for j, mp := range api.GetMethods() {
			where := fmt.Sprintf("apis[%d].methods[%d]", i, j)
			if mp.GetCache() != nil {
				errs.add(where+".cache", notImplemented)
			}
		}
	}
	for i, in := range cfg.GetIntegrations() {
		h := in.GetHttp()
		if h == nil {
			continue
		}
		where := fmt.Sprintf("integrations[%d].http", i)
		if h.GetUrl() == "" && len(h.GetUrls()) == 0 {
			errs.add(where+".url", "is required")
		}
		if h.GetUrl() != "" && len(h.GetUrls()) > 0 {
			errs.add(where+".urls", "set url or urls, not both")
		}
	}
}
