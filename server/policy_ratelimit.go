package server

import "github.com/portico-gw/portico/pipeline"

// rateLimitPolicy gates calls on rate limits and usage plans
// (rate_limits, usage_plans, apis[].rate_limits); nil when none apply.
func rateLimitPolicy(b *buildEnv) (pipeline.Policy, error) {
	return nil, nil
}
