package server_test

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/portico-gw/portico/auth/authtest"
	"github.com/portico-gw/portico/config"
	bookstorev1 "github.com/portico-gw/portico/gen/example/bookstore/v1"
	configv1 "github.com/portico-gw/portico/gen/portico/config/v1"
	"github.com/portico-gw/portico/server/servertest"
	"github.com/portico-gw/portico/snapshot"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/metadata"
	"google.golang.org/grpc/status"
)

// rulesConfig is the example: books.read for the API, DeleteBook
// only within the caller's shelf, LookupBooks never for shelves/2/books/9,
// ListShelves public.
func rulesConfig(c *configv1.Config, _ *authtest.Issuer) {
	c.Apis[0].Auth.Require = `"books.read" in claims.scope.split(" ")`
	c.Apis[0].Methods = []*configv1.MethodPolicy{
		{Selector: "example.bookstore.v1.BookstoreService.ListShelves", Auth: &configv1.ApiAuth{Public: true}},
		{Selector: "example.bookstore.v1.BookstoreService.DeleteBook", Auth: &configv1.ApiAuth{Require: `request.name.startsWith("shelves/" + claims.sub + "/")`}},
		{Selector: "example.bookstore.v1.BookstoreService.LookupBooks", Auth: &configv1.ApiAuth{Require: `request.name != "shelves/2/books/9" && principal == "1"`}},
	}
}

func wantDenied(t *testing.T, door string, a answer) {
	t.Helper()
	if a.code != http.StatusForbidden {
		t.Errorf("%s: got %d %s, want 403", door, a.code, a.body)
		return
	}
	var body struct{ Message string }
	if err := json.Unmarshal([]byte(a.body), &body); err != nil || body.Message != "permission denied" {
		t.Errorf("%s body: got %s, want message \"permission denied\"", door, a.body)
	}
}

