package server_test

import (
	"fmt"
	"net/http"
	"testing"

	authv3 "github.com/envoyproxy/go-control-plane/envoy/service/auth/v3"
	"github.com/portico-gw/portico/auth/apikey"
	"github.com/portico-gw/portico/auth/authtest"
	"github.com/portico-gw/portico/config"
	configv1 "github.com/portico-gw/portico/gen/portico/config/v1"
	"github.com/portico-gw/portico/pool"
	"github.com/portico-gw/portico/server/servertest"
	"github.com/portico-gw/portico/snapshot"
	"google.golang.org/grpc/codes"
)

// TestAuthAPIKeys: keys looked up by hash in a header (both doors) or a
// query parameter (REST); the principal and key id reach the backend; a
// JWT provider listed first does not stop a key from authenticating.
func TestAuthAPIKeys(t *testing.T) {
	dir := t.TempDir()
	keys := authtest.WriteFile(t, dir, "keys.yaml", []byte(fmt.Sprintf(
		"- {id: partner-1, sha256: %s, principal: acme}\n- {id: partner-2, sha256: %s, plan: gold}\n",
		apikey.Hash("s3cret-one"), apikey.Hash("s3cret-two"))))
	e := startAuth(t, func(c *configv1.Config, _ *authtest.Issuer) {
		c.Auth.Providers = append(c.Auth.Providers,
			&configv1.AuthProvider{Name: "partners", Kind: &configv1.AuthProvider_ApiKey{ApiKey: &configv1.ApiKeyProvider{KeysFile: keys}}},
			&configv1.AuthProvider{Name: "byquery", Kind: &configv1.AuthProvider_ApiKey{ApiKey: &configv1.ApiKeyProvider{Query: "api_key", KeysFile: keys}}})
		c.Apis[0].Auth.Providers = []string{"corp", "partners", "byquery"}
	})
	if a := restCall(t, e.URL, http.MethodGet, getBookPath, map[string]string{"X-Api-Key": "s3cret-one"}, ""); a.code != http.StatusOK {
		t.Errorf("REST with a key: got %d %s, want 200", a.code, a.body)
	}
	if got := e.rec.lastMD().Get("x-portico-principal"); len(got) != 1 || got[0] != "acme" {
		t.Errorf("REST: backend principal: got %q, want [acme]", got)
	}
	if st, _ := grpcGetBook(t, e.Conn, "shelves/1/books/1", map[string]string{"x-api-key": "s3cret-two"}); st.Code() != codes.OK {
		t.Errorf("gRPC with a key: got %v, want OK", st.Err())
	}
	if got := e.rec.lastMD().Get("x-portico-principal"); len(got) != 1 || got[0] != "partner-2" {
		t.Errorf("gRPC: backend principal: got %q, want [partner-2] (the key's id)", got)
	}
	if a := restCall(t, e.URL, http.MethodGet, getBookPath+"?api_key=s3cret-one", nil, ""); a.code != http.StatusOK {
		t.Errorf("REST with a key in the query: got %d %s, want 200", a.code, a.body)
	}
	before := e.rec.Calls()
	a := restCall(t, e.URL, http.MethodGet, getBookPath, map[string]string{"X-Api-Key": "wrong"}, "")
	if a.code != http.StatusUnauthorized {
		t.Errorf("REST with a wrong key: got %d, want 401", a.code)
	}
	if got, want := a.header.Get("WWW-Authenticate"), `Bearer realm="portico", APIKey realm="portico"`; got != want {
		t.Errorf("WWW-Authenticate: got %q, want %q", got, want)
	}
	if st, _ := grpcGetBook(t, e.Conn, "shelves/1/books/1", map[string]string{"x-api-key": "s3cret-one "}); st.Code() != codes.Unauthenticated {
		t.Errorf("gRPC with a wrong key: got %v, want Unauthenticated", st.Code())
	}
	if n := e.rec.Calls() - before; n != 0 {
		t.Errorf("backend got %d calls, want 0", n)
	}
}

