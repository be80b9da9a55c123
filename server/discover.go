package server

import (
	"context"
	"fmt"
	"time"

	"github.com/portico-gw/portico/catalog"
	"github.com/portico-gw/portico/config"
	configv1 "github.com/portico-gw/portico/gen/portico/config/v1"
	"github.com/portico-gw/portico/integrations"
	"google.golang.org/protobuf/types/descriptorpb"
)

// discoverer is implemented by integrations that can fetch the
// descriptors of the services they serve (grpc, from server reflection).
type discoverer interface {
	Discover(ctx context.Context, services []string) ([]*descriptorpb.FileDescriptorProto, error)
}

// discover fetches, for every integration with `discover: true`, the
// descriptors of the services the config exposes through it. It runs on
// every build, so a reload fetches again; a backend without reflection, or
// one that is down, is an error naming the integration.
func discover(ctx context.Context, c *configv1.Config, backends map[string]integrations.Backend) ([]catalog.Discovered, error) {
	if ctx == nil {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
	}
	var out []catalog.Discovered
	var problems config.Errors
	for i, in := range c.GetIntegrations() {
		if !in.GetGrpc().GetDiscover() {
			continue
		}
		var services []string
		for _, a := range c.GetApis() {
			if a.GetIntegration() == in.GetName() {
				services = append(services, a.GetServices()...)
			}
		}
		if len(services) == 0 {
			continue
		}
		field := fmt.Sprintf("integrations[%d].grpc.discover", i)
		d, ok := backends[in.GetName()].(discoverer)
		if !ok {
			problems = append(problems, &config.Error{Field: field, Message: "this integration cannot discover descriptors"})
			continue
		}
		files, err := d.Discover(ctx, services)
		if err != nil {
			problems = append(problems, &config.Error{Field: field, Message: fmt.Sprintf("integration %q: %v", in.GetName(), err)})
			continue
		}
		out = append(out, catalog.Discovered{Field: field, Files: files})
	}
	if len(problems) > 0 {
		return nil, problems
	}
	return out, nil
}
