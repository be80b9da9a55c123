package server

import "github.com/portico-gw/portico/pipeline"

// mappingPolicy applies the integration request mapping
// (apis[].request: forwarded headers, static metadata), innermost; nil
// when no API maps its requests.
func mappingPolicy(b *buildEnv) (pipeline.Policy, error) {
	return nil, nil
}
