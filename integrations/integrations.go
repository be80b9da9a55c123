// Package integrations is the registry of backend kinds and what they all
// share: the deadline a call gets, the metadata that crosses to the
// backend, and the sanitizing of errors made on the gateway's side. Each
// kind lives in a package of its own (grpcbackend, ...); a kind is a
// constructor from its config, a per-method check run when the snapshot is
// built (so "this backend cannot serve this method" is a config error), and
// Close.
package integrations

import (
	"context"
	"fmt"
	"log/slog"
	"sort"
	"strings"

	"github.com/portico-gw/portico/catalog"
	"github.com/portico-gw/portico/codec"
	configv1 "github.com/portico-gw/portico/gen/portico/config/v1"
	"github.com/portico-gw/portico/pool"
	"google.golang.org/grpc"
)

// Backend is a built integration.
type Backend interface {
	catalog.Backend
	// Check reports why the backend cannot serve m, or nil. It runs when
	// the snapshot is built, for every method routed to the backend.
	Check(m *catalog.Method) error
	// Close releases what the backend holds (its pool leases).
	Close() error
}

// Raw is implemented by backends that can forward messages as wire bytes
// (*codec.Frame), decoding nothing: the gRPC door uses it for methods no
// interceptor needs to see (pipeline.Method.Opaque).
type Raw interface {
	// UnaryRaw sends req — a *codec.Frame as it came, or a decoded
	// proto.Message — and returns the response frame undecoded.
	UnaryRaw(ctx context.Context, m *catalog.Method, req any) (*codec.Frame, error)
	// StreamRaw proxies a streaming call whose ss receives and sends
	// *codec.Frame.
	StreamRaw(ctx context.Context, m *catalog.Method, ss grpc.ServerStream) error
}

// Env is what a kind's constructor gets besides its own config.
type Env struct {
	// Resolve makes a path from the config absolute (relative to the
	// config file).
	Resolve func(string) string
	// Pool holds state that outlives a snapshot (connections): a kind
	// acquires what it opens there, keyed by its settings, so a reload
	// that did not change them reuses it.
	Pool *pool.Pool
	// Logger is the gateway's log.
	Logger *slog.Logger
	// DialOptions are added to every gRPC client a kind makes (tests: an
	// in-memory dialer; telemetry: a stats handler).
	DialOptions []grpc.DialOption
	// Check builds the integration only to check its config (portico
	// validate, portico routes): a kind checks every setting as for
	// serving but opens nothing — no connection, no file, nothing in
	// Pool — and a checked backend never dials, whatever is asked of it.
	// Default false.
	Check bool
}

// NotServed is what a Backend's Check returns for a method it accepts
// without serving it: the snapshot builds, calls to the method fail with
// UNIMPLEMENTED (HTTP 501), and the snapshot's warnings name the method
// (portico validate prints them). It is not a config error.
type NotServed struct {
	// Why says what is missing and how to serve the method, e.g. "no
	// response in mock.responses".
	Why string
}

func (e *NotServed) Error() string { return "not served: " + e.Why }

// Factory builds one integration from its config.
type Factory func(env Env, in *configv1.Integration) (Backend, error)

// Registry maps a kind — the name of the field set in the integration's
// `kind` oneof: grpc, http, mock — to its factory.
type Registry map[string]Factory

// Kind returns the kind an integration's config selects, or "".
func Kind(in *configv1.Integration) string {
	m := in.ProtoReflect()
	od := m.Descriptor().Oneofs().ByName("kind")
	if od == nil {
		return ""
	}
	if fd := m.WhichOneof(od); fd != nil {
		return string(fd.Name())
	}
	return ""
}

// Build makes the integration in describes.
func (r Registry) Build(env Env, in *configv1.Integration) (Backend, error) {
	kind := Kind(in)
	f, ok := r[kind]
	if !ok {
		known := make([]string, 0, len(r))
		for k := range r {
			known = append(known, k)
		}
		sort.Strings(known)
		if kind == "" {
			return nil, fmt.Errorf("no backend kind set (one of %s)", strings.Join(known, ", "))
		}
		return nil, fmt.Errorf("integration kind %q is not supported (supported: %s)", kind, strings.Join(known, ", "))
	}
	return f(env, in)
}
