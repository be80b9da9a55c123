// Package admin implements portico.admin.v1.Admin, the gateway's admin
// API, over a Gateway: what is served (APIs, routes, integrations and
// their health), the running config (secrets redacted) and its hash,
// reload, and the graceful drain with its progress.
//
// The gateway serves it through its own doors, on the admin listener: the
// service is a compiled-in API whose backend is this process (InProcess),
// so REST/JSON goes through the same transcoder and gRPC through the same
// door as any exposed API, and the admin token is checked by a pipeline
// gate (RequireToken) on both.
package admin

import (
	"context"
	"errors"
	"log/slog"
	"sort"
	"time"

	"github.com/portico-gw/portico/auth"
	"github.com/portico-gw/portico/call"
	"github.com/portico-gw/portico/catalog"
	"github.com/portico-gw/portico/config"
	adminv1 "github.com/portico-gw/portico/gen/portico/admin/v1"
	"github.com/portico-gw/portico/ratelimit"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/types/known/durationpb"
	"google.golang.org/protobuf/types/known/timestamppb"
)

// Gateway is the running gateway as the admin API sees it.
type Gateway interface {
	// Current describes the snapshot being served.
	Current() State
	// Reload rebuilds the config and serves it if it builds. It returns
	// ErrNoReload when the gateway cannot rebuild.
	Reload(ctx context.Context) error
	// LastReload is the outcome of the last reload.
	LastReload() Reload
	// Drain starts the graceful drain, unless it has started; it does not
	// wait for it.
	Drain()
	// DrainStatus reports the drain's progress.
	DrainStatus() Drain
}

// State is one snapshot: its config, catalog and integrations, its
// api_key providers' keys and its rate limiter.
type State struct {
	Config       *config.File
	Catalog      *catalog.Catalog
	Integrations []Integration
	// Keys are the api_key providers, in config order.
	Keys []auth.KeyProvider
	// Limiter counts calls against usage plans; nil without rate limits.
	Limiter *ratelimit.Limiter
	// Cache is the response cache; nil when no method is cached.
	Cache Purger
}

// Purger drops cached answers (the response cache): those of method,
// those under keyPrefix, or all; errors are gRPC statuses.
type Purger interface {
	Purge(ctx context.Context, method, keyPrefix string) (int64, error)
}

// Integration is one integration and what it knows of its backend.
type Integration struct {
	Name, Kind string
	// Ready is nil when the integration does not track its backend.
	Ready *bool
	// State is the connection's state (READY, TRANSIENT_FAILURE, ...), if
	// the integration has one.
	State string
	// Endpoints are its endpoints' states, for integrations with a
	// circuit breaker or a limit.
	Endpoints []Endpoint
}

// Endpoint is one endpoint of an integration (a target, a URL).
type Endpoint struct {
	Name string
	// Circuit is closed, half_open or open; empty without a breaker.
	Circuit string
	// State is healthy, ejected or unhealthy (http integrations' URLs);
	// empty when nothing judges the endpoint.
	State string
}

// Reload is the outcome of the last reload.
type Reload struct {
	// At is when it ended; zero when none was tried.
	At            time.Time
	Err           error
	Count, Failed int
}

// Drain is the drain's progress.
type Drain struct {
	Draining bool
	// Started is when the admin API started it; zero otherwise.
	Started time.Time
	Grace   time.Duration
	// InFlightREST and InFlightGRPC are the calls still running per door.
	InFlightREST, InFlightGRPC int64
}

// ErrNoReload is what Gateway.Reload returns when the gateway was started
// without a way to rebuild its config.
var ErrNoReload = errors.New("reload is not available: the gateway was started without a config file to reload")

// Service implements adminv1.AdminServer.
type Service struct {
	adminv1.UnimplementedAdminServer
	gw  Gateway
	log *slog.Logger
}

// New returns the admin service over gw. Reloads and drains are logged to
// log (nil: slog.Default()).
func New(gw Gateway, log *slog.Logger) *Service {
	if log == nil {
		log = slog.Default()
	}
	return &Service{gw: gw, log: log}
}

// ListApis lists the exposed services in config order, with their methods.
func (s *Service) ListApis(context.Context, *adminv1.ListApisRequest) (*adminv1.ListApisResponse, error) {
	cat := s.gw.Current().Catalog
	byService := map[string][]*catalog.Method{}
	for _, m := range cat.MethodList() {
		svc := string(m.Desc().Parent().FullName())
		byService[svc] = append(byService[svc], m)
	}
	out := &adminv1.ListApisResponse{}
	for _, sd := range cat.Services() {
		svc := &adminv1.Service{Name: string(sd.FullName())}
		for _, m := range byService[svc.Name] {
			svc.Integration = m.BackendName()
			am := &adminv1.Method{
				FullMethod:      m.FullMethod(),
				ClientStreaming: m.Desc().IsStreamingClient(),
				ServerStreaming: m.Desc().IsStreamingServer(),
			}
			for _, b := range m.Bindings() {
				am.Http = append(am.Http, b.HTTPMethod+" "+b.Template.Raw)
			}
			svc.Methods = append(svc.Methods, am)
		}
		out.Services = append(out.Services, svc)
	}
	return out, nil
}

