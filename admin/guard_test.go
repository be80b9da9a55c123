package admin_test

import (
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/portico-gw/portico/admin"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
)

func TestGuardHosts(t *testing.T) {
	for _, tc := range []struct {
		listen   string
		token    string
		accepted []string
		refused  []string
	}{
		{"127.0.0.1:9901", "", []string{"127.0.0.1:9901", "localhost:9901", "LOCALHOST:9901", "localhost.:9901", "[::1]:9901", ""},
			[]string{"evil.example:9901", "127.0.0.1:9902", "localhost", "10.0.0.1:9901", "127.0.0.2:9901", "0.0.0.0:9901", "127.0.0.1.nip.io:9901"}},
		{"127.0.0.1:9901", "t", []string{"localhost:9901"}, []string{"evil.example:9901"}}, // a token does not lift the check on loopback
		{"[::1]:9901", "", []string{"[::1]:9901", "localhost:9901", "127.0.0.1:9901"}, []string{"evil.example:9901", "::1:9901"}},
		{"127.0.0.1:80", "", []string{"localhost", "localhost:80", "127.0.0.1", "[::1]"}, []string{"evil.example", "evil.example:80"}},
		{"0.0.0.0:9901", "t", []string{"evil.example:9901", "admin.internal:9901", "10.0.0.1:9901"}, nil},
		{"10.0.0.5:9901", "t", []string{"admin.internal:9901"}, nil},
	} {
		g, err := admin.NewGuard(tc.listen, admin.NewToken(tc.token))
		if err != nil {
			t.Fatalf("%s: %v", tc.listen, err)
		}
		for _, h := range tc.accepted {
			r := httptest.NewRequest("GET", "/v1/routes", nil)
			r.Host = h
			if err := g.Check(r); err != nil {
				t.Errorf("listen %s, Host %q: got %v, want accepted", tc.listen, h, err)
			}
		}
		for _, h := range tc.refused {
			r := httptest.NewRequest("GET", "/v1/routes", nil)
			r.Host = h
			if err := g.Check(r); status.Code(err) != codes.PermissionDenied {
				t.Errorf("listen %s, Host %q: got %v, want PERMISSION_DENIED", tc.listen, h, err)
			}
		}
	}
	if _, err := admin.NewGuard("localhost:9901", admin.Token{}); err == nil {
		t.Error("a listen address that is not an IP address: got no error")
	}
}

func TestGuardRequests(t *testing.T) {
	g, err := admin.NewGuard("127.0.0.1:9901", admin.Token{})
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		method string
		kv     []string
		want   codes.Code
	}{
		{"GET", nil, codes.OK},
		{"GET", []string{"Sec-Fetch-Site", "none"}, codes.OK},
		{"GET", []string{"Origin", "http://127.0.0.1:9901", "Sec-Fetch-Site", "same-origin"}, codes.OK},
		{"GET", []string{"Sec-Fetch-Site", "cross-site"}, codes.PermissionDenied},
		{"GET", []string{"Sec-Fetch-Site", "same-site", "Origin", "http://localhost:3000"}, codes.PermissionDenied},
		{"GET", []string{"Origin", "null"}, codes.PermissionDenied},
		{"POST", []string{"Content-Type", "application/json"}, codes.OK},
		{"POST", []string{"Content-Type", "Application/JSON; charset=utf-8"}, codes.OK},
		{"POST", []string{"Content-Type", "application/grpc"}, codes.OK},
		{"POST", []string{"Content-Type", "application/grpc+proto"}, codes.OK},
		{"POST", nil, codes.InvalidArgument},
		{"POST", []string{"Content-Type", "text/plain"}, codes.InvalidArgument},
		{"POST", []string{"Content-Type", "application/jsonx"}, codes.InvalidArgument},
		{"DELETE", nil, codes.InvalidArgument},
		{"POST", []string{"Content-Type", "application/json", "Origin", "https://evil.example"}, codes.PermissionDenied},
	} {
		r := httptest.NewRequest(tc.method, "http://127.0.0.1:9901/v1/drain", strings.NewReader("{}"))
		for i := 0; i < len(tc.kv); i += 2 {
			r.Header.Set(tc.kv[i], tc.kv[i+1])
		}
		err := g.Check(r)
		if status.Code(err) != tc.want {
			t.Errorf("%s %v: got %v, want %v", tc.method, tc.kv, err, tc.want)
		}
	}
	// The refusal names what to send.
	r := httptest.NewRequest("POST", "http://127.0.0.1:9901/v1/drain", nil)
	if err := g.Check(r); err == nil || !strings.Contains(err.Error(), "application/json") {
		t.Errorf("POST without Content-Type: got %v, want it to name application/json", err)
	}
}
