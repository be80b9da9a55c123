package httpbackend

// The request sent to the backend: its body and its path.

import (
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/portico-gw/portico/catalog/httprule"
	bookstorev1 "github.com/portico-gw/portico/gen/example/bookstore/v1"
	"google.golang.org/genproto/googleapis/api/httpbody"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/proto"
)

// TestHTTPBody: an HttpBody request body is sent raw with its type (as
// the REST door takes one); an HttpBody response is the raw body and its
// type.
func TestHTTPBody(t *testing.T) {
	var gotType string
	var gotBody []byte
	raw := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		gotType = r.Header.Get("Content-Type")
		gotBody, _ = io.ReadAll(r.Body)
		io.WriteString(w, "{}")
	}))
	t.Cleanup(raw.Close)
	i, ms, _ := newIntegration(t, raw.URL, nil)
	cover := &httpbody.HttpBody{ContentType: "image/png", Data: []byte("\x89PNG...")}
	if _, err := i.Unary(testContext(t), method(t, ms, "UploadBookCover"), &bookstorev1.UploadBookCoverRequest{Name: "shelves/1/books/1", Cover: cover}); err != nil {
		t.Fatalf("UploadBookCover: %v", err)
	}
	if gotType != "image/png" || string(gotBody) != string(cover.Data) {
		t.Errorf("backend got %q %q, want image/png and the raw bytes", gotType, gotBody)
	}

	rest := startREST(t)
	if _, err := rest.store.UploadBookCover(context.Background(), &bookstorev1.UploadBookCoverRequest{Name: "shelves/1/books/1", Cover: cover}); err != nil {
		t.Fatal(err)
	}
	i, ms, _ = newIntegration(t, rest.URL, nil)
	got, err := i.Unary(testContext(t), method(t, ms, "GetBookCover"), &bookstorev1.GetBookCoverRequest{Name: "shelves/1/books/1"})
	if err != nil {
		t.Fatalf("GetBookCover: %v", err)
	}
	if !proto.Equal(got, cover) {
		t.Errorf("got %v, want %v", got, cover)
	}
}

// TestBadPathValue: a value that would leave the route's pattern (or an
// empty one) is refused before anything is sent.
func TestBadPathValue(t *testing.T) {
	rest := startREST(t)
	i, ms, _ := newIntegration(t, rest.URL, nil)
	for _, name := range []string{"shelves/1/books/1/../../../admin", "shelves/1", "", "shelves//books/1"} {
		_, err := i.Unary(testContext(t), method(t, ms, "GetBook"), &bookstorev1.GetBookRequest{Name: name})
		if status.Code(err) != codes.InvalidArgument {
			t.Errorf("name %q: got %v, want InvalidArgument", name, err)
		}
	}
	rest.mu.Lock()
	defer rest.mu.Unlock()
	if len(rest.reqs) != 0 {
		t.Errorf("got %d backend requests, want none", len(rest.reqs))
	}
	// A one-segment variable is escaped whole (a slash too), a
	// multi-segment one segment by segment.
	if got, err := expandPath(method(t, ms, "GetShelf").Bindings()[0].Template, (&bookstorev1.GetShelfRequest{Shelf: 7}).ProtoReflect()); err != nil || got != "/v1/shelves/7" {
		t.Errorf("got %q, %v", got, err)
	}
	tpl, err := httprule.Parse("/v1/{parent}/x/{name=shelves/*/books/**}:go")
	if err != nil {
		t.Fatal(err)
	}
	msg := &bookstorev1.CreateBookRequest{Parent: "a/b c", Book: &bookstorev1.Book{Name: "ignored"}}
	if got, err := expandPath(&httprule.Template{Raw: tpl.Raw, Segments: tpl.Segments, Verb: tpl.Verb, Vars: tpl.Vars[:1]}, msg.ProtoReflect()); err == nil {
		t.Errorf("a template with an unbound wildcard: got %q, want an error", got)
	}
	one, _ := httprule.Parse("/v1/{parent}:go")
	if got, err := expandPath(one, msg.ProtoReflect()); err != nil || got != "/v1/a%2Fb%20c:go" {
		t.Errorf("got %q, %v; want /v1/a%%2Fb%%20c:go", got, err)
	}
	deep, _ := httprule.Parse("/v1/{parent=shelves/**}")
	msg.Parent = "shelves/a b/c%d"
	if got, err := expandPath(deep, msg.ProtoReflect()); err != nil || got != "/v1/shelves/a%20b/c%25d" {
		t.Errorf("got %q, %v; want /v1/shelves/a%%20b/c%%25d", got, err)
	}
}
