package server_test

// The findings about how a request's path and method choose what runs
// (one test per finding, named for it).

import (
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"

	configv1 "github.com/portico-gw/portico/gen/portico/config/v1"
	"github.com/portico-gw/portico/server/servertest"
)

// TestRegressWildcardRuleKind: an HTTP rule with custom kind "*" (http.proto:
// the method left unspecified) was filed under a method named "*" and no
// request ever matched it. It now takes every method.
func TestRegressWildcardRuleKind(t *testing.T) {
	rules := filepath.Join(t.TempDir(), "rules.yaml")
	if err := os.WriteFile(rules, []byte("type: google.api.Service\nhttp:\n  rules:\n"+
		"  - selector: example.bookstore.v1.BookstoreService.GetShelfStats\n"+
		"    custom: {kind: \"*\", path: \"/v1/any/{shelf}/stats\"}\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	env := servertest.Start(t, servertest.Options{Config: func(c *configv1.Config) { c.HttpRules = []string{rules} }})
	for _, method := range []string{http.MethodGet, http.MethodDelete, http.MethodOptions, "PURGE"} {
		req, _ := http.NewRequest(method, env.URL+"/v1/any/1/stats", nil)
		resp, body := do(t, req)
		if resp.StatusCode != http.StatusOK || !strings.Contains(string(body), `"bookCount"`) {
			t.Errorf("%s /v1/any/1/stats: got %d %s, want 200 with the shelf's stats", method, resp.StatusCode, body)
		}
	}
}

// TestRegressRouteDotSegments (issue 14, point 1): a plain route was
// chosen on the path as sent and the path forwarded with its dot segments:
// GET /legacy/public/../admin/secret was admitted by the public route's
// policy and reached the protected route's backend (/priv/admin/secret),
// the `..` escaping the public integration's base path. Every path a
// backend could resolve differently from the gateway (dot segments in any
// encoding, encoded slashes and backslashes, empty segments, path
// parameters, control characters, invalid or overlong UTF-8, an encoded
// "?" or "#", a double encoding, a trailing dot, a prefix in another
// letter case) is refused with 400 before a route is chosen, and nothing
// reaches a backend; a canonical path is served by its route, forwarded
// exactly as it was matched.
func TestRegressRouteDotSegments(t *testing.T) {
	env, b := startPathsGateway(t)
	for _, target := range []string{
		"/legacy/public/../admin/secret",
		"/legacy/public/%2e%2e/admin/secret",
		"/legacy/public/%2E%2E/admin/secret",
		"/legacy/public/.%2e/admin/secret",
		"/legacy/public/%2e./admin/secret",
		"/legacy/public/./admin",
		"/legacy/public/%2e/admin",
		"/legacy/public/..",
		"/legacy/public/../../../etc/passwd",
		"/legacy/public/x/..%2f..%2f..%2fpriv/admin",
		"/legacy/public/..%2Fadmin/secret",
		"/legacy/public/..%5cadmin/secret",
		`/legacy/public/..\admin/secret`,
		"/legacy/public//admin",
		"/legacy/public/..;/admin/secret",
		"/legacy/public/x;jsessionid=1",
		"/legacy/public/x%3badmin",
		"/legacy/public/x%00.html",
		"/legacy/public/%0d%0aX-Injected:%201",
		"/legacy/public/%c0%ae%c0%ae/admin",
		"/legacy/public/%ef%bc%8e%ef%bc%8e/admin",
		"/legacy/public/x%3F/admin",
		"/legacy/public/x%23/admin",
		"/legacy/public/%252e%252e/admin",
		"/legacy/public/admin./secret",
		"/legacy/public/admin%20/secret",
		"/legacy/PUBLIC/admin",
		"/LEGACY/public/admin",
		"/Legacy/admin/secret",
		"*",
	} {
		resp, body := rawRequest(t, env.URL, "GET", target)
		if resp.StatusCode != http.StatusBadRequest || !strings.Contains(string(body), `"code":3`) {
			t.Errorf("GET %s: got %d %s, want 400 with INVALID_ARGUMENT", target, resp.StatusCode, truncate(body))
		}
		if got := b.got(); len(got) > 0 {
			t.Errorf("GET %s: the backend got %q, want nothing", target, got)
		}
	}
	// Canonical paths are served by the route their prefix names, at the
	// path that was matched (percent-encodings of unreserved characters and
	// sub-delimiters decoded, the rest upper-case).
	for target, want := range map[string]string{
		"/legacy/public/admin":      "/pub/admin",
		"/legacy/public/":           "/pub/",
		"/legacy/%70ublic/a%2Cb":    "/pub/a,b",
		"/legacy/public/a+b!~":      "/pub/a+b!~",
		"/legacy/public/caf%c3%a9":  "/pub/caf%C3%A9",
		"/legacy/public/a%20b?x=..": "/pub/a%20b?x=..",
	} {
		resp, body := rawRequest(t, env.URL, "GET", target)
		if resp.StatusCode != http.StatusOK || resp.Header.Get("X-Target") != want {
			t.Errorf("GET %s: got %d, backend target %q (%s), want 200 and %q", target, resp.StatusCode, resp.Header.Get("X-Target"), truncate(body), want)
		}
		b.got()
	}
	if resp, body := rawRequest(t, env.URL, "GET", "/legacy/admin/secret"); resp.StatusCode != http.StatusUnauthorized {
		t.Errorf("GET /legacy/admin/secret without a key: got %d %s, want 401", resp.StatusCode, truncate(body))
	}
	if resp, _ := rawRequest(t, env.URL, "GET", "/legacy/admin/secret", "X-Api-Key: "+pathsKey); resp.StatusCode != http.StatusOK || resp.Header.Get("X-Target") != "/priv/admin/secret" {
		t.Errorf("GET /legacy/admin/secret with the key: got %d at %q, want 200 at /priv/admin/secret", resp.StatusCode, resp.Header.Get("X-Target"))
	}
}

// TestRegressRoutePathOverride (issue 14, point 1, a sibling): a plain
// route passed a client's X-Original-URL and X-Rewrite-URL on, which IIS's
// URL Rewrite and the frameworks behind it (Symfony, Zend) serve instead
// of the request's path: a request the public route admitted named the
// protected page. They are not forwarded, in any spelling.
func TestRegressRoutePathOverride(t *testing.T) {
	env, b := startPathsGateway(t)
	resp, body := rawRequest(t, env.URL, "GET", "/legacy/public/x",
		"X-Original-URL: /legacy/admin/secret", "X-Rewrite-Url: /legacy/admin/secret", "X_Original_URL: /legacy/admin/secret")
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("got %d %s, want 200", resp.StatusCode, truncate(body))
	}
	for k, v := range b.lastRequest().Header {
		if n := foldName(k); n == "x-original-url" || n == "x-rewrite-url" {
			t.Errorf("the backend got %s: %q, want it dropped", k, v)
		}
	}
}

// TestRegressRouteMethodOverride (issue 14, point 1, a sibling): a plain
// route passed X-HTTP-Method-Override (and its kin, and a _method query
// parameter) to its backend, which many frameworks obey: the gateway's
// policies judged a POST (an authorizer allowing it) while the backend
// ran a DELETE. Such a request is refused before any decision; a request
// without one is served as before.
func TestRegressRouteMethodOverride(t *testing.T) {
	env, b := startPathsGateway(t)
	for _, tc := range []struct{ target, header string }{
		{"/legacy/public/x", "X-HTTP-Method-Override: DELETE"},
		{"/legacy/public/x", "X_HTTP_Method_Override: DELETE"},
		{"/legacy/public/x", "X-HTTP-Method: DELETE"},
		{"/legacy/public/x", "x-method-override: DELETE"},
		{"/legacy/public/x?_method=DELETE", ""},
		{"/legacy/public/x?a=1&_METHOD=delete", ""},
	} {
		b.got() // forget earlier requests
		var headers []string
		if tc.header != "" {
			headers = append(headers, tc.header)
		}
		resp, body := rawRequest(t, env.URL, "POST", tc.target, headers...)
		if resp.StatusCode != http.StatusBadRequest || !isJSONError(body) {
			t.Errorf("POST %s %q: got %d %s, want a JSON 400", tc.target, tc.header, resp.StatusCode, truncate(body))
		}
		if got := b.got(); len(got) > 0 {
			t.Errorf("POST %s %q: the backend got %q, want nothing forwarded", tc.target, tc.header, got)
		}
	}
	resp, body := rawRequest(t, env.URL, "POST", "/legacy/public/x?method=x")
	if resp.StatusCode != http.StatusOK {
		t.Errorf("POST without an override: got %d %s, want 200", resp.StatusCode, truncate(body))
	}
}
