package snapshot_test

import (
	"strings"
	"testing"

	"github.com/portico-gw/portico/config"
	configv1 "github.com/portico-gw/portico/gen/portico/config/v1"
	"github.com/portico-gw/portico/server/servertest"
	"github.com/portico-gw/portico/snapshot"
)

// TestNotImplementedKeysRefused: keys the schema has but the gateway does
// not serve yet are config errors at their key path, not silently ignored.
func TestNotImplementedKeysRefused(t *testing.T) {
	cfg := servertest.BookstoreConfig("127.0.0.1:1")
	cfg.GatewayResponses = &configv1.GatewayResponses{Headers: map[string]string{"X-Frame-Options": "DENY"}}
	_, err := snapshot.Build(&config.File{Config: cfg, Dir: t.TempDir()}, snapshot.Options{Check: true})
	if err == nil {
		t.Fatal("Build: got no error, want the keys not implemented yet")
	}
	for _, field := range []string{"gateway_responses"} {
		if !strings.Contains(err.Error(), field+": not implemented yet") {
			t.Errorf("Build: got %v, want %q not implemented yet", err, field)
		}
	}
}
