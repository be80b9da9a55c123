package server_test

// The findings about an external authorizer's header instructions (one
// test per finding, named for it).

import (
	"net/http"
	"testing"

	corev3 "github.com/envoyproxy/go-control-plane/envoy/config/core/v3"
	authv3 "github.com/envoyproxy/go-control-plane/envoy/service/auth/v3"
	"github.com/portico-gw/portico/auth/authtest"
	"google.golang.org/grpc/codes"
)

// TestRegressExtAuthzResponseHeadersIgnored (noticed in stop 12): an OK
// answer's response_headers_to_add
// reach the client with the backend's answer on both doors (they were
// ignored); headers that describe the response's framing are not taken.
func TestRegressExtAuthzResponseHeadersIgnored(t *testing.T) {
	e, az := startExtAuthz(t, nil)
	tok := e.iss.Token(t, nil)
	az.SetDecide(func(*authv3.CheckRequest) *authv3.CheckResponse {
		resp := authtest.Allow(nil)
		ok := resp.GetOkResponse()
		for k, v := range map[string]string{"X-Quota-Left": "7", "Content-Type": "text/html", "Grpc-Status": "13"} {
			ok.ResponseHeadersToAdd = append(ok.ResponseHeadersToAdd, &corev3.HeaderValueOption{Header: &corev3.HeaderValue{Key: k, Value: v}})
		}
		return resp
	})
	a := restCall(t, e.URL, http.MethodGet, getBookPath, bearer(tok), "")
	if a.code != http.StatusOK {
		t.Fatalf("REST: got %d %s, want 200", a.code, a.body)
	}
	if got := a.header.Get("X-Quota-Left"); got != "7" {
		t.Errorf("REST: X-Quota-Left: got %q, want 7", got)
	}
	if got := a.header.Get("Content-Type"); got != "application/json" {
		t.Errorf("REST: Content-Type: got %q, want the gateway's application/json", got)
	}
	st, hdr := grpcGetBook(t, e.Conn, "shelves/1/books/1", grpcBearer(tok))
	if st.Code() != codes.OK {
		t.Fatalf("gRPC: got %v, want OK", st.Err())
	}
	if got := hdr.Get("x-quota-left"); len(got) != 1 || got[0] != "7" {
		t.Errorf("gRPC: x-quota-left: got %q, want [7]", got)
	}
	if got := hdr.Get("content-type"); len(got) != 1 || got[0] != "application/grpc" {
		t.Errorf("gRPC: content-type: got %q, want [application/grpc]", got)
	}
}

// TestRegressExtAuthzRemoveIgnored (issue 14, point 4, a sibling): an
// authorizer's headers_to_remove was ignored on plain routes (the gates
// saw none of the client's headers, so there was nothing to remove) and,
// on both doors, removed only the exact name, not X_Secret for x-secret.
// The header goes in every spelling, everywhere.
func TestRegressExtAuthzRemoveIgnored(t *testing.T) {
	e, b, az, tok := startIdentityEnv(t)
	az.SetDecide(func(*authv3.CheckRequest) *authv3.CheckResponse {
		resp := authtest.Allow(map[string]string{"x-authz": "ok"})
		resp.GetOkResponse().HeadersToRemove = []string{"x-authz-secret"}
		return resp
	})
	secret := []string{"X-Authz-Secret: s1", "X_Authz_Secret: s2"}
	gone := func(door string, got map[string][]string) {
		t.Helper()
		for k, v := range got {
			if foldName(k) == "x-authz-secret" {
				t.Errorf("%s: the backend got %s: %q, want it removed", door, k, v)
			}
		}
	}
	resp, body := rawRequest(t, e.URL, "GET", "/legacy/x", append([]string{"Authorization: Bearer " + tok}, secret...)...)
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("plain route: got %d %s, want 200", resp.StatusCode, truncate(body))
	}
	gone("plain route", b.lastRequest().Header)
	md := grpcBearer(tok)
	md["x-authz-secret"], md["x_authz_secret"] = "s1", "s2"
	if st, _ := grpcGetBook(t, e.Conn, "shelves/1/books/1", md); st.Code() != codes.OK {
		t.Fatalf("gRPC: got %v, want OK", st.Err())
	}
	gone("gRPC", e.rec.lastMD())
}
