package server_test

import (
	"fmt"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/portico-gw/portico/auth/apikey"
	"github.com/portico-gw/portico/auth/authtest"
	"github.com/portico-gw/portico/config"
	configv1 "github.com/portico-gw/portico/gen/portico/config/v1"
	"github.com/portico-gw/portico/server/servertest"
	"github.com/portico-gw/portico/snapshot"
)

// TestRegressPolicyChallengeKeptOnREST: grpc-gateway's error handler set
// WWW-Authenticate to the status message ("unauthenticated") on every
// UNAUTHENTICATED answer, over the challenge the auth policy set.
func TestRegressPolicyChallengeKeptOnREST(t *testing.T) {
	e := startAuth(t, nil)
	a := restCall(t, e.URL, http.MethodGet, getBookPath, nil, "")
	if got, want := a.header.Values("WWW-Authenticate"), []string{`Bearer realm="portico"`}; len(got) != 1 || got[0] != want[0] {
		t.Errorf("WWW-Authenticate: got %q, want %q", got, want)
	}
}

// TestAuthRefusalsLogReasonsNotSecrets: a refusal's reason goes to the
// snapshot's log, never to the client, and neither the presented API key
// nor the token appears in the log.
func TestAuthRefusalsLogReasonsNotSecrets(t *testing.T) {
	iss := authtest.NewIssuer(t)
	dir := t.TempDir()
	keys := authtest.WriteFile(t, dir, "keys.yaml", []byte(fmt.Sprintf("- {id: k1, sha256: %s}\n", apikey.Hash("the-real-key"))))
	cfg := servertest.BookstoreConfig("127.0.0.1:1")
	cfg.Auth = &configv1.Auth{Providers: []*configv1.AuthProvider{
		jwtProvider(iss),
		{Name: "partners", Kind: &configv1.AuthProvider_ApiKey{ApiKey: &configv1.ApiKeyProvider{KeysFile: keys}}},
	}}
	cfg.Apis[0].Auth = &configv1.ApiAuth{Providers: []string{"corp", "partners"}}
	var logs lockedBuffer
	snap, err := snapshot.Build(&config.File{Config: cfg, Dir: dir}, snapshot.Options{Logger: slog.New(slog.NewTextHandler(&logs, nil))})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { snap.Close() })

	expired := iss.Token(t, authtest.Claims{"exp": 1000, "iat": 900})
	req := httptest.NewRequest(http.MethodGet, getBookPath, nil)
	req.Header.Set("Authorization", "Bearer "+expired)
	req.Header.Set("X-Api-Key", "a-guessed-key")
	rec := httptest.NewRecorder()
	snap.Handler().ServeHTTP(rec, req)
	if rec.Code != http.StatusUnauthorized {
		t.Fatalf("got %d %s, want 401", rec.Code, rec.Body)
	}
	if body := rec.Body.String(); strings.Contains(body, "exp") || strings.Contains(body, "API key") {
		t.Errorf("the body tells why: %s", body)
	}
	out := logs.String()
	for _, want := range []string{"auth: call refused", "corp:", "partners: unknown API key", "GetBook"} {
		if !strings.Contains(out, want) {
			t.Errorf("log lacks %q:\n%s", want, out)
		}
	}
	for _, secret := range []string{"a-guessed-key", expired, strings.Split(expired, ".")[2]} {
		if strings.Contains(out, secret) {
			t.Errorf("log holds a presented secret %.20q...:\n%s", secret, out)
		}
	}
}
