package server_test

// The findings of the hardening issue and of issue 14 about the identity
// and forwarding headers a backend trusts (one test per finding, named
// for it).

import (
	"context"
	"net/http"
	"strings"
	"testing"
	"time"

	messagingv1 "github.com/portico-gw/portico/gen/example/messaging/v1"
	configv1 "github.com/portico-gw/portico/gen/portico/config/v1"
	"github.com/portico-gw/portico/server/servertest"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/metadata"
)

// TestRegressSpoofedMetadata (finding 6): the gRPC door forwarded
// x-forwarded-for, grpcgateway-* and the names the REST door reserves for
// itself verbatim. The same reserved names are stripped on both doors now,
// and x-forwarded-for carries the real peer appended.
func TestRegressSpoofedMetadata(t *testing.T) {
	env := servertest.StartHostile(t, servertest.Options{Config: func(c *configv1.Config) {
		c.Rest = &configv1.Rest{ForwardHeaders: []string{"X-Portico-Principal", "X-Tenant"}}
	}})
	ctx := metadata.NewOutgoingContext(context.Background(), metadata.Pairs(
		"x-forwarded-for", "203.0.113.9",
		"x-forwarded-host", "evil.example",
		"grpcgateway-user-agent", "forged",
		"x-portico-principal", "admin",
		"x-tenant", "t1",
	))
	ctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	if _, err := rawCall(t, env.Conn, ctx, hostile+"Put", unaryDesc, []byte{0x0a, 0x01, 'x'}); err != nil {
		t.Fatal(err)
	}
	md := env.Mirror.LastMetadata()
	if got, want := md.Get("x-forwarded-for"), []string{"203.0.113.9, 127.0.0.1"}; !equal(got, want) {
		t.Errorf("gRPC x-forwarded-for: got %q, want %q", got, want)
	}
	if got := md.Get("x-forwarded-host"); len(got) != 1 || got[0] == "evil.example" {
		t.Errorf("gRPC x-forwarded-host: got %q, want the authority", got)
	}
	for _, k := range []string{"grpcgateway-user-agent", "x-portico-principal"} {
		if v := md.Get(k); len(v) > 0 {
			t.Errorf("gRPC: %s reached the backend: %q", k, v)
		}
	}
	if got := md.Get("x-tenant"); !equal(got, []string{"t1"}) {
		t.Errorf("gRPC x-tenant: got %q, want [t1] (ordinary metadata passes)", got)
	}

	req, _ := http.NewRequest("POST", env.URL+"/v1/things", strings.NewReader(`{"name":"x"}`))
	req.Header.Set("X-Portico-Principal", "admin")
	req.Header.Set("X-Tenant", "t2")
	req.Header.Set("X-Forwarded-For", "203.0.113.9")
	if resp, out := do(t, req); resp.StatusCode != http.StatusOK {
		t.Fatalf("REST: got %d %s", resp.StatusCode, out)
	}
	md = env.Mirror.LastMetadata()
	if v := md.Get("x-portico-principal"); len(v) > 0 {
		t.Errorf("REST: x-portico-principal reached the backend although listed in forward_headers: %q", v)
	}
	if got := md.Get("x-tenant"); !equal(got, []string{"t2"}) {
		t.Errorf("REST x-tenant: got %q, want [t2]", got)
	}
	if got, want := md.Get("x-forwarded-for"), []string{"203.0.113.9, 127.0.0.1"}; !equal(got, want) {
		t.Errorf("REST x-forwarded-for: got %q, want %q", got, want)
	}
}

func equal(a, b []string) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

