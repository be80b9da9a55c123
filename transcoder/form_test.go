package transcoder_test

import (
	"context"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	portcall "github.com/portico-gw/portico/call"
	"github.com/portico-gw/portico/catalog"
	bookstorev1 "github.com/portico-gw/portico/gen/example/bookstore/v1"
	configv1 "github.com/portico-gw/portico/gen/portico/config/v1"
	"github.com/portico-gw/portico/pipeline"
	"github.com/portico-gw/portico/server/servertest"
	"github.com/portico-gw/portico/transcoder"
	"google.golang.org/genproto/googleapis/api/annotations"
	"google.golang.org/protobuf/proto"
)

// TestFormsDifferential sends form bodies (application/x-www-form-urlencoded),
// alone and with URL query values, with and without X-HTTP-Method-Override,
// to Portico and to grpc-gateway's generated handler with its default
// ServeMux, and requires the same answers (form.go has the rule).
func TestFormsDifferential(t *testing.T) {
	portico := servertest.Start(t, servertest.Options{Config: forwardTestHeaders})
	ref := startReference(t)
	form := map[string]string{"Content-Type": "application/x-www-form-urlencoded"}
	with := func(h map[string]string, kv ...string) map[string]string {
		out := map[string]string{}
		for k, v := range h {
			out[k] = v
		}
		for i := 0; i < len(kv); i += 2 {
			out[kv[i]] = kv[i+1]
		}
		return out
	}
	calls := []call{
		// Path-length fallback: a form POST on a path with only a GET route.
		{method: "POST", path: "/v1/shelves/1/books:titles", body: "page_size=1", header: form},
		{method: "POST", path: "/v1/shelves/1/books:titles?genre=GENRE_FICTION", body: "tags=classic&tags=sf", header: form},
		{method: "POST", path: "/v1/shelves/1", body: "unknown=1", header: form},
		{method: "POST", path: "/v1/shelves/1", body: "", header: form},
		{method: "POST", path: "/v1/shelves/1/books:titles", body: "page_size=1", header: with(form, "Content-Type", "application/x-www-form-urlencoded; charset=utf-8")},
		// A form on a route that takes a body is that body: not JSON.
		{method: "POST", path: "/v1/shelves/1/books", body: "page_size=1", header: form, ownMessage: true},
		{method: "POST", path: "/v1/shelves/1/books/1:move", body: "other_shelf=shelves/2", header: form, ownMessage: true},
		// X-HTTP-Method-Override on a form POST.
		{method: "POST", path: "/v1/shelves/1/books", body: "page_size=1&tags=classic", header: with(form, "X-HTTP-Method-Override", "GET")},
		{method: "POST", path: "/v1/shelves/1/books?tags=sf", body: "tags=classic&genre=1", header: with(form, "X-HTTP-Method-Override", "get")},
		{method: "POST", path: "/v1/shelves/1/books/1", body: "", header: with(form, "X-HTTP-Method-Override", "DELETE")},
		{method: "GET", path: "/v1/shelves/1/books"},
		// The override is honoured on form POSTs only.
		{method: "POST", path: "/v1/shelves", body: `{"theme":"Maps"}`, header: map[string]string{"X-HTTP-Method-Override": "GET"}},
		// Form errors.
		{method: "POST", path: "/v1/shelves/1/books:titles", body: "page_size=x", header: form, ownMessage: true},
		{method: "POST", path: "/v1/shelves/1/books:titles?page_size=2", body: "page_size=1", header: form, ownMessage: true},
		{method: "POST", path: "/v1/shelves/1/books:titles", body: "page_size=1;tags=a", header: form, ownMessage: true},
		{method: "POST", path: "/v1/shelves/1/books:titles", body: "tags=%zz", header: form, ownMessage: true},
		{method: "POST", path: "/v1/no/such/path", body: "a=1", header: form},
	}
	for _, c := range calls {
		t.Run(c.method+" "+c.path+" "+c.body+" "+c.header["X-HTTP-Method-Override"], func(t *testing.T) {
			pr, pb := c.do(t, portico.URL)
			rr, rb := c.do(t, ref)
			if pr.StatusCode != rr.StatusCode {
				t.Errorf("status: portico %d, grpc-gateway %d\nportico: %s\ngrpc-gateway: %s", pr.StatusCode, rr.StatusCode, pb, rb)
			}
			pcmp, rcmp := compactJSON(pb), compactJSON(rb)
			if c.ownMessage {
				pcmp, rcmp = withoutMessage(t, pb), withoutMessage(t, rb)
			}
			if pcmp != rcmp {
				t.Errorf("body:\nportico:      %s\ngrpc-gateway: %s", pb, rb)
			}
		})
	}
}

