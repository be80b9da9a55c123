// Package server assembles Portico: it builds immutable snapshots from a
// config (catalog, integrations, pipeline, REST door), and runs the
// listeners — the REST door, the gRPC door and the admin endpoints.
package server

import (
	"errors"
	"fmt"
	"log/slog"

	"github.com/portico-gw/portico/catalog"
	"github.com/portico-gw/portico/config"
	"github.com/portico-gw/portico/integrations/grpcbackend"
	"github.com/portico-gw/portico/pipeline"
	"github.com/portico-gw/portico/transcoder"
	"github.com/portico-gw/portico/validate"
	"google.golang.org/grpc"
	"google.golang.org/protobuf/reflect/protoregistry"
)

// Snapshot is everything built from one config: immutable, checked whole
// when built, served until replaced.
type Snapshot struct {
	Config   *config.File
	Catalog  *catalog.Catalog
	Pipeline *pipeline.Pipeline
	REST     *transcoder.Transcoder

	integrations []*grpcbackend.Integration
}

// BuildOptions adjust how a snapshot is built.
type BuildOptions struct {
	// Logger receives panics caught by the pipeline. Default slog.Default().
	Logger *slog.Logger
	// DialOptions are added to every grpc integration (tests: bufconn).
	DialOptions []grpc.DialOption
	// REST tunes the REST door.
	REST transcoder.Options
}

// Build makes a snapshot from a loaded config. Every error — an unreadable
// descriptor set, a service missing from it, a bad HTTP rule, a route
// conflict, a rule naming a missing field, a bad validation rule — is
// reported here, never on a request.
func Build(cfg *config.File, opts BuildOptions) (*Snapshot, error) {
	if opts.Logger == nil {
		opts.Logger = slog.Default()
	}
	c := cfg.Config
	var files *protoregistry.Files
	if len(c.GetDescriptors()) > 0 {
		var err error
		if files, err = catalog.LoadSources(cfg.Dir, c.GetDescriptors(), c.GetProtoPaths()); err != nil {
			return nil, err
		}
	}
	rulePaths := make([]string, len(c.GetHttpRules()))
	for i, p := range c.GetHttpRules() {
		rulePaths[i] = cfg.Resolve(p)
	}
	rules, err := catalog.LoadHTTPRules(rulePaths)
	if err != nil {
		return nil, err
	}

	s := &Snapshot{Config: cfg}
	backends := map[string]*grpcbackend.Integration{}
	for i, in := range c.GetIntegrations() {
		g := in.GetGrpc()
		if g == nil {
			s.Close()
			return nil, fmt.Errorf("integrations[%d]: no backend kind (grpc)", i)
		}
		b, err := grpcbackend.New(in.GetName(), grpcbackend.Options{
			Target:      g.GetTarget(),
			Timeout:     g.GetTimeout().AsDuration(),
			DialOptions: opts.DialOptions,
		})
		if err != nil {
			s.Close()
			return nil, fmt.Errorf("integrations[%d]: %v", i, err)
		}
		s.integrations = append(s.integrations, b)
		backends[in.GetName()] = b
	}
	apis := make([]catalog.API, len(c.GetApis()))
	for i, a := range c.GetApis() {
		api := catalog.API{
			Where:           fmt.Sprintf("apis[%d]", i),
			Services:        a.GetServices(),
			BackendName:     a.GetIntegration(),
			DefaultBindings: a.GetDefaultBindings(),
		}
		if b, ok := backends[a.GetIntegration()]; ok {
			api.Backend = b
		}
		apis[i] = api
	}
	cat, err := catalog.New(catalog.Options{Files: files, Rules: rules, APIs: apis, Strict: c.GetStrictRoutes()})
	if err != nil {
		s.Close()
		return nil, err
	}
	s.Catalog = cat

	val, err := validate.New(cat.MethodList())
	if err != nil {
		s.Close()
		return nil, err
	}
	recoverUnary, recoverStream := pipeline.Recover(opts.Logger)
	s.Pipeline = pipeline.New(
		[]grpc.UnaryServerInterceptor{recoverUnary, val.Unary},
		[]grpc.StreamServerInterceptor{recoverStream, val.Stream},
	)
	restOpts := opts.REST
	restOpts.ForwardHeaders = append(restOpts.ForwardHeaders, c.GetRest().GetForwardHeaders()...)
	if s.REST, err = transcoder.New(cat, s.Pipeline, restOpts); err != nil {
		s.Close()
		return nil, err
	}
	return s, nil
}

// Close releases the snapshot's integrations.
func (s *Snapshot) Close() error {
	var errs []error
	for _, b := range s.integrations {
		errs = append(errs, b.Close())
	}
	return errors.Join(errs...)
}
