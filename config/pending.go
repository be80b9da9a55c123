package config

import (
	"fmt"

	configv1 "github.com/portico-gw/portico/gen/portico/config/v1"
)

// notImplemented is the message of a key the schema has but the gateway
// does not act on yet: refused, rather than silently ignored.
const notImplemented = "not implemented yet"

// checkPending refuses the keys whose behaviour is not built yet (shadow
// traffic, the http integration's several URLs, health checks, retries and
// outlier ejection).
// Each line goes when its feature lands.
func checkPending(cfg *configv1.Config, errs *errorList) {
	for i, api := range cfg.GetApis() {
		for j, mp := range api.GetMethods() {
			where := fmt.Sprintf("apis[%d].methods[%d]", i, j)
			if mp.GetMirror() != nil {
				errs.add(where+".mirror", notImplemented)
			}
		}
	}
	for i, in := range cfg.GetIntegrations() {
		h := in.GetHttp()
		if h == nil {
			continue
		}
		where := fmt.Sprintf("integrations[%d].http", i)
		if len(h.GetUrls()) > 0 {
			errs.add(where+".urls", notImplemented+" (set url)")
		}
		if h.GetLoadBalancing() != "" {
			errs.add(where+".load_balancing", notImplemented)
		}
		if h.GetHealthCheck() != nil {
			errs.add(where+".health_check", notImplemented)
		}
		if h.GetRetry() != nil {
			errs.add(where+".retry", notImplemented)
		}
		if h.GetOutlierDetection() != nil {
			errs.add(where+".outlier_detection", notImplemented)
		}
		if h.GetUrl() == "" && len(h.GetUrls()) == 0 {
			errs.add(where+".url", "is required")
		}
	}
}