// TestAuthRules: a rule on claims runs in the gate (403, nothing reaches
// the backend), a rule on request fields after decoding, on both doors;
// a public override opens its method.
func TestAuthRules(t *testing.T) {
	e := startAuth(t, rulesConfig)
	reader := e.iss.Token(t, authtest.Claims{"sub": "1", "scope": "books.read books.write"})
	noScope := e.iss.Token(t, authtest.Claims{"sub": "1", "scope": "other"})
	otherShelf := e.iss.Token(t, authtest.Claims{"sub": "2", "scope": "books.read"})

	t.Run("claims rule", func(t *testing.T) {
		before := e.rec.Calls()
		wantDenied(t, "REST", restCall(t, e.URL, http.MethodGet, getBookPath, bearer(noScope), ""))
		st, _ := grpcGetBook(t, e.Conn, "shelves/1/books/1", grpcBearer(noScope))
		if st.Code() != codes.PermissionDenied || st.Message() != "permission denied" {
			t.Errorf("gRPC: got %v %q, want PermissionDenied", st.Code(), st.Message())
		}
		if n := e.rec.Calls() - before; n != 0 {
			t.Errorf("backend got %d calls, want 0", n)
		}
		if a := restCall(t, e.URL, http.MethodGet, getBookPath, bearer(reader), ""); a.code != http.StatusOK {
			t.Errorf("REST with the scope: got %d %s, want 200", a.code, a.body)
		}
		if st, _ := grpcGetBook(t, e.Conn, "shelves/1/books/1", grpcBearer(reader)); st.Code() != codes.OK {
			t.Errorf("gRPC with the scope: got %v, want OK", st.Err())
		}
	})

	t.Run("request rule", func(t *testing.T) {
		before := e.rec.Calls()
		wantDenied(t, "REST", restCall(t, e.URL, http.MethodDelete, "/v1/shelves/1/books/2", bearer(otherShelf), ""))
		ctx := metadata.NewOutgoingContext(context.Background(), metadata.New(grpcBearer(otherShelf)))
		client := bookstorev1.NewBookstoreServiceClient(e.Conn)
		_, err := client.DeleteBook(ctx, &bookstorev1.DeleteBookRequest{Name: "shelves/1/books/2"})
		if status.Code(err) != codes.PermissionDenied {
			t.Errorf("gRPC DeleteBook of another's shelf: got %v, want PermissionDenied", err)
		}
		if n := e.rec.Calls() - before; n != 0 {
			t.Errorf("backend got %d calls, want 0", n)
		}
		// The method's rule replaces the API's: no scope needed, own shelf.
		ownNoScope := e.iss.Token(t, authtest.Claims{"sub": "1"})
		if a := restCall(t, e.URL, http.MethodDelete, "/v1/shelves/1/books/2", bearer(ownNoScope), ""); a.code != http.StatusOK {
			t.Errorf("REST DeleteBook on own shelf: got %d %s, want 200", a.code, a.body)
		}
		ctx = metadata.NewOutgoingContext(context.Background(), metadata.New(grpcBearer(ownNoScope)))
		if _, err := client.DeleteBook(ctx, &bookstorev1.DeleteBookRequest{Name: "shelves/1/books/1"}); err != nil {
			t.Errorf("gRPC DeleteBook on own shelf: got %v, want OK", err)
		}
	})

	t.Run("stream rule per message", func(t *testing.T) {
		ctx, cancel := context.WithTimeout(metadata.NewOutgoingContext(context.Background(), metadata.New(grpcBearer(reader))), 10*time.Second)
		defer cancel()
		s, err := bookstorev1.NewBookstoreServiceClient(e.Conn).LookupBooks(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if err := s.Send(&bookstorev1.GetBookRequest{Name: "shelves/2/books/1"}); err != nil {
			t.Fatal(err)
		}
		if _, err := s.Recv(); err != nil {
			t.Fatalf("first (allowed) message: got %v, want a book", err)
		}
		_ = s.Send(&bookstorev1.GetBookRequest{Name: "shelves/2/books/9"})
		_, err = s.Recv()
		if status.Code(err) != codes.PermissionDenied {
			t.Errorf("second (denied) message: got %v, want PermissionDenied", err)
		}
	})

	t.Run("public override", func(t *testing.T) {
		if a := restCall(t, e.URL, http.MethodGet, "/v1/shelves", nil, ""); a.code != http.StatusOK {
			t.Errorf("ListShelves without a token: got %d %s, want 200", a.code, a.body)
		}
	})
}

// TestAuthConfigErrors: what auth gets wrong in a config is found when the
// snapshot is built, located by its key path.
func TestAuthConfigErrors(t *testing.T) {
	iss := authtest.NewIssuer(t)
	dir := t.TempDir()
	jwks := authtest.WriteFile(t, dir, "jwks.json", iss.JWKS(t))
	base := func(c *configv1.Config) {
		c.Auth = &configv1.Auth{Providers: []*configv1.AuthProvider{{Name: "corp", Kind: &configv1.AuthProvider_Jwt{Jwt: &configv1.JwtProvider{Issuer: iss.URL, Audiences: []string{"portico"}, JwksFile: jwks}}}}}
		c.Apis[0].Auth = &configv1.ApiAuth{Providers: []string{"corp"}}
	}
	tests := []struct {
		name  string
		edit  func(c *configv1.Config)
		field string
		msg   string
	}{
		{"rule does not compile", func(c *configv1.Config) { c.Apis[0].Auth.Require = `claims.sub ==` }, "apis[0].auth.require", "Syntax error"},
		{"rule is not a bool", func(c *configv1.Config) { c.Apis[0].Auth.Require = `principal` }, "apis[0].auth.require", "want bool"},
		{"rule reads a field the request lacks", func(c *configv1.Config) { c.Apis[0].Auth.Require = `request.no_such_field == "x"` }, "apis[0].auth.require", "no_such_field"},
		{"rule names an unknown variable", func(c *configv1.Config) { c.Apis[0].Auth.Require = `user == "x"` }, "apis[0].auth.require", "undeclared reference"},
		{"method rule with a bad field", func(c *configv1.Config) {
			c.Apis[0].Methods = []*configv1.MethodPolicy{{Selector: "example.bookstore.v1.BookstoreService.GetBook", Auth: &configv1.ApiAuth{Require: `request.parent == "x"`}}}
		}, "apis[0].methods[0].auth.require", "GetBook"},
		{"selector names no exposed method", func(c *configv1.Config) {
			c.Apis[0].Methods = []*configv1.MethodPolicy{{Selector: "example.bookstore.v1.BookstoreService.Nope", Auth: &configv1.ApiAuth{Public: true}}}
		}, "apis[0].methods[0].selector", "names no exposed method"},
		{"selector of another service", func(c *configv1.Config) {
			c.Apis[0].Methods = []*configv1.MethodPolicy{{Selector: "example.inventory.v1.InventoryService.ListItems", Auth: &configv1.ApiAuth{Public: true}}}
		}, "apis[0].methods[0].selector", "names no exposed method"},
		{"unknown provider", func(c *configv1.Config) { c.Apis[0].Auth.Providers = []string{"nobody"} }, "apis[0].auth.providers[0]", `"nobody"`},
		{"empty auth block", func(c *configv1.Config) { c.Apis[0].Auth = &configv1.ApiAuth{} }, "apis[0].auth", "public: true"},
		{"require without providers", func(c *configv1.Config) { c.Apis[0].Auth = &configv1.ApiAuth{Require: "true"} }, "apis[0].auth.providers", "require needs providers"},
		{"public with providers", func(c *configv1.Config) { c.Apis[0].Auth.Public = true }, "apis[0].auth.public", "cannot be combined"},
		{"mtls without a client CA", func(c *configv1.Config) {
			c.Auth.Providers = append(c.Auth.Providers, &configv1.AuthProvider{Name: "internal", Kind: &configv1.AuthProvider_Mtls{Mtls: &configv1.MtlsProvider{}}})
		}, "auth.providers[1].mtls", "client_ca_file"},
		{"two key sources", func(c *configv1.Config) { c.Auth.Providers[0].GetJwt().JwksUri = iss.JWKSURL() }, "auth.providers[0].jwt", "exactly one"},
		{"alg none allowed", func(c *configv1.Config) { c.Auth.Providers[0].GetJwt().Algorithms = []string{"none"} }, "auth.providers[0].jwt", "never allowed"},
		{"missing JWKS file", func(c *configv1.Config) { c.Auth.Providers[0].GetJwt().JwksFile = "missing.json" }, "auth.providers[0].jwt.jwks_file", "no such file"},
		{"bad keys file", func(c *configv1.Config) {
			bad := authtest.WriteFile(t, dir, "keys.yaml", []byte("- {id: a, sha256: NOTHEX}\n"))
			c.Auth.Providers = append(c.Auth.Providers, &configv1.AuthProvider{Name: "partners", Kind: &configv1.AuthProvider_ApiKey{ApiKey: &configv1.ApiKeyProvider{KeysFile: bad}}})
		}, "auth.providers[1].api_key.keys_file", "sha256"},
		{"forwarded claim to a bad name", func(c *configv1.Config) {
			c.Auth.Providers[0].GetJwt().ForwardClaims = map[string]string{"sub": "Bad Name"}
		}, "auth.providers[0].jwt.forward_claims.sub", "metadata name"},
		{"provider defined twice", func(c *configv1.Config) {
			c.Auth.Providers = append(c.Auth.Providers, c.Auth.Providers[0])
		}, "auth.providers[1].name", "twice"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			cfg := servertest.BookstoreConfig("127.0.0.1:1")
			base(cfg)
			tc.edit(cfg)
			snap, err := snapshot.Build(&config.File{Config: cfg, Dir: dir}, snapshot.Options{})
			if err == nil {
				snap.Close()
				t.Fatalf("Build: got no error, want %s: ...%s...", tc.field, tc.msg)
			}
			var ce config.Errors
			if !errors.As(err, &ce) {
				t.Fatalf("Build: got %T %v, want config.Errors", err, err)
			}
			found := false
			for _, e := range ce {
				if e.Field == tc.field && strings.Contains(e.Message, tc.msg) {
					found = true
				}
			}
			if !found {
				t.Errorf("Build: got %v, want an error at %s containing %q", err, tc.field, tc.msg)
			}
		})
	}
}

// TestAuthWarnings: an API without auth is public and warned about;
// auth: {public: true} silences the warning.
func TestAuthWarnings(t *testing.T) {
	build := func(edit func(*configv1.Config)) *snapshot.Snapshot {
		cfg := servertest.BookstoreConfig("127.0.0.1:1")
		if edit != nil {
			edit(cfg)
		}
		snap, err := snapshot.Build(&config.File{Config: cfg, Dir: "."}, snapshot.Options{})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { snap.Close() })
		return snap
	}
	s := build(nil)
	if len(s.Warnings()) != 1 || s.Warnings()[0].Field != "apis[0]" || !strings.Contains(s.Warnings()[0].Message, "public") {
		t.Errorf("no auth: got warnings %v, want one at apis[0] saying it is public", s.Warnings())
	}
	s = build(func(c *configv1.Config) { c.Apis[0].Auth = &configv1.ApiAuth{Public: true} })
	if len(s.Warnings()) != 0 {
		t.Errorf("auth: {public: true}: got warnings %v, want none", s.Warnings())
	}
}