// TestAuthJWKSRotation: a token signed by a key the IdP added since the
// last fetch is accepted (one refetch for its kid); when the JWKS
// endpoint is down, the keys known so far keep working and an unknown
// kid is refused (never fail-open).
func TestAuthJWKSRotation(t *testing.T) {
	e := startAuth(t, nil)
	if a := restCall(t, e.URL, http.MethodGet, getBookPath, bearer(e.iss.Token(t, nil)), ""); a.code != http.StatusOK {
		t.Fatalf("k1 token: got %d %s, want 200", a.code, a.body)
	}
	old := e.iss.Token(t, authtest.Claims{"sub": "old"})
	e.iss.Rotate(t) // k2 signs from now on
	hits := e.iss.Hits()
	if st, _ := grpcGetBook(t, e.Conn, "shelves/1/books/1", grpcBearer(e.iss.Token(t, nil))); st.Code() != codes.OK {
		t.Fatalf("k2 token after rotation: got %v, want OK", st.Err())
	}
	if n := e.iss.Hits() - hits; n != 1 {
		t.Errorf("rotation caused %d JWKS fetches, want 1", n)
	}
	e.iss.SetDown(true)
	if a := restCall(t, e.URL, http.MethodGet, getBookPath, bearer(old), ""); a.code != http.StatusOK {
		t.Errorf("k1 token while the JWKS is down: got %d %s, want 200 (keys kept)", a.code, a.body)
	}
	e.iss.Rotate(t) // k3, which the gateway cannot fetch
	if a := restCall(t, e.URL, http.MethodGet, getBookPath, bearer(e.iss.Token(t, nil)), ""); a.code != http.StatusUnauthorized {
		t.Errorf("k3 token while the JWKS is down: got %d, want 401", a.code)
	}
}

// TestAuthDiscovery: with discovery, the JWKS URL comes from the issuer's
// OpenID configuration.
func TestAuthDiscovery(t *testing.T) {
	e := startAuth(t, func(c *configv1.Config, iss *authtest.Issuer) {
		j := c.Auth.Providers[0].GetJwt()
		j.JwksUri = ""
		j.Discovery = true
	})
	if st, _ := grpcGetBook(t, e.Conn, "shelves/1/books/1", grpcBearer(e.iss.Token(t, nil))); st.Code() != codes.OK {
		t.Errorf("gRPC: got %v, want OK", st.Err())
	}
	if e.iss.Hits() == 0 {
		t.Error("the JWKS was never fetched")
	}
}

// TestAuthES256AndFile: an ES256 key from a jwks_file.
func TestAuthES256AndFile(t *testing.T) {
	iss := authtest.NewIssuer(t)
	iss.AddECKey(t)
	file := authtest.WriteFile(t, t.TempDir(), "jwks.json", iss.JWKS(t))
	_, addr := startRecorder(t)
	env := servertest.StartGateway(t, addr, servertest.Options{Config: func(c *configv1.Config) {
		c.Auth = &configv1.Auth{Providers: []*configv1.AuthProvider{{Name: "corp", Kind: &configv1.AuthProvider_Jwt{Jwt: &configv1.JwtProvider{
			Issuer: iss.URL, Audiences: []string{"portico"}, JwksFile: file}}}}}
		c.Apis[0].Auth = &configv1.ApiAuth{Providers: []string{"corp"}}
	}})
	if a := restCall(t, env.URL, http.MethodGet, getBookPath, bearer(iss.Token(t, nil)), ""); a.code != http.StatusOK {
		t.Errorf("ES256 token: got %d %s, want 200", a.code, a.body)
	}
	if iss.Hits() != 0 {
		t.Errorf("the JWKS endpoint was fetched %d times with a jwks_file, want 0", iss.Hits())
	}
}

