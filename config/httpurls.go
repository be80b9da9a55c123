package config

import (
	"fmt"

	configv1 "github.com/portico-gw/portico/gen/portico/config/v1"
)

// checkHTTPURLs requires an http integration's url or urls, not both (the
// schema cannot say it: either one alone is valid).
func checkHTTPURLs(cfg *configv1.Config, errs *errorList) {
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
