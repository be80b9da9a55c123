package snapshot

import (
	"github.com/portico-gw/portico/config"
	configv1 "github.com/portico-gw/portico/gen/portico/config/v1"
)

// notImplemented reports the config keys the schema has but the gateway
// does not serve yet (issue 18's later steps): a config that sets them is
// refused rather than served as if they were not there.
func notImplemented(c *configv1.Config) config.Errors {
	const msg = "not implemented yet"
	var errs config.Errors
	if g := c.GetGatewayResponses(); len(g.GetHeaders()) > 0 || len(g.GetErrors()) > 0 {
		errs = append(errs, &config.Error{Field: "gateway_responses", Message: msg})
	}
	return errs
}
