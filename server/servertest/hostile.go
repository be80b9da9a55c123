package servertest

import (
	"path/filepath"
	"runtime"
	"testing"

	"github.com/portico-gw/portico/catalog"
	configv1 "github.com/portico-gw/portico/gen/portico/config/v1"
	"google.golang.org/protobuf/reflect/protoregistry"
)

// HostileService is the descriptor-only test API's exposed service;
// HostileSecret is loaded with it and never exposed.
const (
	HostileService = "hostile.v1.Hostile"
	HostileSecret  = "hostile.v1.Vault"
)

// HostileDir is the folder of the hostile API's .proto sources.
func HostileDir() string {
	_, file, _, _ := runtime.Caller(0)
	return filepath.Join(filepath.Dir(file), "testdata", "hostile")
}

// HostileFiles compiles the hostile API as the gateway does.
func HostileFiles(t testing.TB) *protoregistry.Files {
	t.Helper()
	files, err := catalog.LoadSources("", []string{HostileDir()}, nil)
	if err != nil {
		t.Fatalf("compiling the hostile API: %v", err)
	}
	return files
}

// HostileEnv is a gateway in front of a Mirror of the hostile API.
type HostileEnv struct {
	*Env
	Mirror *Mirror
}

// StartHostile starts a Mirror backend of the hostile API and a gateway
// exposing hostile.v1.Hostile (loaded from .proto sources: dynamicpb only)
// in front of it. opts.Config runs after the hostile API is configured.
func StartHostile(t testing.TB, opts Options) *HostileEnv {
	t.Helper()
	mirror := StartMirror(t, HostileFiles(t))
	edit := opts.Config
	opts.Config = func(c *configv1.Config) {
		c.Descriptors = []string{HostileDir()}
		c.Apis[0].Services = []string{HostileService}
		if edit != nil {
			edit(c)
		}
	}
	return &HostileEnv{Env: StartGateway(t, mirror.Addr, opts), Mirror: mirror}
}
