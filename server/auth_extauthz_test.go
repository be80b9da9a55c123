package server_test

import (
	"fmt"
	"net/http"
	"testing"
	"time"

	authv3 "github.com/envoyproxy/go-control-plane/envoy/service/auth/v3"
	"github.com/portico-gw/portico/auth/authtest"
	configv1 "github.com/portico-gw/portico/gen/portico/config/v1"
	"google.golang.org/grpc/codes"
	"google.golang.org/protobuf/types/known/durationpb"
)

// startExtAuthz is a gateway whose API needs a JWT and the authorizer's
// yes; edit adjusts the authorizer's config.
func startExtAuthz(t *testing.T, edit func(x *configv1.ExternalAuthorizer)) (*authEnv, *authtest.Authorizer) {
	t.Helper()
	az := authtest.NewAuthorizer(t)
	e := startAuth(t, func(c *configv1.Config, _ *authtest.Issuer) {
		x := &configv1.ExternalAuthorizer{Target: az.Addr, Timeout: durationpb.New(2 * time.Second)}
		if edit != nil {
			edit(x)
		}
		c.Auth.Providers = append(c.Auth.Providers, &configv1.AuthProvider{Name: "opa", Kind: &configv1.AuthProvider_External{External: x}})
		c.Apis[0].Auth.Providers = []string{"corp", "opa"}
	})
	return e, az
}

// TestAuthExtAuthz: the authorizer sees the call's HTTP-like attributes
// and the principal on both doors; its OK headers reach the backend; its
// denial's status and headers reach the client, with the usual body.
func TestAuthExtAuthz(t *testing.T) {
	e, az := startExtAuthz(t, nil)
	tok := e.iss.Token(t, nil)

	allow := bearer(tok)
	allow["X-Allow"] = "yes"
	if a := restCall(t, e.URL, http.MethodGet, getBookPath+"?view=full", allow, ""); a.code != http.StatusOK {
		t.Fatalf("REST allowed: got %d %s, want 200", a.code, a.body)
	}
	if got := e.rec.lastMD().Get("x-authz"); len(got) != 1 || got[0] != "ok" {
		t.Errorf("REST: backend x-authz: got %q, want [ok]", got)
	}
	req := az.Last().GetAttributes()
	h := req.GetRequest().GetHttp()
	if h.GetMethod() != "GET" || h.GetPath() != getBookPath+"?view=full" || h.GetHeaders()["x-allow"] != "yes" {
		t.Errorf("REST CheckRequest: got method %q path %q headers %v", h.GetMethod(), h.GetPath(), h.GetHeaders())
	}
	ext := req.GetContextExtensions()
	if ext["grpc_method"] != "/example.bookstore.v1.BookstoreService/GetBook" || ext["principal"] != "alice" || ext["door"] != "rest" {
		t.Errorf("REST CheckRequest context: got %v", ext)
	}
	if req.GetSource().GetPrincipal() != "alice" || req.GetSource().GetAddress().GetSocketAddress().GetAddress() != "127.0.0.1" {
		t.Errorf("REST CheckRequest source: got %v", req.GetSource())
	}

	md := grpcBearer(tok)
	md["x-allow"] = "yes"
	if st, _ := grpcGetBook(t, e.Conn, "shelves/1/books/1", md); st.Code() != codes.OK {
		t.Fatalf("gRPC allowed: got %v, want OK", st.Err())
	}
	if got := e.rec.lastMD().Get("x-authz"); len(got) != 1 || got[0] != "ok" {
		t.Errorf("gRPC: backend x-authz: got %q, want [ok]", got)
	}
	h = az.Last().GetAttributes().GetRequest().GetHttp()
	if h.GetMethod() != "POST" || h.GetPath() != "/example.bookstore.v1.BookstoreService/GetBook" || h.GetHeaders()["x-allow"] != "yes" {
		t.Errorf("gRPC CheckRequest: got method %q path %q headers %v", h.GetMethod(), h.GetPath(), h.GetHeaders())
	}

	before := e.rec.Calls()
	a := restCall(t, e.URL, http.MethodGet, getBookPath, bearer(tok), "")
	wantDenied(t, "REST denied", a)
	if got := a.header.Get("X-Denied-By"); got != "test-authz" {
		t.Errorf("REST denied: X-Denied-By: got %q, want test-authz", got)
	}
	st, hdr := grpcGetBook(t, e.Conn, "shelves/1/books/1", grpcBearer(tok))
	if st.Code() != codes.PermissionDenied || st.Message() != "permission denied" {
		t.Errorf("gRPC denied: got %v %q, want PermissionDenied", st.Code(), st.Message())
	}
	if got := hdr.Get("x-denied-by"); len(got) != 1 || got[0] != "test-authz" {
		t.Errorf("gRPC denied: x-denied-by: got %q, want [test-authz]", got)
	}
	if n := e.rec.Calls() - before; n != 0 {
		t.Errorf("backend got %d calls, want 0", n)
	}

	// A 401 from the authorizer is UNAUTHENTICATED; a custom status passes.
	az.SetDecide(func(*authv3.CheckRequest) *authv3.CheckResponse { return authtest.Deny(401, nil) })
	if a := restCall(t, e.URL, http.MethodGet, getBookPath, bearer(tok), ""); a.code != http.StatusUnauthorized {
		t.Errorf("REST, authorizer says 401: got %d %s", a.code, a.body)
	}
	if st, _ := grpcGetBook(t, e.Conn, "shelves/1/books/1", grpcBearer(tok)); st.Code() != codes.Unauthenticated {
		t.Errorf("gRPC, authorizer says 401: got %v", st.Code())
	}
	az.SetDecide(func(*authv3.CheckRequest) *authv3.CheckResponse { return authtest.Deny(451, nil) })
	if a := restCall(t, e.URL, http.MethodGet, getBookPath, bearer(tok), ""); a.code != 451 {
		t.Errorf("REST, authorizer says 451: got %d %s", a.code, a.body)
	}
}

