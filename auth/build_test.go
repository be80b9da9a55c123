package auth_test

import (
	"context"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/portico-gw/portico/auth"
	"github.com/portico-gw/portico/auth/authtest"
	"github.com/portico-gw/portico/call"
	"github.com/portico-gw/portico/catalog"
	"github.com/portico-gw/portico/config"
	configv1 "github.com/portico-gw/portico/gen/portico/config/v1"
	"github.com/portico-gw/portico/pipeline"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/metadata"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/proto"

	_ "github.com/portico-gw/portico/gen/example/bookstore/v1" // the API the tests expose
)

const bookstoreService = "example.bookstore.v1.BookstoreService"

// nop is a backend that is never called.
type nop struct{}

func (nop) Unary(context.Context, *catalog.Method, proto.Message) (proto.Message, error) {
	return nil, nil
}
func (nop) Stream(context.Context, *catalog.Method, grpc.ServerStream) error { return nil }

// kindEnv builds the environment auth builds from: the compiled-in
// bookstore exposed with cfg.apis[0]'s settings, and cfg's routes.
func kindEnv(t *testing.T, cfg *configv1.Config) (pipeline.Env, *[]*config.Error) {
	t.Helper()
	cat, err := catalog.New(catalog.Options{
		APIs:   []catalog.API{{Where: "apis[0]", Services: []string{bookstoreService}, Backend: nop{}, BackendName: "b", Settings: cfg.GetApis()[0]}},
		Routes: cfg.GetRoutes(),
	})
	if err != nil {
		t.Fatal(err)
	}
	var warnings []*config.Error
	var closers []func() error
	t.Cleanup(func() {
		for _, c := range closers {
			c()
		}
	})
	return pipeline.Env{
		Config: &config.File{Config: cfg}, Catalog: cat,
		OnWarning: func(w *config.Error) { warnings = append(warnings, w) },
		OnRelease: func(f func() error) { closers = append(closers, f) },
	}, &warnings
}

// jwtConfig is a config whose API authenticates with a JWT (a key set
// file) and whose ListShelves is public.
func jwtConfig(t *testing.T, iss *authtest.Issuer) *configv1.Config {
	jwks := authtest.WriteFile(t, t.TempDir(), "jwks.json", iss.JWKS(t))
	return &configv1.Config{
		Auth: &configv1.Auth{Providers: []*configv1.AuthProvider{{Name: "corp", Kind: &configv1.AuthProvider_Jwt{Jwt: &configv1.JwtProvider{
			Issuer: iss.URL, Audiences: []string{"portico"}, JwksFile: jwks, ForwardClaims: map[string]string{"sub": "x-user-id"}}}}}},
		Apis: []*configv1.Api{{
			Services: []string{bookstoreService},
			Auth:     &configv1.ApiAuth{Providers: []string{"corp"}},
			Methods:  []*configv1.MethodPolicy{{Selector: "/" + bookstoreService + "/ListShelves", Auth: &configv1.ApiAuth{Public: true}}},
		}},
		Routes: []*configv1.Route{
			{Prefix: "/legacy/", Integration: "x", Auth: &configv1.ApiAuth{Providers: []string{"corp"}}},
			{Prefix: "/open/", Integration: "x", Auth: &configv1.ApiAuth{Public: true}},
		},
	}
}

