package server_test

// The findings about what the gateway's texts tell whoever reads them
// (one test per finding, named for it).

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"

	adminv1 "github.com/portico-gw/portico/gen/portico/admin/v1"
	configv1 "github.com/portico-gw/portico/gen/portico/config/v1"
	"github.com/portico-gw/portico/server/servertest"
	"github.com/portico-gw/portico/snapshot"
	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials/insecure"
)

// TestRegressReadyzDetailsNeedToken: /readyz, open to probes, told anyone
// who could reach the admin listener the integrations' names and states,
// the config's hash and the last reload's error (which can quote the
// config). Without the admin token it now says only ready or not; with
// it, everything as before. (grpc.health.v1 on the admin port says only
// SERVING or NOT_SERVING already.)
func TestRegressReadyzDetailsNeedToken(t *testing.T) {
	const token = "r3adyz-t0ken"
	path := filepath.Join(t.TempDir(), "admin.token")
	if err := os.WriteFile(path, []byte(token), 0o600); err != nil {
		t.Fatal(err)
	}
	env := servertest.Start(t, servertest.Options{Config: func(c *configv1.Config) {
		c.Admin = &configv1.Admin{TokenFile: path}
	}})
	readyz := func(auth string) (int, map[string]any) {
		t.Helper()
		req, _ := http.NewRequest("GET", "http://"+env.Server.AdminAddr+"/readyz", nil)
		if auth != "" {
			req.Header.Set("Authorization", auth)
		}
		resp, body := do(t, req)
		var m map[string]any
		if err := json.Unmarshal(body, &m); err != nil {
			t.Fatalf("/readyz: %s: %v", body, err)
		}
		return resp.StatusCode, m
	}
	for _, auth := range []string{"", "Bearer wrong"} {
		code, m := readyz(auth)
		if code != 200 || len(m) != 1 || m["status"] != "ready" {
			t.Errorf("/readyz with Authorization %q: got %d %v, want 200 and only {\"status\":\"ready\"}", auth, code, m)
		}
	}
	code, m := readyz("Bearer " + token)
	if code != 200 || m["status"] != "ready" || m["integrations"] == nil || m["config"] == nil || m["methods"] == nil {
		t.Errorf("/readyz with the token: got %d %v, want the details", code, m)
	}
	if _, ok := m["integrations"].(map[string]any)["bookstore"]; !ok {
		t.Errorf("/readyz with the token: integrations %v, want bookstore's state", m["integrations"])
	}
}

// TestRegressURLUserInfoInTexts: URLs with user info reached texts meant
// for people: the JWKS fetcher's log lines named its jwks_uri and issuer
// with their passwords (or a token as the user name), and a reload error
// that quoted a URL was shown as it was by /readyz and by the admin API
// (REST and gRPC). Every such text now hides the user info.
func TestRegressURLUserInfoInTexts(t *testing.T) {
	logs := &lockedBuffer{}
	env := servertest.Start(t, servertest.Options{
		Config: func(c *configv1.Config) {
			c.Auth = &configv1.Auth{Providers: []*configv1.AuthProvider{{Name: "idp", Kind: &configv1.AuthProvider_Jwt{Jwt: &configv1.JwtProvider{
				Issuer:    "https://carol:issuer-s3cret@127.0.0.1:1/",
				JwksUri:   "https://t0ken-s3cret@127.0.0.1:1/keys",
				Audiences: []string{"api"},
			}}}}}
			c.Apis[0].Auth = &configv1.ApiAuth{Providers: []string{"idp"}}
		},
		Build: func(o *snapshot.Options) { o.Logger = slog.New(slog.NewJSONHandler(logs, nil)) },
	})
	waitFor(t, func() bool { return strings.Contains(logs.String(), "127.0.0.1:1/keys") })
	if strings.Contains(logs.String(), "s3cret") {
		t.Errorf("the log shows a URL's user info:\n%s", logs)
	}
	if !strings.Contains(logs.String(), "https://xxxxx@127.0.0.1:1/keys") {
		t.Errorf("the log does not name the JWKS URL redacted:\n%s", logs)
	}

	env.Server.SetRebuild(func(context.Context, *snapshot.Snapshot) (*snapshot.Snapshot, error) {
		return nil, fmt.Errorf("fetching %q: connection refused", "https://admin:reload-s3cret@config.example/portico.yaml")
	})
	code, body := post(t, "http://"+env.Server.AdminAddr+"/v1/reload", `{}`)
	if code.StatusCode != 400 || strings.Contains(string(body), "s3cret") || !strings.Contains(string(body), "admin:xxxxx@config.example") {
		t.Errorf("POST /v1/reload: got %d %s, want 400 naming the URL without its password", code.StatusCode, body)
	}
	for _, path := range []string{"/readyz", "/v1/reload"} {
		resp, body := get(t, "http://"+env.Server.AdminAddr+path)
		if resp.StatusCode != 200 || strings.Contains(string(body), "s3cret") || !strings.Contains(string(body), "admin:xxxxx@config.example") {
			t.Errorf("GET %s: got %d %s, want the last reload's error without the password", path, resp.StatusCode, body)
		}
	}
	conn, err := grpc.NewClient(env.Server.AdminAddr, grpc.WithTransportCredentials(insecure.NewCredentials()))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close() })
	admin := adminv1.NewAdminClient(conn)
	if _, err := admin.Reload(context.Background(), &adminv1.ReloadRequest{}); err == nil || strings.Contains(err.Error(), "s3cret") {
		t.Errorf("gRPC Reload: got %v, want a failure without the password", err)
	}
	st, err := admin.GetReload(context.Background(), &adminv1.GetReloadRequest{})
	if err != nil || strings.Contains(st.GetError(), "s3cret") || !strings.Contains(st.GetError(), "admin:xxxxx@") {
		t.Errorf("gRPC GetReload: got %v %v, want the error without the password", st, err)
	}
}
