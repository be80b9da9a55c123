package pipeline

import (
	"errors"
	"log/slog"

	"github.com/portico-gw/portico/catalog"
	"github.com/portico-gw/portico/config"
	"github.com/portico-gw/portico/integrations"
	"github.com/portico-gw/portico/pool"
	"google.golang.org/grpc"
)

// Kind is one kind of policy: a name, and a constructor that builds the
// kind from its own settings, read from the environment. Build returns
// nil when the config does not use the kind, and config.Errors located at
// the keys that are wrong. A snapshot builds the kinds of one ordered
// list (snapshot/kinds.go); adding a kind is its package and one line
// there.
type Kind struct {
	Name  string
	Build func(Env) (Policy, error)
}

// Env is what a policy kind builds itself from.
type Env struct {
	// Config is the checked config: settings, key paths for errors, and
	// Resolve for the paths it names.
	Config *config.File
	// Catalog holds the exposed methods — each knows its API's settings
	// (Method.API) and its overrides (Method.Overrides) — and the plain
	// HTTP routes (Catalog.Routes).
	Catalog *catalog.Catalog
	// Pool holds state that outlives a snapshot (connections, caches,
	// counters), keyed by its settings: acquire there, release with
	// OnClose.
	Pool *pool.Pool
	// Logger receives what policies log.
	Logger *slog.Logger
	// Check builds only to check the config (portico validate): check
	// every setting, open nothing a running gateway owns, fetch and dial
	// nothing.
	Check bool
	// DialOptions are added to the gRPC connections a kind makes (an
	// external authorizer's).
	DialOptions []grpc.DialOption
	// Backend returns the built integration named name (nil when there is
	// none, or it did not build): for kinds that call an integration of
	// their own (mirror).
	Backend func(name string) integrations.Backend
	// Reserved reports the metadata names policies set for backends (the
	// caller's identity): no client may send them, and no mapping may
	// take them from one.
	Reserved func(string) bool
	// OnWarning receives problems that do not stop the snapshot, and
	// OnRelease what to run when the snapshot closes. Use Warn and
	// OnClose.
	OnWarning func(*config.Error)
	OnRelease func(func() error)
}

// Warn records problems that do not stop the snapshot (portico validate
// prints them; serve logs them at start).
func (e Env) Warn(ws ...*config.Error) {
	if e.OnWarning == nil {
		return
	}
	for _, w := range ws {
		e.OnWarning(w)
	}
}

// OnClose has f run when the snapshot closes (a pool lease's Release).
// Without a snapshot to close, f runs when the build fails only.
func (e Env) OnClose(f func() error) {
	if e.OnRelease != nil {
		e.OnRelease(f)
	}
}

// BuildKinds builds every kind of the list, in order, and returns the
// policies of those the config uses. Every kind is built even when one
// fails, so that one run reports every problem; the error is
// config.Errors.
func BuildKinds(env Env, kinds []Kind) ([]Policy, error) {
	var (
		policies []Policy
		errs     config.Errors
	)
	for _, k := range kinds {
		p, err := k.Build(env)
		if err != nil {
			var ce config.Errors
			if !errors.As(err, &ce) {
				ce = config.Errors{{Message: k.Name + ": " + err.Error()}}
			}
			errs = append(errs, ce...)
			continue
		}
		if p != nil {
			policies = append(policies, p)
		}
	}
	if len(errs) > 0 {
		return policies, errs
	}
	return policies, nil
}