// TestBuildGates: auth builds a gate for every method of an API with
// providers, none for a method its override makes public, and gates plain
// routes by their own auth. The gate lets a valid token in, hands the
// backend the caller's identity and forwarded claims, and refuses a call
// without one (UNAUTHENTICATED, refusal "auth").
func TestBuildGates(t *testing.T) {
	iss := authtest.NewIssuer(t)
	env, warnings := kindEnv(t, jwtConfig(t, iss))
	pol, err := auth.Build(env)
	if err != nil || pol == nil {
		t.Fatalf("Build: %v, %v", pol, err)
	}
	get := env.Catalog.Method("/" + bookstoreService + "/GetShelf")
	st, err := pol.Stage(get)
	if err != nil || st.Gate == nil {
		t.Fatalf("GetShelf: got %+v, %v; want a gate", st, err)
	}
	if st, _ := pol.Stage(env.Catalog.Method("/" + bookstoreService + "/ListShelves")); st.Gate != nil {
		t.Error("ListShelves (public by its override): got a gate, want none")
	}
	rp := pol.(pipeline.RoutePolicy)
	if st, _ := rp.RouteStage(env.Catalog.Routes()[0]); st.Gate == nil {
		t.Error("routes[0] (providers): got no gate, want one")
	}
	if st, _ := rp.RouteStage(env.Catalog.Routes()[1]); st.Gate != nil {
		t.Error("routes[1] (public): got a gate, want none")
	}
	if len(*warnings) != 0 {
		t.Errorf("warnings: got %v, want none (every API and route says its auth)", *warnings)
	}

	info := func(token string) *call.Info {
		r := httptest.NewRequest("GET", "/v1/shelves/1", nil)
		if token != "" {
			r.Header.Set("Authorization", "Bearer "+token)
		}
		i := call.NewHTTP(r)
		i.Method = get
		return i
	}
	ok := info(iss.Token(t, nil))
	ctx, err := st.Gate(call.NewContext(context.Background(), ok), ok)
	if err != nil {
		t.Fatalf("a valid token: %v", err)
	}
	md, _ := metadata.FromIncomingContext(ctx)
	if got := md.Get("x-portico-principal"); len(got) != 1 || got[0] != "alice" {
		t.Errorf("x-portico-principal: got %q, want [alice]", got)
	}
	if got := md.Get("x-user-id"); len(got) != 1 || got[0] != "alice" {
		t.Errorf("x-user-id (forwarded sub): got %q, want [alice]", got)
	}
	none := info("")
	if _, err := st.Gate(call.NewContext(context.Background(), none), none); status.Code(err) != codes.Unauthenticated || none.Refusal != auth.Refusal {
		t.Errorf("no token: got %v, refusal %q; want UNAUTHENTICATED, auth", err, none.Refusal)
	}
}

// TestBuildRequestRules: a rule that reads the request runs after
// decoding, as an interceptor; one that does not is part of the gate.
func TestBuildRequestRules(t *testing.T) {
	iss := authtest.NewIssuer(t)
	cfg := jwtConfig(t, iss)
	cfg.Apis[0].Methods = append(cfg.Apis[0].Methods, &configv1.MethodPolicy{
		Selector: bookstoreService + ".GetShelf", Auth: &configv1.ApiAuth{Require: `request.shelf == 1 && claims.sub == "alice"`},
	})
	env, _ := kindEnv(t, cfg)
	pol, err := auth.Build(env)
	if err != nil {
		t.Fatal(err)
	}
	st, _ := pol.Stage(env.Catalog.Method("/" + bookstoreService + "/GetShelf"))
	if st.Gate == nil || st.Unary == nil {
		t.Errorf("GetShelf with a rule on request.shelf: got %+v, want a gate and an interceptor", st)
	}
	if st, _ := pol.Stage(env.Catalog.Method("/" + bookstoreService + "/DeleteShelf")); st.Unary != nil {
		t.Error("DeleteShelf without a rule: got an interceptor, want the gate only")
	}
}

// TestBuildWarnsPublic: an API and a route without any auth are warned
// about (they are public without saying so), and Build returns no policy
// when nothing has auth.
func TestBuildWarnsPublic(t *testing.T) {
	env, warnings := kindEnv(t, &configv1.Config{
		Apis:   []*configv1.Api{{Services: []string{bookstoreService}}},
		Routes: []*configv1.Route{{Prefix: "/legacy/", Integration: "x"}},
	})
	pol, err := auth.Build(env)
	if err != nil || pol != nil {
		t.Fatalf("Build: got %v, %v; want no policy", pol, err)
	}
	var at []string
	for _, w := range *warnings {
		at = append(at, w.Field)
		if !strings.Contains(w.Message, "public") {
			t.Errorf("warning at %s: %q, want it to say public", w.Field, w.Message)
		}
	}
	if strings.Join(at, ",") != "apis[0],routes[0]" {
		t.Errorf("warnings at %v, want apis[0] and routes[0]", at)
	}
}

// TestReserved: the names auth sets for backends beyond x-portico-* are
// the forwarded claims', in every spelling.
func TestReserved(t *testing.T) {
	if auth.Reserved(&configv1.Config{}) != nil {
		t.Error("no forwarded claims: got a function, want nil")
	}
	r := auth.Reserved(&configv1.Config{Auth: &configv1.Auth{Providers: []*configv1.AuthProvider{{Name: "c", Kind: &configv1.AuthProvider_Jwt{
		Jwt: &configv1.JwtProvider{ForwardClaims: map[string]string{"sub": "X-User-Id"}}}}}}})
	for name, want := range map[string]bool{"x-user-id": true, "X_User_Id": true, "x-user": false} {
		if got := r(name); got != want {
			t.Errorf("Reserved(%q): got %v, want %v", name, got, want)
		}
	}
}
