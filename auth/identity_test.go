package auth

import (
	"context"
	"crypto/x509"
	"crypto/x509/pkix"
	"net/url"
	"testing"

	"github.com/portico-gw/portico/call"
	"google.golang.org/grpc/metadata"
)

func TestClaimText(t *testing.T) {
	for _, tc := range []struct {
		in   any
		want string
		ok   bool
	}{
		{"alice", "alice", true},
		{float64(42), "42", true},
		{1.5, "1.5", true},
		{true, "true", true},
		{[]any{"a", "b"}, "a,b", true},
		{[]any{"a", float64(1)}, `["a",1]`, true},
		{map[string]any{"k": "v"}, `{"k":"v"}`, true},
		{nil, "", false},
		{"line\nbreak", "", false},
		{"é", "", false},
	} {
		got, ok := claimText(tc.in)
		if got != tc.want || ok != tc.ok {
			t.Errorf("claimText(%#v): got %q, %v; want %q, %v", tc.in, got, ok, tc.want, tc.ok)
		}
	}
}

// TestWithIdentityReplaces: identity names replace what the incoming
// metadata holds (never append to it), removals drop, and the caller's
// metadata is not changed.
func TestWithIdentityReplaces(t *testing.T) {
	in := metadata.Pairs("x-portico-principal", "forged", "x-keep", "1", "x-drop", "2")
	ctx := metadata.NewIncomingContext(context.Background(), in)
	id := &call.Identity{Principal: "alice", Metadata: map[string]string{PrincipalHeader: "alice"}}
	out, _ := metadata.FromIncomingContext(withIdentity(ctx, id, [][2]string{{"x-authz", "ok"}}, []string{"x-drop"}, nil))
	want := map[string]string{"x-portico-principal": "alice", "x-keep": "1", "x-authz": "ok"}
	for k, v := range want {
		if got := out.Get(k); len(got) != 1 || got[0] != v {
			t.Errorf("%s: got %q, want [%q]", k, got, v)
		}
	}
	if got := out.Get("x-drop"); len(got) != 0 {
		t.Errorf("x-drop: got %q, want nothing", got)
	}
	if got := in.Get("x-portico-principal"); got[0] != "forged" {
		t.Errorf("the incoming metadata was changed: %q", got)
	}
}

func TestCertificatePrincipal(t *testing.T) {
	spiffe, _ := url.Parse("spiffe://corp/sa/x")
	for _, tc := range []struct {
		cert *x509.Certificate
		want string
	}{
		{&x509.Certificate{URIs: []*url.URL{spiffe}, DNSNames: []string{"d"}, Subject: pkix.Name{CommonName: "c"}}, "spiffe://corp/sa/x"},
		{&x509.Certificate{DNSNames: []string{"d"}, Subject: pkix.Name{CommonName: "c"}}, "d"},
		{&x509.Certificate{Subject: pkix.Name{CommonName: "c"}}, "c"},
		{&x509.Certificate{}, ""},
	} {
		if got := CertificatePrincipal(tc.cert); got != tc.want {
			t.Errorf("got %q, want %q", got, tc.want)
		}
	}
}
