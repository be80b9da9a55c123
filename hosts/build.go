// Package hosts is the policy kind that keeps the gRPC door to the host
// names of each API (apis[].hosts): a call whose :authority is not one of
// its API's hosts is refused as if its service were unknown
// (UNIMPLEMENTED), before anything else looks at it. The REST door needs
// no gate: it routes by Host (transcoder's host layer), so a request for
// another host never reaches the method.
package hosts

import (
	"context"
	"fmt"

	"github.com/portico-gw/portico/call"
	"github.com/portico-gw/portico/catalog"
	"github.com/portico-gw/portico/pipeline"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
)

// Build returns the policy, or nil when no API has hosts.
func Build(env pipeline.Env) (pipeline.Policy, error) {
	for _, a := range env.Config.Config.GetApis() {
		if len(a.GetHosts()) > 0 {
			return pipeline.PolicyFunc(stage), nil
		}
	}
	return nil, nil
}

// stage gates the methods of an API with hosts.
func stage(m *catalog.Method) (pipeline.Stage, error) {
	api := m.API()
	if api == nil || len(api.Hosts()) == 0 {
		return pipeline.Stage{}, nil
	}
	msg := fmt.Sprintf("unknown service %s", m.Desc().Parent().FullName())
	return pipeline.Stage{Early: func(ctx context.Context, info *call.Info) (context.Context, error) {
		if info.Door != call.GRPC || api.ServesHost(catalog.HostOf(info.Authority)) {
			return ctx, nil
		}
		info.Refusal = "host"
		return nil, status.Error(codes.Unimplemented, msg)
	}}, nil
}
