package snapshot

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/portico-gw/portico/catalog"
	"github.com/portico-gw/portico/config"
	"github.com/portico-gw/portico/integrations"
	"google.golang.org/protobuf/types/descriptorpb"
)

// discoverer is implemented by integrations that can fetch the
// descriptors of the services they serve (grpc, from server reflection).
type discoverer interface {
	Discover(ctx context.Context, services []string) ([]*descriptorpb.FileDescriptorProto, error)
}

// discovery is what discover found: the descriptors fetched, and the
// integrations whose descriptors are not known (not fetched, or the fetch
// failed), whose APIs the rest of the build leaves out.
type discovery struct {
	files   []catalog.Discovered
	unknown map[string]bool
	// problems are the fetches that failed; skipped are the APIs a check
	// did not fetch (BuildOptions.Check without Discover), as warnings.
	problems config.Errors
	skipped  []*config.Error
}

// discover fetches, for every integration with `discover: true`, the
// descriptors of the services the config exposes through it. It runs on
// every build, so a reload fetches again; a backend without reflection, or
// one that is down, is a problem naming the integration. A check-only
// build (opts.Check) fetches nothing unless opts.Discover: it dials no
// backend. An integration that did not build (absent from backends) is
// not asked: its own problem is reported already.
func discover(opts Options, cfg *config.File, backends map[string]integrations.Backend) discovery {
	ctx := opts.Context
	if ctx == nil {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
	}
	c := cfg.Config
	d := discovery{unknown: map[string]bool{}}
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
		d.unknown[in.GetName()] = true
		field := fmt.Sprintf("integrations[%d].grpc.discover", i)
		b, built := backends[in.GetName()]
		switch {
		case !built:
			continue
		case opts.Check && !opts.Discover:
			d.skipped = append(d.skipped, &config.Error{Field: field, Message: fmt.Sprintf(
				"not checked: the descriptors of %s come from the backend's reflection when served; "+
					"a check does not dial the backend (--discover fetches them), so the APIs of integration %q were not checked",
				strings.Join(services, ", "), in.GetName())})
			continue
		}
		dd, ok := b.(discoverer)
		if !ok {
			d.problems = append(d.problems, &config.Error{Field: field, Message: "this integration cannot discover descriptors"})
			continue
		}
		files, err := dd.Discover(ctx, services)
		if err != nil {
			d.problems = append(d.problems, &config.Error{Field: field, Message: fmt.Sprintf("integration %q: %v", in.GetName(), err)})
			continue
		}
		delete(d.unknown, in.GetName())
		d.files = append(d.files, catalog.Discovered{Field: field, Files: files})
	}
	return d
}
