package server

import (
	"github.com/portico-gw/portico/config"
	"github.com/portico-gw/portico/pipeline"
	"github.com/portico-gw/portico/validate"
)

// buildPolicies makes the pipeline's policies from the config, in the
// order they run: gates first (network rules, authentication, rate limits;
// before the body is read), then what needs the decoded request
// (validation, authorization on fields), then the integration request
// mapping, innermost.
func buildPolicies(cfg *config.File, opts BuildOptions) ([]pipeline.Policy, error) {
	var out []pipeline.Policy
	val, err := validate.New()
	if err != nil {
		return nil, err
	}
	out = append(out, val)
	return out, nil
}
