package extauthz_test

// One test per finding, named for it.

import (
	"context"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	authv3 "github.com/envoyproxy/go-control-plane/envoy/service/auth/v3"
	"github.com/portico-gw/portico/auth/authtest"
	"github.com/portico-gw/portico/auth/extauthz"
	"github.com/portico-gw/portico/call"
	"github.com/portico-gw/portico/catalog"
	"google.golang.org/grpc/metadata"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/reflect/protodesc"
	"google.golang.org/protobuf/reflect/protoreflect"
	"google.golang.org/protobuf/reflect/protoregistry"
	"google.golang.org/protobuf/types/descriptorpb"
)

// routeInfo is a REST call to a plain HTTP route: every request under
// the route's prefix is the same route, with no method.
func routeInfo(method, target string, headers map[string]string) *call.Info {
	r := httptest.NewRequest(method, target, nil)
	for k, v := range headers {
		r.Header.Set(k, v)
	}
	return &call.Info{Door: call.REST, HTTP: r, HTTPMethod: method, Path: r.URL.Path, Authority: r.Host,
		PlainRoute: &catalog.PlainRoute{Where: "routes[0]", Prefix: "/legacy/"}}
}

// svcMethod is a method of a service pkg.Svc made from a descriptor of
// its own (Read, Delete: empty request and response).
func svcMethod(t *testing.T, name string) *catalog.Method {
	t.Helper()
	fdp := &descriptorpb.FileDescriptorProto{
		Name: proto.String("pkg/svc.proto"), Package: proto.String("pkg"), Syntax: proto.String("proto3"),
		Dependency: []string{"google/protobuf/empty.proto"},
		Service: []*descriptorpb.ServiceDescriptorProto{{Name: proto.String("Svc"), Method: []*descriptorpb.MethodDescriptorProto{
			{Name: proto.String("Read"), InputType: proto.String(".google.protobuf.Empty"), OutputType: proto.String(".google.protobuf.Empty")},
			{Name: proto.String("Delete"), InputType: proto.String(".google.protobuf.Empty"), OutputType: proto.String(".google.protobuf.Empty")},
		}}},
	}
	fd, err := protodesc.NewFile(fdp, protoregistry.GlobalFiles)
	if err != nil {
		t.Fatal(err)
	}
	m, err := catalog.NewMethod(fd.Services().Get(0).Methods().ByName(protoreflect.Name(name)), nil)
	if err != nil {
		t.Fatal(err)
	}
	return m
}

// TestRegressDecisionReusedAcrossRequests (issue 14, point 2): the default
// cache key was the identity headers, the principal and the gRPC method,
// so one allowed GET /legacy/orders/1 was replayed for DELETE
// /legacy/billing/export (one route is one method), and a decision on
// one path of a proto method for every other path. The default key now
// holds the HTTP method, the path and query and the host as well; a
// configured key that leaves the request out is refused unless the
// operator allows reuse across requests.
func TestRegressDecisionReusedAcrossRequests(t *testing.T) {
	az := authtest.NewAuthorizer(t)
	az.SetDecide(func(r *authv3.CheckRequest) *authv3.CheckResponse {
		if h := r.GetAttributes().GetRequest().GetHttp(); h.GetMethod() == "GET" && h.GetPath() == "/legacy/orders/1" {
			return authtest.Allow(nil)
		}
		return authtest.Deny(403, nil)
	})
	c, err := extauthz.New(extauthz.Config{Target: az.Addr, CacheTTL: time.Minute})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	alice := map[string]string{"Authorization": "Bearer alice"}
	for i, s := range []struct {
		info    *call.Info
		allowed bool
	}{
		{routeInfo("GET", "/legacy/orders/1", alice), true},
		{routeInfo("DELETE", "/legacy/billing/export", alice), false},
		{routeInfo("DELETE", "/legacy/orders/1", alice), false},
		{routeInfo("GET", "/legacy/orders/2", alice), false},
		{routeInfo("GET", "/legacy/orders/1?all=true", alice), false},
		{routeInfo("GET", "/legacy/orders/1", alice), true},
	} {
		if d, _ := c.Check(context.Background(), s.info, ""); d.Allowed != s.allowed {
			t.Errorf("call %d (%s %s): got allowed=%v, want %v", i, s.info.HTTPMethod, s.info.HTTP.URL.RequestURI(), d.Allowed, s.allowed)
		}
	}
	if n := az.Calls(); n != 5 {
		t.Errorf("authorizer asked %d times, want 5 (only the repeated request is answered from the cache)", n)
	}
	// On the gRPC door the method is the path.
	grpcCall := func(method string) *call.Info {
		name := method[strings.LastIndexByte(method, '/')+1:]
		return &call.Info{Door: call.GRPC, HTTPMethod: "POST", Path: method, MD: metadata.Pairs("authorization", "Bearer alice"),
			Method: svcMethod(t, name)}
	}
	az.SetDecide(func(r *authv3.CheckRequest) *authv3.CheckResponse {
		if r.GetAttributes().GetRequest().GetHttp().GetPath() == "/pkg.Svc/Read" {
			return authtest.Allow(nil)
		}
		return authtest.Deny(403, nil)
	})
	if d, _ := c.Check(context.Background(), grpcCall("/pkg.Svc/Read"), ""); !d.Allowed {
		t.Error("gRPC Read: denied, want allowed")
	}
	if d, _ := c.Check(context.Background(), grpcCall("/pkg.Svc/Delete"), ""); d.Allowed {
		t.Error("gRPC Delete after an allowed Read: allowed, want denied")
	}

	for _, key := range [][]string{
		{"authorization", "principal"},
		{"authorization", "method"},
		{"authorization", "method", "http_method"},
		{"method", "http_method", "path", "host"}, // no caller
	} {
		if _, err := extauthz.New(extauthz.Config{Target: az.Addr, CacheTTL: time.Minute, CacheKey: key}); err == nil || !strings.Contains(err.Error(), "cache_key_allows_reuse_across_requests") {
			t.Errorf("cache_key %q: got %v, want an error naming the opt-out", key, err)
		}
		c, err := extauthz.New(extauthz.Config{Target: az.Addr, CacheTTL: time.Minute, CacheKey: key, ReuseAcrossRequests: true})
		if err != nil {
			t.Errorf("cache_key %q with reuse allowed: %v", key, err)
			continue
		}
		c.Close()
	}
	if _, err := extauthz.New(extauthz.Config{Target: az.Addr, CacheTTL: time.Minute, CacheKey: []string{"Authorization", "Method", "HTTP_Method", "Path"}}); err != nil {
		t.Errorf("a complete key in another case: %v", err)
	}
}
