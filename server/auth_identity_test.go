package server_test

import (
	"net/http"
	"testing"

	"github.com/portico-gw/portico/auth/authtest"
	configv1 "github.com/portico-gw/portico/gen/portico/config/v1"
	"google.golang.org/grpc/codes"
)

// TestAuthIdentityToBackend: the principal and the forwarded claims reach
// the backend as metadata on both doors, and the same names sent by a
// client are dropped first, so they cannot be forged.
func TestAuthIdentityToBackend(t *testing.T) {
	e := startAuth(t, nil)
	tok := e.iss.Token(t, authtest.Claims{"sub": "alice", "tenant": "acme"})
	forged := map[string]string{"X-Portico-Principal": "root", "X-User-Id": "root", "X-Tenant": "evil"}

	check := func(door string) {
		t.Helper()
		md := e.rec.lastMD()
		for k, want := range map[string]string{"x-portico-principal": "alice", "x-user-id": "alice", "x-tenant": "acme"} {
			if got := md.Get(k); len(got) != 1 || got[0] != want {
				t.Errorf("%s: backend metadata %s: got %q, want [%q]", door, k, got, want)
			}
		}
	}
	h := bearer(tok)
	for k, v := range forged {
		h[k] = v
	}
	if a := restCall(t, e.URL, http.MethodGet, getBookPath, h, ""); a.code != http.StatusOK {
		t.Fatalf("REST: got %d %s, want 200", a.code, a.body)
	}
	check("REST")
	md := grpcBearer(tok)
	for k, v := range forged {
		md[k] = v
	}
	if st, _ := grpcGetBook(t, e.Conn, "shelves/1/books/1", md); st.Code() != codes.OK {
		t.Fatalf("gRPC: got %v, want OK", st.Err())
	}
	check("gRPC")
}

// TestAuthForgedIdentityOnPublicMethod: identity names are dropped from
// what clients send even on a method that needs no authentication.
func TestAuthForgedIdentityOnPublicMethod(t *testing.T) {
	e := startAuth(t, func(c *configv1.Config, _ *authtest.Issuer) {
		c.Apis[0].Methods = []*configv1.MethodPolicy{{
			Selector: "example.bookstore.v1.BookstoreService.GetBook",
			Auth:     &configv1.ApiAuth{Public: true},
		}}
	})
	forged := map[string]string{"x-portico-principal": "root", "x-user-id": "root"}
	if a := restCall(t, e.URL, http.MethodGet, getBookPath, forged, ""); a.code != http.StatusOK {
		t.Fatalf("REST: got %d %s, want 200 (public method)", a.code, a.body)
	}
	for k := range forged {
		if got := e.rec.lastMD().Get(k); len(got) != 0 {
			t.Errorf("REST: backend got %s=%q from the client, want nothing", k, got)
		}
	}
	if st, _ := grpcGetBook(t, e.Conn, "shelves/1/books/1", forged); st.Code() != codes.OK {
		t.Fatalf("gRPC: got %v, want OK (public method)", st.Err())
	}
	for k := range forged {
		if got := e.rec.lastMD().Get(k); len(got) != 0 {
			t.Errorf("gRPC: backend got %s=%q from the client, want nothing", k, got)
		}
	}
	// The other methods still need a token.
	if a := restCall(t, e.URL, http.MethodGet, "/v1/shelves", nil, ""); a.code != http.StatusUnauthorized {
		t.Errorf("ListShelves without a token: got %d, want 401", a.code)
	}
}

// TestAuthHealthNotAuthenticated: health (gRPC and admin) answers without
// credentials when every API needs them.
func TestAuthHealthNotAuthenticated(t *testing.T) {
	e := startAuth(t, nil)
	if a := restCall(t, "http://"+e.Server.AdminAddr, http.MethodGet, "/healthz", nil, ""); a.code != http.StatusOK {
		t.Errorf("/healthz: got %d, want 200", a.code)
	}
	if a := restCall(t, e.URL, http.MethodGet, getBookPath, nil, ""); a.code != http.StatusUnauthorized {
		t.Errorf("GetBook without a token: got %d, want 401", a.code)
	}
}
