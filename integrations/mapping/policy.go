package mapping

import (
	"github.com/portico-gw/portico/catalog"
	"github.com/portico-gw/portico/config"
	"github.com/portico-gw/portico/pipeline"
)

// Build is the request mapping policy kind (apis[].request: forwarded
// headers, static metadata), innermost — just before the backend, after
// every gate and interceptor, so it sees the identity metadata
// authentication set — on both doors alike. Nil when no API maps its
// requests.
func Build(env pipeline.Env) (pipeline.Policy, error) {
	byAPI := map[*catalog.API]*Request{}
	var problems config.Errors
	for _, m := range env.Catalog.MethodList() {
		api := m.API()
		if api == nil || api.Settings.GetRequest() == nil {
			continue
		}
		if _, done := byAPI[api]; done {
			continue
		}
		r, err := NewRequest(api.Settings.GetRequest(), env.Reserved)
		if err != nil {
			problems = append(problems, &config.Error{Field: api.Where + ".request", Message: err.Error()})
			byAPI[api] = nil
			continue
		}
		byAPI[api] = r
	}
	if len(problems) > 0 {
		return nil, problems
	}
	if len(byAPI) == 0 {
		return nil, nil
	}
	return pipeline.PolicyFunc(func(m *catalog.Method) (pipeline.Stage, error) {
		r := byAPI[m.API()]
		if r == nil {
			return pipeline.Stage{}, nil
		}
		return pipeline.Stage{Unary: r.Unary, Stream: r.Stream}, nil
	}), nil
}
