package server_test

import (
	"bytes"
	"compress/gzip"
	"io"
	"net/http"
	"strings"
	"testing"

	configv1 "github.com/portico-gw/portico/gen/portico/config/v1"
	"github.com/portico-gw/portico/server/servertest"
)

// adminGet GETs path on the admin listener with token (none when "") and
// returns the status and the body.
func adminGet(t *testing.T, addr, path, token string) (int, []byte) {
	t.Helper()
	req, err := http.NewRequest(http.MethodGet, "http://"+addr+path, nil)
	if err != nil {
		t.Fatal(err)
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	resp, err := servertest.Client().Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return resp.StatusCode, body
}

// The runtime profiles are on the admin listener, behind the admin token.
func TestPprofBehindAdminToken(t *testing.T) {
	const token = "pr0f-t0ken"
	path := writeToken(t, token)
	env := servertest.Start(t, servertest.Options{Config: func(c *configv1.Config) {
		c.Admin = &configv1.Admin{TokenFile: path}
	}})
	addr := env.Server.AdminAddr
	for _, p := range []string{"/debug/pprof/", "/debug/pprof/heap?debug=1", "/debug/pprof/goroutine", "/debug/pprof/profile?seconds=1", "/debug/pprof/cmdline"} {
		if code, _ := adminGet(t, addr, p, ""); code != http.StatusUnauthorized {
			t.Errorf("GET %s without the token: got %d, want 401", p, code)
		}
		if code, _ := adminGet(t, addr, p, "wrong"); code != http.StatusUnauthorized {
			t.Errorf("GET %s with a wrong token: got %d, want 401", p, code)
		}
	}
	code, body := adminGet(t, addr, "/debug/pprof/heap?debug=1", token)
	if code != http.StatusOK || !strings.Contains(string(body), "heap profile:") {
		t.Errorf("GET heap?debug=1 with the token: got %d %.80q, want 200 and a heap profile in text", code, body)
	}
	code, body = adminGet(t, addr, "/debug/pprof/", token)
	if code != http.StatusOK || !strings.Contains(string(body), "goroutine") {
		t.Errorf("GET /debug/pprof/ with the token: got %d %.80q, want 200 and the index", code, body)
	}
	// A CPU profile: gzip-compressed protobuf, as go tool pprof reads it.
	code, body = adminGet(t, addr, "/debug/pprof/profile?seconds=1", token)
	if code != http.StatusOK {
		t.Fatalf("GET profile?seconds=1 with the token: got %d %.200q, want 200", code, body)
	}
	zr, err := gzip.NewReader(bytes.NewReader(body))
	if err != nil {
		t.Fatalf("CPU profile: got %v, want gzip data", err)
	}
	if raw, err := io.ReadAll(zr); err != nil || len(raw) == 0 {
		t.Errorf("CPU profile: got %d bytes (%v), want a non-empty profile", len(raw), err)
	}
}

// With no token set (a loopback admin listener) the profiles are open, as
// the rest of the admin API is; the admin API's paths are unchanged.
func TestPprofOnLoopbackWithoutToken(t *testing.T) {
	env := servertest.Start(t, servertest.Options{})
	addr := env.Server.AdminAddr
	if code, body := adminGet(t, addr, "/debug/pprof/goroutine?debug=1", ""); code != http.StatusOK || !strings.Contains(string(body), "goroutine profile:") {
		t.Errorf("GET goroutine?debug=1: got %d %.80q, want 200 and the goroutine profile", code, body)
	}
	if code, _ := adminGet(t, addr, "/debug/pprof/nosuchprofile", ""); code != http.StatusNotFound {
		t.Errorf("GET an unknown profile: got %d, want 404", code)
	}
	if code, _ := adminGet(t, addr, "/v1/routes", ""); code != http.StatusOK {
		t.Errorf("GET /v1/routes: got %d, want 200", code)
	}
}