// ListRoutes lists the REST routes, sorted by template and HTTP method.
func (s *Service) ListRoutes(context.Context, *adminv1.ListRoutesRequest) (*adminv1.ListRoutesResponse, error) {
	out := &adminv1.ListRoutesResponse{}
	for _, m := range s.gw.Current().Catalog.MethodList() {
		for _, b := range m.Bindings() {
			out.Routes = append(out.Routes, &adminv1.Route{
				HttpMethod:     b.HTTPMethod,
				Pattern:        b.Template.Raw,
				GrpcMethod:     m.FullMethod(),
				Integration:    m.BackendName(),
				Body:           b.Body,
				ResponseBody:   b.ResponseBody,
				DefaultBinding: b.Default,
			})
		}
	}
	sort.SliceStable(out.Routes, func(i, j int) bool {
		a, b := out.Routes[i], out.Routes[j]
		if a.Pattern != b.Pattern {
			return a.Pattern < b.Pattern
		}
		return a.HttpMethod < b.HttpMethod
	})
	return out, nil
}

// ListIntegrations lists the integrations in config order with their
// health and the number of methods routed to each.
func (s *Service) ListIntegrations(context.Context, *adminv1.ListIntegrationsRequest) (*adminv1.ListIntegrationsResponse, error) {
	st := s.gw.Current()
	methods := map[string]int32{}
	for _, m := range st.Catalog.MethodList() {
		methods[m.BackendName()]++
	}
	out := &adminv1.ListIntegrationsResponse{}
	for _, in := range st.Integrations {
		h := adminv1.Health_HEALTH_UNSPECIFIED
		if in.Ready != nil {
			h = adminv1.Health_HEALTH_NOT_READY
			if *in.Ready {
				h = adminv1.Health_HEALTH_READY
			}
		}
		ai := &adminv1.Integration{Name: in.Name, Kind: in.Kind, Health: h, State: in.State, Methods: methods[in.Name]}
		for _, e := range in.Endpoints {
			ai.Endpoints = append(ai.Endpoints, &adminv1.Endpoint{Name: e.Name, Circuit: e.Circuit, State: e.State,
				Unavailable: e.State == "ejected" || e.State == "unhealthy"})
		}
		out.Integrations = append(out.Integrations, ai)
	}
	return out, nil
}

// GetConfig returns the running config, redacted, and its hash.
func (s *Service) GetConfig(context.Context, *adminv1.GetConfigRequest) (*adminv1.GetConfigResponse, error) {
	cfg := s.gw.Current().Config
	st, redacted, err := Redact(cfg.Config)
	if err != nil {
		return nil, status.Errorf(codes.Internal, "rendering the config: %v", err)
	}
	return &adminv1.GetConfigResponse{Config: st, Sha256: config.Hash(cfg.Config), Path: cfg.Path, Redacted: redacted}, nil
}

// Reload reloads the config. A config that does not build is
// FAILED_PRECONDITION with the problems in the message; the running one
// keeps serving.
func (s *Service) Reload(ctx context.Context, _ *adminv1.ReloadRequest) (*adminv1.ReloadStatus, error) {
	s.log.Info("admin: reload requested", "client_ip", clientIP(ctx))
	err := s.gw.Reload(ctx)
	switch {
	case errors.Is(err, ErrNoReload):
		return nil, status.Error(codes.FailedPrecondition, err.Error())
	case err != nil:
		return nil, status.Errorf(codes.FailedPrecondition, "reload failed; the running config keeps serving:\n%s", config.RedactURLs(err.Error()))
	}
	return s.reloadStatus()
}

// GetReload reports the last reload.
func (s *Service) GetReload(context.Context, *adminv1.GetReloadRequest) (*adminv1.ReloadStatus, error) {
	return s.reloadStatus()
}

func (s *Service) reloadStatus() (*adminv1.ReloadStatus, error) {
	r := s.gw.LastReload()
	out := &adminv1.ReloadStatus{Count: int32(r.Count), Failed: int32(r.Failed)}
	if !r.At.IsZero() {
		out.At = timestamppb.New(r.At)
	}
	if r.Err != nil {
		out.Error = config.RedactURLs(r.Err.Error())
	}
	out.ConfigSha256 = config.Hash(s.gw.Current().Config.Config)
	return out, nil
}

// Drain starts the drain and reports its progress so far.
func (s *Service) Drain(ctx context.Context, _ *adminv1.DrainRequest) (*adminv1.DrainStatus, error) {
	s.log.Info("admin: drain requested", "client_ip", clientIP(ctx))
	s.gw.Drain()
	return drainStatus(s.gw.DrainStatus()), nil
}

// GetDrain reports the drain's progress.
func (s *Service) GetDrain(context.Context, *adminv1.GetDrainRequest) (*adminv1.DrainStatus, error) {
	return drainStatus(s.gw.DrainStatus()), nil
}

func drainStatus(d Drain) *adminv1.DrainStatus {
	out := &adminv1.DrainStatus{
		Draining:     d.Draining,
		GracePeriod:  durationpb.New(d.Grace),
		InFlightRest: d.InFlightREST,
		InFlightGrpc: d.InFlightGRPC,
	}
	if !d.Started.IsZero() {
		out.Started = timestamppb.New(d.Started)
	}
	return out
}

// clientIP names who asked, for the log.
func clientIP(ctx context.Context) string {
	if info := call.FromContext(ctx); info != nil && info.ClientIP.IsValid() {
		return info.ClientIP.String()
	}
	return ""
}
