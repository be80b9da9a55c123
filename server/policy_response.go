package server

import (
	"errors"
	"fmt"

	"github.com/portico-gw/portico/catalog"
	"github.com/portico-gw/portico/config"
	"github.com/portico-gw/portico/pipeline"
	"github.com/portico-gw/portico/responsemap"
)

// addResponsePolicy compiles each API's method response mapping
// (apis[].response) and adds the policy that applies it on both doors
// (the forward_metadata allow-list, hidden internal errors) with add —
// outermost, so it sees the status the call ends with. It also hands the
// REST door what only HTTP has (status overrides, problem+json errors)
// and the origins whose pages may open WebSocket streams
// (cors.allowed_origins), through the REST options builders may set.
// Bad code names, statuses or metadata names are config errors located at
// their key ("apis[0].response.status[\"NOPE\"]").
func addResponsePolicy(b *buildEnv, add func(pipeline.Policy)) error {
	bySvc := map[string]*responsemap.Mapping{}
	var errs config.Errors
	for i, api := range b.cfg.Config.GetApis() {
		field := fmt.Sprintf("apis[%d].response", i)
		m, err := responsemap.Compile(field, api.GetResponse())
		if err != nil {
			var ce config.Errors
			if !errors.As(err, &ce) {
				ce = config.Errors{{Field: field, Message: err.Error()}}
			}
			errs = append(errs, ce...)
			continue
		}
		if m == nil {
			continue
		}
		for _, svc := range api.GetServices() {
			bySvc[svc] = m
		}
	}
	if len(errs) > 0 {
		return errs
	}
	rest := &b.opts.REST
	if rest.WebSocketOrigins == nil {
		rest.WebSocketOrigins = b.cfg.Config.GetCors().GetAllowedOrigins()
	}
	if len(bySvc) == 0 {
		return nil
	}
	mappingOf := func(m *catalog.Method) *responsemap.Mapping {
		return bySvc[string(m.Desc.Parent().FullName())]
	}
	if rest.Response == nil {
		rest.Response = mappingOf
	}
	log := b.opts.Logger
	add(pipeline.PolicyFunc(func(m *catalog.Method) (pipeline.Stage, error) {
		return mappingOf(m).Stage(log), nil
	}))
	return nil
}
