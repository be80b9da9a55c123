package explorer_test

import (
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/portico-gw/portico/explorer"
)

func serve(t *testing.T, h http.Handler, path string, header http.Header) (*http.Response, string) {
	t.Helper()
	req := httptest.NewRequest(http.MethodGet, path, nil)
	for k, vs := range header {
		req.Header[k] = vs
	}
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	resp := rec.Result()
	b, _ := io.ReadAll(resp.Body)
	return resp, string(b)
}

func TestPage(t *testing.T) {
	p, err := explorer.New(explorer.Options{Path: "/api/docs", OpenAPI: "/api/openapi.json", Title: `A <b> title`})
	if err != nil {
		t.Fatal(err)
	}
	resp, body := serve(t, p, "/api/docs", nil)
	if resp.StatusCode != 200 || !strings.HasPrefix(resp.Header.Get("Content-Type"), "text/html") {
		t.Fatalf("page: got %d %s", resp.StatusCode, resp.Header.Get("Content-Type"))
	}
	if csp := resp.Header.Get("Content-Security-Policy"); !strings.Contains(csp, "default-src 'none'") || !strings.Contains(csp, "script-src 'self'") {
		t.Errorf("page CSP: got %q, want nothing from elsewhere", csp)
	}
	for _, want := range []string{`src="/api/docs/explorer.js"`, `href="/api/docs/explorer.css"`, `data-openapi="/api/openapi.json"`, "A &lt;b&gt; title"} {
		if !strings.Contains(body, want) {
			t.Errorf("page: no %s in\n%s", want, body)
		}
	}
	if strings.Contains(body, "http://") || strings.Contains(body, "https://") {
		t.Errorf("the page refers to another origin:\n%s", body)
	}
	for path, ct := range map[string]string{"/api/docs/explorer.js": "text/javascript", "/api/docs/explorer.css": "text/css"} {
		resp, body := serve(t, p, path, nil)
		if resp.StatusCode != 200 || !strings.HasPrefix(resp.Header.Get("Content-Type"), ct) || len(body) == 0 {
			t.Errorf("%s: got %d %s (%d bytes), want 200 %s", path, resp.StatusCode, resp.Header.Get("Content-Type"), len(body), ct)
		}
		etag := resp.Header.Get("ETag")
		if again, _ := serve(t, p, path, http.Header{"If-None-Match": {etag}}); etag == "" || again.StatusCode != http.StatusNotModified {
			t.Errorf("%s If-None-Match %q: got %d, want 304", path, etag, again.StatusCode)
		}
	}
	if p.Route("/api/docs/other.js") != "" || p.Route("/api/docs/explorer.js") != "/api/docs/explorer.js" {
		t.Errorf("Route: want only the page and its assets")
	}
	if resp, _ := serve(t, p, "/api/docs/other.js", nil); resp.StatusCode != 404 {
		t.Errorf("unknown asset: got %d, want 404", resp.StatusCode)
	}
}

func TestNewChecksPaths(t *testing.T) {
	for _, o := range []explorer.Options{
		{Path: "docs", OpenAPI: "/openapi.json"},
		{Path: "/docs/", OpenAPI: "/openapi.json"},
		{Path: "/docs", OpenAPI: "openapi.json"},
	} {
		if _, err := explorer.New(o); err == nil {
			t.Errorf("%+v: got no error", o)
		}
	}
}
