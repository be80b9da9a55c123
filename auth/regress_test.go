package auth_test

// One test per finding, named for it.

import (
	"errors"
	"testing"

	"github.com/portico-gw/portico/auth"
	"github.com/portico-gw/portico/auth/authtest"
	"github.com/portico-gw/portico/config"
	configv1 "github.com/portico-gw/portico/gen/portico/config/v1"
	"github.com/portico-gw/portico/pipeline"
)

// buildErrors builds auth for cfg and returns its problems by key path.
func buildErrors(t *testing.T, cfg *configv1.Config) map[string]string {
	t.Helper()
	var closers []func() error
	t.Cleanup(func() {
		for _, c := range closers {
			c()
		}
	})
	_, err := auth.Build(pipeline.Env{Config: &config.File{Config: cfg}, OnRelease: func(f func() error) { closers = append(closers, f) }})
	if err == nil {
		return nil
	}
	var ce config.Errors
	if !errors.As(err, &ce) {
		t.Fatalf("auth.Build: got %v, want config.Errors", err)
	}
	out := map[string]string{}
	for _, e := range ce {
		out[e.Field] = e.Message
	}
	return out
}

// TestRegressJWTWithoutAudiences (issue 14, point 10): a jwt provider
// without audiences accepted a token the issuer made for any other
// service. The audiences are required now; ["*"] alone is the explicit
// opt-out.
func TestRegressJWTWithoutAudiences(t *testing.T) {
	iss := authtest.NewIssuer(t)
	jwks := authtest.WriteFile(t, t.TempDir(), "jwks.json", iss.JWKS(t))
	withAudiences := func(auds ...string) *configv1.Config {
		return &configv1.Config{Auth: &configv1.Auth{Providers: []*configv1.AuthProvider{{Name: "corp",
			Kind: &configv1.AuthProvider_Jwt{Jwt: &configv1.JwtProvider{Issuer: iss.URL, JwksFile: jwks, Audiences: auds}}}}}}
	}
	for _, tc := range []struct {
		auds  []string
		field string // "" when it builds
	}{
		{nil, "auth.providers[0].jwt.audiences"},
		{[]string{"*", "portico"}, "auth.providers[0].jwt.audiences"},
		{[]string{"portico", ""}, "auth.providers[0].jwt.audiences[1]"},
		{[]string{"*"}, ""},
		{[]string{"portico", "billing"}, ""},
	} {
		probs := buildErrors(t, withAudiences(tc.auds...))
		switch {
		case tc.field == "" && probs != nil:
			t.Errorf("audiences %q: got %v, want no problem", tc.auds, probs)
		case tc.field != "" && probs[tc.field] == "":
			t.Errorf("audiences %q: got %v, want a problem at %s", tc.auds, probs, tc.field)
		}
	}
}