// TestFormsBounded checks that a form body is read like any body and
// bound like a query: max_body_bytes (413), the parameter bounds (400),
// the door's budget, validation; and that the call's HTTP method, which
// policies see, is the one the request was routed by.
func TestFormsBounded(t *testing.T) {
	env := servertest.Start(t, servertest.Options{Config: func(c *configv1.Config) {
		c.Limits = &configv1.Limits{MaxBodyBytes: proto.Uint32(2048), MaxQueryParams: proto.Uint32(300)}
	}})
	form := map[string]string{"Content-Type": "application/x-www-form-urlencoded"}
	override := map[string]string{"Content-Type": "application/x-www-form-urlencoded", "X-HTTP-Method-Override": "PATCH"}
	for _, tc := range []struct {
		call
		status int
		want   string
	}{
		{call{method: "POST", path: "/v1/shelves/1/books:titles", body: "author=" + strings.Repeat("a", 2048), header: form}, 413, `"code":8`},
		{call{method: "POST", path: "/v1/shelves/1/books:titles?tags=a", body: "t=a" + strings.Repeat("&t=a", 299), header: form}, 400, "form and query string with more than 300 parameters"},
		{call{method: "POST", path: "/v1/shelves/1/books:titles", body: strings.Repeat("min_review.", 150) + "stars=1", header: form}, 400, "deeper than"},
		// Overridden to UpdateBook: the form is not the body (book stays
		// empty), and the message is validated.
		{call{method: "POST", path: "/v1/shelves/1/books/2", body: "update_mask=title", header: override}, 400, "book.title"},
	} {
		t.Run(tc.body[:min(len(tc.body), 40)], func(t *testing.T) {
			resp, body := tc.do(t, env.URL)
			if resp.StatusCode != tc.status || !strings.Contains(string(body), tc.want) {
				t.Errorf("got %d %.300s, want %d with %q", resp.StatusCode, body, tc.status, tc.want)
			}
		})
	}

	// The budget, and the method policies see.
	body := "tags=a" + strings.Repeat("&tags=a", 199)
	req := httptest.NewRequest("POST", "/v1/shelves/1/books", strings.NewReader(body))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("X-HTTP-Method-Override", "GET")
	info := portcall.NewHTTP(req)
	var charged int64
	info.SetAdmission(func(_ context.Context, n int64) (func(), error) {
		charged += n
		return func() {}, nil
	})
	req = req.WithContext(portcall.NewHTTPContext(req.Context(), info))
	rec := httptest.NewRecorder()
	env.Server.Snapshot().REST().ServeHTTP(rec, req)
	if rec.Code != http.StatusOK {
		t.Fatalf("got %d %s, want 200", rec.Code, rec.Body.Bytes())
	}
	if want := int64(len(body) + 200*512); charged < want {
		t.Errorf("charged %d bytes to the budget, want at least %d", charged, want)
	}
	if info.HTTPMethod != "GET" || info.Method.FullMethod() != "/example.bookstore.v1.BookstoreService/ListBooks" {
		t.Errorf("call: got %s %s, want GET ListBooks", info.HTTPMethod, info.Method.FullMethod())
	}
}

// echoBackend answers ListBooks with the request it got.
type echoBackend struct{ nopBackend }

func (echoBackend) Unary(_ context.Context, _ *catalog.Method, req proto.Message) (proto.Message, error) {
	return &bookstorev1.ListBooksResponse{Request: req.(*bookstorev1.ListBooksRequest)}, nil
}

// TestFormsRouteWithoutBody: a form POST, PUT or PATCH on a route that
// takes no body binds the form's values before the URL query's, as
// grpc-gateway's generated handlers bind Request.Form (its integration
// test TestRequestParseForm); a DELETE's form is not read as one.
func TestFormsRouteWithoutBody(t *testing.T) {
	rules := catalog.Rules{"example.bookstore.v1.BookstoreService.ListBooks": {HTTP: &annotations.HttpRule{
		Pattern: &annotations.HttpRule_Post{Post: "/v1/{parent=shelves/*}/books:search"},
		AdditionalBindings: []*annotations.HttpRule{
			{Pattern: &annotations.HttpRule_Put{Put: "/v1/{parent=shelves/*}/books:search"}},
			{Pattern: &annotations.HttpRule_Delete{Delete: "/v1/{parent=shelves/*}/books:search"}},
		},
	}}}
	cat, err := catalog.New(catalog.Options{Rules: rules, APIs: []catalog.API{{
		Where: "apis[0]", Services: []string{"example.bookstore.v1.BookstoreService"}, Backend: echoBackend{},
	}}})
	if err != nil {
		t.Fatal(err)
	}
	p, err := pipeline.New(cat.MethodList(), pipeline.Options{})
	if err != nil {
		t.Fatal(err)
	}
	door, err := transcoder.New(cat, p, transcoder.Options{})
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		method, ct, want string
	}{
		{"POST", "application/x-www-form-urlencoded", `{"request":{"parent":"shelves/1","pageSize":3,"tags":["a","b"]}}`},
		{"PUT", "application/x-www-form-urlencoded; charset=utf-8", `{"request":{"pageSize":3,"tags":["a","b"]}}`},
		{"POST", "application/json", `{"request":{"pageSize":0,"tags":["b"]}}`},
		{"DELETE", "application/x-www-form-urlencoded", `{"request":{"pageSize":0,"tags":["b"]}}`},
	} {
		req := httptest.NewRequest(tc.method, "/v1/shelves/1/books:search?tags=b", strings.NewReader("page_size=3&tags=a"))
		req.Header.Set("Content-Type", tc.ct)
		rec := httptest.NewRecorder()
		door.ServeHTTP(rec, req)
		if rec.Code != http.StatusOK {
			t.Errorf("%s %s: got %d %s, want 200", tc.method, tc.ct, rec.Code, rec.Body.Bytes())
			continue
		}
		checkSubset(t, rec.Body.Bytes(), tc.want)
	}
}