// TestAuthReloadKeepsJWKS: a snapshot rebuilt from the same config with
// the same pool reuses the JWKS cache (no refetch), and the cache is
// released when the last snapshot using it closes.
func TestAuthReloadKeepsJWKS(t *testing.T) {
	iss := authtest.NewIssuer(t)
	cfg := servertest.BookstoreConfig("127.0.0.1:1")
	cfg.Auth = &configv1.Auth{Providers: []*configv1.AuthProvider{jwtProvider(iss)}}
	cfg.Apis[0].Auth = &configv1.ApiAuth{Providers: []string{"corp"}}
	p := pool.New()
	build := func() *snapshot.Snapshot {
		s, err := snapshot.Build(&config.File{Config: cfg, Dir: "."}, snapshot.Options{Pool: p})
		if err != nil {
			t.Fatal(err)
		}
		return s
	}
	first := build()
	n := p.Len()
	second := build()
	if p.Len() != n {
		t.Errorf("pool: got %d values after the rebuild, want %d (shared)", p.Len(), n)
	}
	_ = first.Close()
	if p.Len() != n {
		t.Errorf("pool: got %d values after closing the first snapshot, want %d", p.Len(), n)
	}
	_ = second.Close()
	if p.Len() != 0 {
		t.Errorf("pool: got %d values after closing both, want 0", p.Len())
	}
}

// TestAuthTokenSources: besides Authorization: Bearer, a token is read
// from the configured header (both doors), query parameter and cookie
// (REST).
func TestAuthTokenSources(t *testing.T) {
	e := startAuth(t, func(c *configv1.Config, _ *authtest.Issuer) {
		c.Auth.Providers[0].GetJwt().TokenSources = []*configv1.TokenSource{
			{Kind: &configv1.TokenSource_Header{Header: "X-Token"}, Prefix: "JWT "},
			{Kind: &configv1.TokenSource_Query{Query: "access_token"}},
			{Kind: &configv1.TokenSource_Cookie{Cookie: "session"}},
		}
	})
	tok := e.iss.Token(t, nil)
	for _, tc := range []struct {
		name    string
		path    string
		headers map[string]string
		want    int
	}{
		{"bearer still works", getBookPath, bearer(tok), http.StatusOK},
		{"header with prefix", getBookPath, map[string]string{"X-Token": "JWT " + tok}, http.StatusOK},
		{"header without the prefix", getBookPath, map[string]string{"X-Token": tok}, http.StatusUnauthorized},
		{"query", getBookPath + "?access_token=" + tok, nil, http.StatusOK},
		{"cookie", getBookPath, map[string]string{"Cookie": "session=" + tok}, http.StatusOK},
	} {
		if a := restCall(t, e.URL, http.MethodGet, tc.path, tc.headers, ""); a.code != tc.want {
			t.Errorf("REST %s: got %d %s, want %d", tc.name, a.code, a.body, tc.want)
		}
	}
	if st, _ := grpcGetBook(t, e.Conn, "shelves/1/books/1", map[string]string{"x-token": "JWT " + tok}); st.Code() != codes.OK {
		t.Errorf("gRPC header source: got %v, want OK", st.Err())
	}
}

// TestAuthExtAuthzAlone: an API guarded only by an authorizer; its OK
// answer may name the principal (x-portico-principal), which reaches the
// backend like any other identity.
func TestAuthExtAuthzAlone(t *testing.T) {
	az := authtest.NewAuthorizer(t)
	az.SetDecide(func(r *authv3.CheckRequest) *authv3.CheckResponse {
		if r.GetAttributes().GetRequest().GetHttp().GetHeaders()["x-allow"] == "yes" {
			return authtest.Allow(map[string]string{"x-portico-principal": "svc-a"})
		}
		return authtest.Deny(403, nil)
	})
	e := startAuth(t, func(c *configv1.Config, _ *authtest.Issuer) {
		c.Auth.Providers = append(c.Auth.Providers, &configv1.AuthProvider{Name: "opa", Kind: &configv1.AuthProvider_External{External: &configv1.ExternalAuthorizer{Target: az.Addr}}})
		c.Apis[0].Auth.Providers = []string{"opa"}
	})
	if st, _ := grpcGetBook(t, e.Conn, "shelves/1/books/1", map[string]string{"x-allow": "yes"}); st.Code() != codes.OK {
		t.Fatalf("gRPC allowed: got %v, want OK", st.Err())
	}
	if got := e.rec.lastMD().Get("x-portico-principal"); len(got) != 1 || got[0] != "svc-a" {
		t.Errorf("backend principal: got %q, want [svc-a]", got)
	}
	if a := restCall(t, e.URL, http.MethodGet, getBookPath, nil, ""); a.code != http.StatusForbidden {
		t.Errorf("REST denied: got %d, want 403", a.code)
	}
}