// TestAuthExtAuthzCache: with cache_ttl, the authorizer is asked once per
// key (by default the identity headers, the principal, the method, the
// HTTP method, path and host: the same call on the two doors is two
// requests, as the authorizer sees them); another key asks again.
func TestAuthExtAuthzCache(t *testing.T) {
	e, az := startExtAuthz(t, func(x *configv1.ExternalAuthorizer) { x.CacheTtl = durationpb.New(time.Minute) })
	az.SetDecide(func(*authv3.CheckRequest) *authv3.CheckResponse {
		return authtest.Allow(map[string]string{"x-authz": "cached"})
	})
	tok := e.iss.Token(t, nil)
	for i := 0; i < 5; i++ {
		if a := restCall(t, e.URL, http.MethodGet, getBookPath, bearer(tok), ""); a.code != http.StatusOK {
			t.Fatalf("REST: got %d %s, want 200", a.code, a.body)
		}
		if st, _ := grpcGetBook(t, e.Conn, "shelves/1/books/1", grpcBearer(tok)); st.Code() != codes.OK {
			t.Fatalf("gRPC: got %v, want OK", st.Err())
		}
	}
	if n := az.Calls(); n != 2 {
		t.Errorf("authorizer asked %d times for one key per door, want 2", n)
	}
	if got := e.rec.lastMD().Get("x-authz"); len(got) != 1 || got[0] != "cached" {
		t.Errorf("cached decision's header: got %q, want [cached]", got)
	}
	// Deny decisions are cached too, per key.
	az.SetDecide(func(*authv3.CheckRequest) *authv3.CheckResponse { return authtest.Deny(403, nil) })
	other := e.iss.Token(t, authtest.Claims{"sub": "bob"})
	for i := 0; i < 3; i++ {
		if a := restCall(t, e.URL, http.MethodGet, getBookPath, bearer(other), ""); a.code != http.StatusForbidden {
			t.Fatalf("bob: got %d, want 403", a.code)
		}
	}
	if n := az.Calls(); n != 3 {
		t.Errorf("authorizer asked %d times for three keys, want 3", n)
	}
}

// TestAuthExtAuthzFailClosed: an authorizer that does not answer in time
// denies, unless fail_open; such outcomes are not cached.
func TestAuthExtAuthzFailClosed(t *testing.T) {
	for _, failOpen := range []bool{false, true} {
		t.Run(map[bool]string{false: "fail closed", true: "fail open"}[failOpen], func(t *testing.T) {
			e, az := startExtAuthz(t, func(x *configv1.ExternalAuthorizer) {
				x.Timeout = durationpb.New(50 * time.Millisecond)
				x.CacheTtl = durationpb.New(time.Minute)
				x.FailOpen = failOpen
			})
			az.SetBlock(true)
			tok := e.iss.Token(t, nil)
			want, wantCode := http.StatusForbidden, codes.PermissionDenied
			if failOpen {
				want, wantCode = http.StatusOK, codes.OK
			}
			if a := restCall(t, e.URL, http.MethodGet, getBookPath, bearer(tok), ""); a.code != want {
				t.Errorf("REST: got %d %s, want %d", a.code, a.body, want)
			}
			if st, _ := grpcGetBook(t, e.Conn, "shelves/1/books/1", grpcBearer(tok)); st.Code() != wantCode {
				t.Errorf("gRPC: got %v, want %v", st.Code(), wantCode)
			}
			if n := az.Calls(); n != 2 {
				t.Errorf("authorizer asked %d times, want 2 (time-outs are not cached)", n)
			}
		})
	}
}

// TestAuthConcurrentCalls: many calls at once share the verified-token
// cache, the per-token identity and the decision cache (run with -race).
func TestAuthConcurrentCalls(t *testing.T) {
	e, az := startExtAuthz(t, func(x *configv1.ExternalAuthorizer) { x.CacheTtl = durationpb.New(time.Minute) })
	az.SetDecide(func(*authv3.CheckRequest) *authv3.CheckResponse {
		return authtest.Allow(map[string]string{"x-authz": "ok"})
	})
	tokens := []string{e.iss.Token(t, authtest.Claims{"sub": "a"}), e.iss.Token(t, authtest.Claims{"sub": "b"})}
	errs := make(chan error, 16)
	for g := 0; g < 8; g++ {
		go func() {
			for i := 0; i < 10; i++ {
				tok := tokens[(g+i)%2]
				if g%2 == 0 {
					if st, _ := grpcGetBook(t, e.Conn, "shelves/1/books/1", grpcBearer(tok)); st.Code() != codes.OK {
						errs <- st.Err()
						return
					}
				} else if a := restCall(t, e.URL, http.MethodGet, getBookPath, bearer(tok), ""); a.code != http.StatusOK {
					errs <- fmt.Errorf("REST: got %d %s", a.code, a.body)
					return
				}
			}
			errs <- nil
		}()
	}
	for g := 0; g < 8; g++ {
		if err := <-errs; err != nil {
			t.Error(err)
		}
	}
	if n := az.Calls(); n > 4 {
		t.Errorf("authorizer asked %d times for 4 keys (2 tokens, 2 doors), want at most 4 (concurrent misses of a key share one Check)", n)
	}
}
