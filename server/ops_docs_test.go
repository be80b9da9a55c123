package server_test

import (
	"bytes"
	"context"
	"io"
	"net/http"
	"strings"
	"testing"

	"github.com/getkin/kin-openapi/openapi3"
	"github.com/getkin/kin-openapi/openapi3filter"
	"github.com/getkin/kin-openapi/routers/gorillamux"
	"github.com/portico-gw/portico/config"
	configv1 "github.com/portico-gw/portico/gen/portico/config/v1"
	"github.com/portico-gw/portico/server/servertest"
	"github.com/portico-gw/portico/snapshot"
)

func withDocs(c *configv1.Config) {
	c.Docs = &configv1.Docs{OpenapiPath: "/openapi.json", ExplorerPath: "/docs"}
}

// liveDoc fetches the gateway's document and loads it with kin-openapi,
// which validates it.
func liveDoc(t *testing.T, url string) *openapi3.T {
	t.Helper()
	resp, err := servertest.Client().Get(url + "/openapi.json")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != http.StatusOK || resp.Header.Get("Content-Type") != "application/json" {
		t.Fatalf("GET /openapi.json: got %d %s, want 200 application/json", resp.StatusCode, resp.Header.Get("Content-Type"))
	}
	loader := openapi3.NewLoader()
	doc, err := loader.LoadFromData(body)
	if err != nil {
		t.Fatal(err)
	}
	if err := doc.Validate(loader.Context); err != nil {
		t.Fatalf("the live document is not valid OpenAPI: %v", err)
	}
	return doc
}

func TestDocsServedFromTheLiveCatalog(t *testing.T) {
	env := servertest.Start(t, servertest.Options{Config: withDocs})
	doc := liveDoc(t, env.URL)
	var ops int
	for _, item := range doc.Paths.Map() {
		ops += len(item.Operations())
	}
	var bindings int
	for _, m := range env.Server.Snapshot().Catalog().MethodList() {
		bindings += len(m.Bindings())
	}
	if ops != bindings {
		t.Errorf("operations: got %d, want one per route: %d", ops, bindings)
	}
	// Conditional requests: the document is served with an ETag.
	resp, err := servertest.Client().Get(env.URL + "/openapi.json")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	etag := resp.Header.Get("ETag")
	req, _ := http.NewRequest(http.MethodGet, env.URL+"/openapi.json", nil)
	req.Header.Set("If-None-Match", etag)
	resp, err = servertest.Client().Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if etag == "" || resp.StatusCode != http.StatusNotModified {
		t.Errorf("If-None-Match %q: got %d, want 304", etag, resp.StatusCode)
	}
	// Other methods are refused like the door refuses them.
	resp, err = servertest.Client().Post(env.URL+"/openapi.json", "application/json", strings.NewReader("{}"))
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusMethodNotAllowed || resp.Header.Get("Allow") != "GET, HEAD" || !strings.Contains(string(body), `"code"`) {
		t.Errorf("POST /openapi.json: got %d Allow %q %s, want 405, GET, HEAD and a JSON error", resp.StatusCode, resp.Header.Get("Allow"), body)
	}
}

