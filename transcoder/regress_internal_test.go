package transcoder

import (
	"context"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/portico-gw/portico/catalog"
	bookstorev1 "github.com/portico-gw/portico/gen/example/bookstore/v1"
	"github.com/portico-gw/portico/pipeline"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
)

// TestRegressStreamReadAfterFinish: seen by go test -race in
// TestRegressCancelReachesBackend under load. A client stream's body read
// that broke after the stream had finished (a backend stream's pump still
// reading when the client went away) set "Connection: close" on the
// response headers, which the edges and net/http were writing once the
// handler returned: a data race on the header map. After finish, a read
// no longer touches the headers.
func TestRegressStreamReadAfterFinish(t *testing.T) {
	cat, err := catalog.New(catalog.Options{APIs: []catalog.API{{
		Where: "apis[0]", Services: []string{"example.bookstore.v1.BookstoreService"}, Backend: idleBackend{},
	}}})
	if err != nil {
		t.Fatal(err)
	}
	p, err := pipeline.New(cat.MethodList(), pipeline.Options{})
	if err != nil {
		t.Fatal(err)
	}
	tr, err := New(cat, p, Options{})
	if err != nil {
		t.Fatal(err)
	}
	var rt *route
	for _, m := range cat.MethodList() {
		if strings.HasSuffix(m.FullMethod(), "/ImportBooks") && len(m.Bindings()) > 0 {
			if rt, err = compileRoute(m.Bindings()[0]); err != nil {
				t.Fatal(err)
			}
		}
	}
	if rt == nil {
		t.Fatal("no ImportBooks route")
	}
	ctx := context.Background()
	rec := httptest.NewRecorder()
	req := httptest.NewRequest("POST", "/v1/books:import", nil)
	s := &httpStream{t: tr, w: rec, r: req, rt: rt, ctx: ctx}
	s.dec = tr.newJSONDecoder(ctx, rec, strings.NewReader(`{"parent":"shelves/1"}`+"\n"+`{"par`))
	s.finish(status.Error(codes.Unavailable, "backend gone"))
	if rec.Code != 503 {
		t.Fatalf("finish: got %d, want 503", rec.Code)
	}
	if err := s.RecvMsg(&bookstorev1.CreateBookRequest{}); err != nil {
		t.Fatalf("first message: %v", err)
	}
	if err := s.RecvMsg(&bookstorev1.CreateBookRequest{}); err == nil {
		t.Fatal("a broken second message: got no error")
	}
	if got := rec.Header().Get("Connection"); got != "" {
		t.Errorf("a read after finish set Connection: %q on a response already written", got)
	}
}
