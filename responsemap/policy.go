package responsemap

import (
	"errors"
	"log/slog"

	"github.com/portico-gw/portico/catalog"
	"github.com/portico-gw/portico/config"
	"github.com/portico-gw/portico/pipeline"
)

// Policy is the method response mapping kind, built: each API's mapping
// (apis[].response), applied on both doors as the outermost interceptors
// (they see the status the call ends with), and read by the REST door for
// what only HTTP has (status overrides, problem+json errors) through
// Mapping.
type Policy struct {
	byAPI map[*catalog.API]*Mapping
	log   *slog.Logger
}

// Build compiles each API's response mapping. Bad code names, statuses
// or metadata names are config errors at their key
// ("apis[0].response.status[\"NOPE\"]"). Nil when no API maps its
// responses.
func Build(env pipeline.Env) (pipeline.Policy, error) {
	p := &Policy{byAPI: map[*catalog.API]*Mapping{}, log: env.Logger}
	var errs config.Errors
	seen := map[*catalog.API]bool{}
	for _, m := range env.Catalog.MethodList() {
		api := m.API()
		if api == nil || seen[api] {
			continue
		}
		seen[api] = true
		field := api.Where + ".response"
		rm, err := Compile(field, api.Settings.GetResponse())
		if err != nil {
			var ce config.Errors
			if !errors.As(err, &ce) {
				ce = config.Errors{{Field: field, Message: err.Error()}}
			}
			errs = append(errs, ce...)
			continue
		}
		if rm != nil {
			p.byAPI[api] = rm
		}
	}
	if len(errs) > 0 {
		return nil, errs
	}
	if len(p.byAPI) == 0 {
		return nil, nil
	}
	return p, nil
}

// Stage applies the method's API's mapping on both doors.
func (p *Policy) Stage(m *catalog.Method) (pipeline.Stage, error) {
	return p.byAPI[m.API()].Stage(p.log), nil
}

// Mapping returns the mapping of a method's API, or nil (the REST door's
// status overrides and error format).
func (p *Policy) Mapping(m *catalog.Method) *Mapping { return p.byAPI[m.API()] }