// TestDocsDescribeWhatTheDoorDoes sends real requests and checks each one,
// and its answer, against the live document with kin-openapi's validator:
// the document says what the gateway accepts and answers, errors included.
func TestDocsDescribeWhatTheDoorDoes(t *testing.T) {
	env := servertest.Start(t, servertest.Options{Config: withDocs})
	doc := liveDoc(t, env.URL)
	doc.Servers = openapi3.Servers{{URL: env.URL}}
	router, err := gorillamux.NewRouter(doc)
	if err != nil {
		t.Fatal(err)
	}
	// A control: an answer the document does not allow is caught.
	req, _ := http.NewRequest(http.MethodGet, env.URL+"/v1/shelves/1", nil)
	route, params, err := router.FindRoute(req)
	if err != nil {
		t.Fatal(err)
	}
	bad := &openapi3filter.ResponseValidationInput{
		RequestValidationInput: &openapi3filter.RequestValidationInput{Request: req, PathParams: params, Route: route},
		Status:                 200, Header: http.Header{"Content-Type": {"application/json"}},
	}
	bad.SetBodyBytes([]byte(`{"id":1.5,"theme":7}`))
	if err := openapi3filter.ValidateResponse(context.Background(), bad); err == nil {
		t.Fatalf("a Shelf with a fractional id and a numeric theme passed the document's schema")
	}
	for _, tc := range []struct {
		method, path, body string
		status             int
		requestValid       bool
	}{
		{"GET", "/v1/shelves", "", 200, true},
		{"GET", "/v1/shelves/1", "", 200, true},
		{"GET", "/v1/shelves/1/books?pageSize=5&genre=GENRE_FICTION", "", 200, true},
		{"GET", "/v1/shelves/1/books:titles", "", 200, true},
		{"GET", "/v1/shelves/1/books/1", "", 200, true},
		{"GET", "/v1/shelves/1/books/1/cover", "", 200, true},
		{"POST", "/v1/shelves", `{"theme":"Poetry"}`, 200, true},
		{"POST", "/v1/shelves/1/books", `{"title":"Neuromancer","author":"William Gibson","genre":"GENRE_SCIENCE"}`, 200, true},
		{"PATCH", "/v1/shelves/1/books/2", `{"title":"Dune Messiah"}`, 200, true},
		{"GET", "/v1/shelves/99", "", 404, true},
		// Both the door and the document refuse these.
		{"POST", "/v1/shelves", `{"theme":""}`, 400, false},
		{"GET", "/v1/shelves/1/books?pageSize=5000", "", 400, false},
	} {
		t.Run(tc.method+" "+tc.path, func(t *testing.T) {
			var body io.Reader
			if tc.body != "" {
				body = strings.NewReader(tc.body)
			}
			req, err := http.NewRequest(tc.method, env.URL+tc.path, body)
			if err != nil {
				t.Fatal(err)
			}
			if tc.body != "" {
				req.Header.Set("Content-Type", "application/json")
			}
			route, params, err := router.FindRoute(req)
			if err != nil {
				t.Fatalf("the document has no operation for %s %s: %v", tc.method, tc.path, err)
			}
			in := &openapi3filter.RequestValidationInput{Request: req, PathParams: params, Route: route}
			err = openapi3filter.ValidateRequest(context.Background(), in)
			if (err == nil) != tc.requestValid {
				t.Errorf("the document says the request is valid: %v (error %v), want %v", err == nil, err, tc.requestValid)
			}
			// ValidateRequest read the body: send a fresh one.
			if tc.body != "" {
				req.Body = io.NopCloser(strings.NewReader(tc.body))
			}
			resp, err := servertest.Client().Do(req)
			if err != nil {
				t.Fatal(err)
			}
			got, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			if resp.StatusCode != tc.status {
				t.Fatalf("got %d %s, want %d", resp.StatusCode, got, tc.status)
			}
			out := &openapi3filter.ResponseValidationInput{RequestValidationInput: in, Status: resp.StatusCode, Header: resp.Header}
			out.SetBodyBytes(got)
			if err := openapi3filter.ValidateResponse(context.Background(), out); err != nil {
				t.Errorf("the answer %s does not match the document: %v", bytes.TrimSpace(got), err)
			}
		})
	}
}

// TestDocsFollowReload: the document is rebuilt with each snapshot.
func TestDocsFollowReload(t *testing.T) {
	env := servertest.Start(t, servertest.Options{Config: withDocs})
	reindex := "/example.bookstore.v1.BookstoreService/Reindex"
	if doc := liveDoc(t, env.URL); doc.Paths.Value(reindex) != nil {
		t.Fatalf("%s is documented before default bindings are on", reindex)
	}
	env.Server.SetRebuild(func(context.Context, *snapshot.Snapshot) (*snapshot.Snapshot, error) {
		cfg := servertest.BookstoreConfig(env.BackendAddr)
		withDocs(cfg)
		cfg.Apis[0].DefaultBindings = true
		return snapshot.Build(&config.File{Config: cfg, Dir: "."}, snapshot.Options{})
	})
	if err := env.Server.Reload(context.Background()); err != nil {
		t.Fatal(err)
	}
	if doc := liveDoc(t, env.URL); doc.Paths.Value(reindex) == nil {
		t.Errorf("after the reload, %s is not documented", reindex)
	}
}

func TestDocsConfigErrors(t *testing.T) {
	for _, tc := range []struct {
		docs *configv1.Docs
		want string
	}{
		{&configv1.Docs{ExplorerPath: "/docs"}, "docs.explorer_path"},
		{&configv1.Docs{OpenapiPath: "/docs", ExplorerPath: "/docs"}, "collides"},
		{&configv1.Docs{OpenapiPath: "/docs/openapi.json", ExplorerPath: "/docs"}, "collides"},
		{&configv1.Docs{OpenapiPath: "/openapi.json", ExplorerPath: "/docs/"}, "docs.explorer_path"},
	} {
		cfg := servertest.BookstoreConfig("127.0.0.1:1")
		cfg.Docs = tc.docs
		_, err := snapshot.Build(&config.File{Config: cfg, Dir: "."}, snapshot.Options{})
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("docs %v: got error %v, want one about %s", tc.docs, err, tc.want)
		}
	}
}
