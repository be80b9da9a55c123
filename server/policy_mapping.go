package server

import (
	"fmt"

	"github.com/portico-gw/portico/catalog"
	"github.com/portico-gw/portico/config"
	"github.com/portico-gw/portico/integrations/mapping"
	"github.com/portico-gw/portico/pipeline"
)

// mappingPolicy applies the integration request mapping
// (apis[].request: forwarded headers, static metadata), innermost — just
// before the backend, after every gate and interceptor, so it sees the
// identity metadata authentication set — on both doors alike; nil when no
// API maps its requests.
func mappingPolicy(b *buildEnv) (pipeline.Policy, error) {
	byService := map[string]*mapping.Request{}
	var problems config.Errors
	for i, a := range b.cfg.Config.GetApis() {
		if a.GetRequest() == nil {
			continue
		}
		r, err := mapping.NewRequest(a.GetRequest(), b.reserved)
		if err != nil {
			problems = append(problems, &config.Error{Field: fmt.Sprintf("apis[%d].request", i), Message: err.Error()})
			continue
		}
		for _, s := range a.GetServices() {
			byService[s] = r
		}
	}
	if len(problems) > 0 {
		return nil, problems
	}
	if len(byService) == 0 {
		return nil, nil
	}
	return pipeline.PolicyFunc(func(m *catalog.Method) (pipeline.Stage, error) {
		r := byService[string(m.Desc.Parent().FullName())]
		if r == nil {
			return pipeline.Stage{}, nil
		}
		return pipeline.Stage{Unary: r.Unary, Stream: r.Stream}, nil
	}), nil
}
