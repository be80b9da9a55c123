package main

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	configv1 "github.com/portico-gw/portico/gen/portico/config/v1"
	"github.com/portico-gw/portico/ratelimit/redistest"
	"github.com/portico-gw/portico/server/servertest"
	"google.golang.org/protobuf/types/known/durationpb"
)

// TestKeysAgainstAGateway runs portico keys against a running gateway
// (managed keys in a real redis-server, the admin token from the
// environment) and compares the transcript with testdata/keys/transcript.golden
// (-update rewrites it). Secrets, times, made-up ids and the admin
// address vary from run to run and read <SECRET>, <TIME>, <ID> and $ADMIN.
// The secrets printed are checked against the gateway's REST door too.
func TestKeysAgainstAGateway(t *testing.T) {
	const token = "cli-t0ken"
	rd := redistest.Start(t)
	dir := t.TempDir()
	tokenFile, keysFile := filepath.Join(dir, "admin.token"), filepath.Join(dir, "keys.yaml")
	sum := sha256.Sum256([]byte("file-secret"))
	if err := os.WriteFile(tokenFile, []byte(token), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(keysFile, []byte("- {id: file-1, sha256: "+hex.EncodeToString(sum[:])+"}\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	env := servertest.Start(t, servertest.Options{Config: func(c *configv1.Config) {
		c.Admin = &configv1.Admin{TokenFile: tokenFile}
		c.Auth = &configv1.Auth{Providers: []*configv1.AuthProvider{{Name: "partners",
			Kind: &configv1.AuthProvider_ApiKey{ApiKey: &configv1.ApiKeyProvider{KeysFile: keysFile, Store: "redis"}}}}}
		c.Apis[0].Auth = &configv1.ApiAuth{Providers: []string{"partners"}}
		c.RateLimits = &configv1.RateLimits{Store: "redis", Redis: &configv1.Redis{Address: rd.Addr, Timeout: durationpb.New(2 * time.Second)}}
		c.UsagePlans = []*configv1.UsagePlan{{Name: "gold", Rate: "100/h", Burst: 100, Quota: &configv1.Quota{Limit: 1000, Period: "month"}}}
	}})
	admin := env.Server.AdminAddr
	call := func(secret string) int {
		req, _ := http.NewRequest(http.MethodGet, env.URL+"/v1/shelves/1", nil)
		req.Header.Set("X-Api-Key", secret)
		resp, err := servertest.Client().Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		return resp.StatusCode
	}
	secretRE := regexp.MustCompile(`pk_[A-Za-z0-9_-]{43}`)
	var transcript strings.Builder
	portico := func(environ map[string]string, args ...string) string {
		var stdout, stderr bytes.Buffer
		code := run(args, func(k string) string { return environ[k] }, &stdout, &stderr)
		fmt.Fprintf(&transcript, "$ portico %s\n%s", strings.Join(args, " "), stdout.String())
		if stderr.Len() > 0 {
			fmt.Fprintf(&transcript, "[stderr] %s", stderr.String())
		}
		fmt.Fprintf(&transcript, "[exit %d]\n\n", code)
		return secretRE.FindString(stdout.String())
	}
	withToken := map[string]string{"PORTICO_ADMIN": admin, "PORTICO_ADMIN_TOKEN": token}

	secret := portico(withToken, "keys", "create", "--id", "acme-1", "--principal", "acme", "--plan", "gold")
	if code := call(secret); code != http.StatusOK {
		t.Errorf("the created key on the REST door: got %d, want 200", code)
	}
	call(secret)
	portico(withToken, "keys", "list")
	portico(withToken, "keys", "usage", "acme-1")
	portico(withToken, "keys", "usage", "acme-1", "--json")
	rotated := portico(withToken, "keys", "rotate", "acme-1", "--grace", "0")
	if call(secret) != http.StatusUnauthorized || call(rotated) != http.StatusOK {
		t.Errorf("rotated with no grace: the old secret must be refused and the new accepted")
	}
	portico(withToken, "keys", "create", "--plan", "gold", "--json")
	portico(withToken, "keys", "list", "--json")
	portico(withToken, "keys", "revoke", "acme-1")
	if code := call(rotated); code != http.StatusUnauthorized {
		t.Errorf("the revoked key: got %d, want 401", code)
	}
	portico(withToken, "keys", "revoke", "file-1")
	portico(withToken, "keys", "usage", "acme-1")
	portico(map[string]string{}, "keys", "list", "--admin", admin, "--admin-token", "wrong")
	portico(withToken, "keys", "revoke")
	portico(map[string]string{}, "keys", "list")

	got := transcript.String()
	if strings.Contains(got, token) {
		t.Error("the transcript shows the admin token")
	}
	got = strings.ReplaceAll(got, admin, "$ADMIN")
	got = secretRE.ReplaceAllString(got, "<SECRET>")
	got = regexp.MustCompile(`\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?Z`).ReplaceAllString(got, "<TIME>")
	got = regexp.MustCompile(`key-[0-9a-f]{12}`).ReplaceAllString(got, "<ID>")
	golden := filepath.Join("testdata", "keys", "transcript.golden")
	if *update {
		if err := os.WriteFile(golden, []byte(got), 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(golden)
	if err != nil {
		t.Fatal(err)
	}
	if got != string(want) {
		t.Errorf("portico keys transcript:\ngot:\n%s\nwant:\n%s", got, want)
	}
}
