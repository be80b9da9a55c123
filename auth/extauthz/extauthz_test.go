package extauthz_test

import (
	"context"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"testing"
	"time"

	authv3 "github.com/envoyproxy/go-control-plane/envoy/service/auth/v3"
	"github.com/portico-gw/portico/auth/authtest"
	"github.com/portico-gw/portico/auth/extauthz"
	"github.com/portico-gw/portico/call"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/metadata"
)

func restInfo(path string, headers map[string]string) *call.Info {
	r := httptest.NewRequest(http.MethodGet, path, nil)
	for k, v := range headers {
		r.Header.Set(k, v)
	}
	return &call.Info{Door: call.REST, HTTP: r, HTTPMethod: "GET", Path: r.URL.Path, ClientIP: netip.MustParseAddr("192.0.2.1")}
}

func TestCacheKeyAttributes(t *testing.T) {
	az := authtest.NewAuthorizer(t)
	az.SetDecide(func(*authv3.CheckRequest) *authv3.CheckResponse { return authtest.Allow(nil) })
	// A key of the caller alone: the operator says the authorizer does not
	// decide on the request.
	c, err := extauthz.New(extauthz.Config{Target: az.Addr, CacheTTL: time.Minute, CacheKey: []string{"Authorization", "principal"}, ReuseAcrossRequests: true})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	ctx := context.Background()
	steps := []struct {
		info      *call.Info
		principal string
		cached    bool
	}{
		{restInfo("/a", map[string]string{"Authorization": "t1"}), "alice", false},
		{restInfo("/b", map[string]string{"Authorization": "t1", "X-Other": "1"}), "alice", true}, // path and other headers are not in the key
		{restInfo("/a", map[string]string{"Authorization": "t2"}), "alice", false},
		{restInfo("/a", map[string]string{"Authorization": "t1"}), "bob", false},
		{&call.Info{Door: call.GRPC, MD: metadata.Pairs("authorization", "t1"), Path: "/x/Y"}, "alice", true}, // the same key on the gRPC door
	}
	for i, s := range steps {
		d, cached := c.Check(ctx, s.info, s.principal)
		if !d.Allowed || cached != s.cached {
			t.Errorf("step %d: got allowed=%v cached=%v, want allowed, cached=%v", i, d.Allowed, cached, s.cached)
		}
	}
	if n := az.Calls(); n != 3 {
		t.Errorf("authorizer asked %d times, want 3", n)
	}
}

func TestCacheBounded(t *testing.T) {
	az := authtest.NewAuthorizer(t)
	c, err := extauthz.New(extauthz.Config{Target: az.Addr, CacheTTL: time.Minute, CacheSize: 4, CacheKey: []string{"authorization"}, ReuseAcrossRequests: true})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	for i := 0; i < 20; i++ {
		c.Check(context.Background(), restInfo("/", map[string]string{"Authorization": string(rune('a' + i))}), "")
	}
	if n := c.CachedDecisions(); n != 4 {
		t.Errorf("cached decisions: got %d, want 4 (the bound)", n)
	}
}

func TestDecisions(t *testing.T) {
	az := authtest.NewAuthorizer(t)
	c, err := extauthz.New(extauthz.Config{Target: az.Addr})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	for _, tc := range []struct {
		name    string
		resp    *authv3.CheckResponse
		allowed bool
		code    codes.Code
		http    int
		backend [][2]string
	}{
		{"allow", authtest.Allow(map[string]string{"X-User": "u", "x-portico-principal": "p"}), true, codes.OK, 0, nil},
		{"deny default", authtest.Deny(0, nil), false, codes.PermissionDenied, 403, nil},
		{"deny 401", authtest.Deny(401, nil), false, codes.Unauthenticated, 401, nil},
		{"deny 429", authtest.Deny(429, nil), false, codes.ResourceExhausted, 429, nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			az.SetDecide(func(*authv3.CheckRequest) *authv3.CheckResponse { return tc.resp })
			d, _ := c.Check(context.Background(), restInfo("/", nil), "")
			if d.Allowed != tc.allowed || (!d.Allowed && (d.Code != tc.code || d.HTTPStatus != tc.http)) {
				t.Errorf("got allowed=%v code=%v http=%d, want %v %v %d", d.Allowed, d.Code, d.HTTPStatus, tc.allowed, tc.code, tc.http)
			}
			if tc.allowed && d.Principal != "p" {
				t.Errorf("principal: got %q, want p (from x-portico-principal)", d.Principal)
			}
		})
	}
}

func TestBadCacheKey(t *testing.T) {
	if _, err := extauthz.New(extauthz.Config{Target: "127.0.0.1:1", CacheKey: []string{"not a header"}}); err == nil {
		t.Error("New with a bad cache_key: got nil, want an error")
	}
}
