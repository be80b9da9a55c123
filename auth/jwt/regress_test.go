package jwt

import (
	"testing"
	"time"
)

// Regression tests: one per finding, named for it.

// Issue 14: a JWKS URL the key cache refused (it does not parse) made
// NewRemoteKeys hang for ever: its error path closed the keys, and Close
// waited for a discovery that never ran. Serve and reload hung with it.
func TestRegressRemoteKeysRefusedURLReturns(t *testing.T) {
	done := make(chan error, 1)
	go func() {
		k, err := NewRemoteKeys(RemoteOptions{URL: "://x"})
		if err == nil {
			k.Close()
		}
		done <- err
	}()
	select {
	case err := <-done:
		if err == nil {
			t.Errorf("NewRemoteKeys(%q): got no error, want the URL refused", "://x")
		}
	case <-time.After(10 * time.Second):
		t.Fatal("NewRemoteKeys with a URL the cache refuses did not return within 10s")
	}
}