// TestRegressIdentityHeaderStrippedByConnection (issue 14, point 4): on
// plain routes the caller's identity was set before
// httputil.ReverseProxy removed the headers the client's Connection
// header names, so `Connection: X-Portico-Principal` deleted it (and the
// forwarded claims, and the authorizer's headers) on the way to the
// backend. They are set after hop-by-hop removal now.
func TestRegressIdentityHeaderStrippedByConnection(t *testing.T) {
	e, b, _, tok := startIdentityEnv(t)
	conn := "Connection: X-Portico-Principal, X-User-Id, X-Authz, X_email"
	resp, body := rawRequest(t, e.URL, "GET", "/legacy/x", "Authorization: Bearer "+tok, conn)
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("plain route: got %d %s, want 200", resp.StatusCode, truncate(body))
	}
	checkIdentity(t, "plain route", b.lastRequest().Header, map[string]string{"x-forwarded-host": hostOf(e.URL)})
	resp, body = rawRequest(t, e.URL, "GET", getBookPath, "Authorization: Bearer "+tok, conn)
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("REST: got %d %s, want 200", resp.StatusCode, truncate(body))
	}
	checkIdentity(t, "REST", e.rec.lastMD(), map[string]string{"x-forwarded-host": hostOf(e.URL)})
	resp, body = rawRequest(t, e.URL, "GET", "/v1/rooms/1/messages/2", "Authorization: Bearer "+tok, conn)
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("REST to an http integration: got %d %s, want 200", resp.StatusCode, truncate(body))
	}
	checkIdentity(t, "REST to an http integration", b.lastRequest().Header, map[string]string{"x-forwarded-host": hostOf(e.URL)})
}

// TestRegressIdentityHeaderSpellings (issue 14, point 4): names a backend
// reads as the gateway's identity headers, in another spelling
// (X_Portico_Principal, a forwarded claim with "-" for "_" or the
// reverse, an authorizer's header with "_", grpcgateway-<name> that an
// http integration sends as <name>), and a client's
// X-Forwarded-Host passed through to the backend on both doors and on
// plain routes, next to the gateway's own (on the REST door, when
// rest.forward_headers names them). They are dropped; the backend
// sees each name once, as the gateway set it, and X-Forwarded-Host is the
// host the client called.
func TestRegressIdentityHeaderSpellings(t *testing.T) {
	e, b, _, tok := startIdentityEnv(t)
	forged := []string{"X_Portico_Principal: root", "x-portico_PRINCIPAL: root", "X_User_Id: root", "X-Email: root@evil",
		"X_Authz: forged", "X-Forwarded-Host: evil.example", "X_Forwarded_Host: evil.example", "Grpcgateway-X-Portico-Principal: root"}
	resp, body := rawRequest(t, e.URL, "GET", "/legacy/x", append([]string{"Authorization: Bearer " + tok}, forged...)...)
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("plain route: got %d %s, want 200", resp.StatusCode, truncate(body))
	}
	checkIdentity(t, "plain route", b.lastRequest().Header, map[string]string{"x-forwarded-host": hostOf(e.URL)})

	resp, body = rawRequest(t, e.URL, "GET", getBookPath, append([]string{"Authorization: Bearer " + tok}, forged...)...)
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("REST: got %d %s, want 200", resp.StatusCode, truncate(body))
	}
	checkIdentity(t, "REST", e.rec.lastMD(), map[string]string{"x-forwarded-host": hostOf(e.URL)})
	resp, body = rawRequest(t, e.URL, "GET", "/v1/rooms/1/messages/2", append([]string{"Authorization: Bearer " + tok}, forged...)...)
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("REST to an http integration: got %d %s, want 200", resp.StatusCode, truncate(body))
	}
	checkIdentity(t, "REST to an http integration", b.lastRequest().Header, map[string]string{"x-forwarded-host": hostOf(e.URL)})

	md := grpcBearer(tok)
	for _, h := range forged {
		k, v, _ := strings.Cut(h, ": ")
		md[strings.ToLower(k)] = v
	}
	if st, _ := grpcGetBook(t, e.Conn, "shelves/1/books/1", md); st.Code() != codes.OK {
		t.Fatalf("gRPC: got %v, want OK", st.Err())
	}
	checkIdentity(t, "gRPC", e.rec.lastMD(), map[string]string{"x-forwarded-host": e.Server.GRPCAddr})
	ctx, cancel := context.WithTimeout(metadata.NewOutgoingContext(context.Background(), metadata.New(md)), 10*time.Second)
	defer cancel()
	if _, err := messagingv1.NewMessagingServiceClient(e.Conn).GetMessage(ctx, &messagingv1.GetMessageRequest{Name: "rooms/1/messages/2"}); err != nil {
		t.Fatalf("gRPC to an http integration: got %v, want OK", err)
	}
	checkIdentity(t, "gRPC to an http integration", b.lastRequest().Header, map[string]string{"x-forwarded-host": e.Server.GRPCAddr})
}
