package snapshot

import (
	"github.com/portico-gw/portico/integrations"
	"github.com/portico-gw/portico/integrations/grpcbackend"
	"github.com/portico-gw/portico/integrations/httpbackend"
	"github.com/portico-gw/portico/integrations/mock"
)

// DefaultKinds are the integration kinds Portico builds in, by the config
// field that selects each.
func DefaultKinds() integrations.Registry {
	return integrations.Registry{
		"grpc": grpcbackend.Factory,
		"http": httpbackend.Factory,
		"mock": mock.Factory,
	}
}
