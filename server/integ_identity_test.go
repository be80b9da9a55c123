package server_test

import (
	"strings"
	"testing"
	"time"

	authv3 "github.com/envoyproxy/go-control-plane/envoy/service/auth/v3"
	"github.com/portico-gw/portico/auth/authtest"
	configv1 "github.com/portico-gw/portico/gen/portico/config/v1"
	"google.golang.org/protobuf/types/known/durationpb"
)

// startIdentityEnv is a gateway where the bookstore API (on a recording
// gRPC backend), the messaging API (on an http integration: proto methods
// sent to a paths backend) and a plain route (/legacy/, to the same paths
// backend) need a JWT of the corp
// provider (sub forwarded as x-user-id, tenant as x-tenant, email as
// x_email) and the yes of an authorizer that adds x-authz: ok; the REST
// door forwards spellings of these names to the backend. It returns
// the authorizer and a token for alice.
func startIdentityEnv(t *testing.T) (*authEnv, *pathsBackend, *authtest.Authorizer, string) {
	t.Helper()
	b := startPathsBackend(t)
	az := authtest.NewAuthorizer(t)
	az.SetDecide(func(*authv3.CheckRequest) *authv3.CheckResponse {
		return authtest.Allow(map[string]string{"x-authz": "ok"})
	})
	e := startAuth(t, func(c *configv1.Config, _ *authtest.Issuer) {
		c.Auth.Providers[0].GetJwt().ForwardClaims["email"] = "x_email"
		c.Auth.Providers = append(c.Auth.Providers, &configv1.AuthProvider{Name: "opa", Kind: &configv1.AuthProvider_External{
			External: &configv1.ExternalAuthorizer{Target: az.Addr, Timeout: durationpb.New(2 * time.Second)}}})
		c.Apis[0].Auth.Providers = []string{"corp", "opa"}
		c.Integrations = append(c.Integrations, &configv1.Integration{Name: "legacy", Kind: &configv1.Integration_Http{Http: &configv1.HttpIntegration{Url: b.URL}}})
		// A REST client can set these only when the operator forwards them.
		c.Rest = &configv1.Rest{ForwardHeaders: []string{"X_Portico_Principal", "X-Portico_Principal", "X_User_Id", "X-Email", "X_Authz", "X_Forwarded_Host",
			"Grpcgateway-X-Portico-Principal"}}
		c.Apis = append(c.Apis, &configv1.Api{Services: []string{messaging}, Integration: "legacy", Auth: &configv1.ApiAuth{Providers: []string{"corp", "opa"}}})
		c.Routes = append(c.Routes, &configv1.Route{Prefix: "/legacy/", Integration: "legacy", Auth: &configv1.ApiAuth{Providers: []string{"corp", "opa"}}})
	})
	return e, b, az, e.iss.Token(t, authtest.Claims{"sub": "alice", "tenant": "acme", "email": "alice@example.com"})
}

// identityWant is the identity startIdentityEnv's backends must see for
// alice's token, by name as backends compare names.
var identityWant = map[string]string{
	"x-portico-principal": "alice",
	"x-user-id":           "alice",
	"x-tenant":            "acme",
	"x-email":             "alice@example.com",
	"x-authz":             "ok",
}

// foldName is a header name as CGI-style servers and many frameworks
// compare them: any case, "_" and "-" alike.
func foldName(k string) string { return strings.ReplaceAll(strings.ToLower(k), "_", "-") }

// checkIdentity checks the headers (or metadata) a backend got: every
// name of identityWant and of more is there exactly once, in one
// spelling, with the value the gateway set.
func checkIdentity(t *testing.T, door string, got map[string][]string, more map[string]string) {
	t.Helper()
	want := map[string]string{}
	for k, v := range identityWant {
		want[k] = v
	}
	for k, v := range more {
		want[k] = v
	}
	for name, v := range want {
		var seen []string
		for k, vs := range got {
			if foldName(k) == name {
				for _, x := range vs {
					seen = append(seen, k+": "+x)
				}
			}
		}
		if len(seen) != 1 || !strings.HasSuffix(seen[0], ": "+v) {
			t.Errorf("%s: the backend got %s as %q, want it once: %q", door, name, seen, v)
		}
	}
}

// hostOf is the host:port of a base URL.
func hostOf(base string) string { return strings.TrimPrefix(base, "http://") }
