package httpbackend

import (
	"context"
	"net/http"
	"net/http/httptest"
	"sync/atomic"
	"testing"
	"time"

	"github.com/portico-gw/portico/call"
	"github.com/portico-gw/portico/catalog/httprule"
	bookstorev1 "github.com/portico-gw/portico/gen/example/bookstore/v1"
	"github.com/portico-gw/portico/integrations"
	"github.com/portico-gw/portico/integrations/guard"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
)

// TestRegressDotSegmentsInPathVariables: a "." or ".." segment in a path
// variable matched the pattern's "*" and was sent as it was, so the
// backend (or a proxy before it) resolved it into another resource's path
// (/v1/shelves/../books/1 is /v1/books/1). Such values are refused.
func TestRegressDotSegmentsInPathVariables(t *testing.T) {
	rest := startREST(t)
	i, ms, _ := newIntegration(t, rest.URL, nil)
	for _, name := range []string{"shelves/../books/1", "shelves/1/books/..", "shelves/./books/1"} {
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
}

// TestRegressProxyOutsideBase (issue 14, point 1): Proxy forwarded a
// path's dot segments (raw or percent-encoded) as they came, so
// /legacy/../../admin reached the backend outside the integration's base
// path once the backend resolved them. Whoever calls Proxy, a path a
// backend could resolve differently is answered INVALID_ARGUMENT through
// onError and nothing is sent; a canonical path is forwarded under the
// base, byte for byte.
func TestRegressProxyOutsideBase(t *testing.T) {
	var got []string
	backend := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		got = append(got, r.RequestURI)
	}))
	t.Cleanup(backend.Close)
	i, _, _ := newIntegration(t, backend.URL+"/base/", nil)
	var refused error
	h, err := i.Proxy(ProxyOptions{StripPrefix: "/legacy/", OnError: func(w http.ResponseWriter, _ *http.Request, err error) {
		refused = err
		w.WriteHeader(http.StatusBadRequest)
	}})
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range []string{"/legacy/../../admin", "/legacy/%2e%2e/admin", "/legacy/x/%2E./%2e%2E/admin", "/legacy/..%2fadmin", "/legacy/x//y"} {
		refused, got = nil, nil
		r := httptest.NewRequest("GET", "http://gateway"+p, nil)
		h.ServeHTTP(httptest.NewRecorder(), r)
		if status.Code(refused) != codes.InvalidArgument || len(got) != 0 {
			t.Errorf("%s: got error %v and backend requests %q, want INVALID_ARGUMENT and none", p, refused, got)
		}
	}
	refused, got = nil, nil
	h.ServeHTTP(httptest.NewRecorder(), httptest.NewRequest("GET", "http://gateway/legacy/a%2cb/%7Ec?q=..", nil))
	if refused != nil || len(got) != 1 || got[0] != "/base/a,b/~c?q=.." {
		t.Errorf("canonical path: got error %v and backend requests %q, want /base/a,b/~c?q=..", refused, got)
	}
}

// TestRegressEncodedDotSegmentsInPathVariables (issue 14, point 1,
// sibling of TestRegressDotSegmentsInPathVariables): a path variable's
// value holding "/.." or "\.." was sent escaped (a%2F..%2F..%2Fadmin,
// ..%5Cadmin) but reached another resource on backends that decode an
// encoded slash or read a backslash as one before resolving dot segments
// (and "%2e%2e" on backends that decode twice). A value whose pieces
// between "/" or "\", as it is or percent-decoded once, include a dot
// segment is refused.
func TestRegressEncodedDotSegmentsInPathVariables(t *testing.T) {
	one, err := httprule.Parse("/v1/{parent}:go")
	if err != nil {
		t.Fatal(err)
	}
	multi, err := httprule.Parse("/v1/{parent=shelves/*}/books")
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		tpl   *httprule.Template
		value string
	}{
		{one, "a/../../admin"}, {one, "..\\admin"}, {one, "a\\..\\..\\admin"}, {one, "../x"}, {one, "%2e%2e%2fadmin"},
		{multi, "shelves/..\\..\\admin"}, {multi, "shelves/x\\.."},
	} {
		msg := &bookstorev1.CreateBookRequest{Parent: tc.value}
		if got, err := expandPath(tc.tpl, msg.ProtoReflect()); status.Code(err) != codes.InvalidArgument {
			t.Errorf("%s with %q: got %q, %v, want INVALID_ARGUMENT", tc.tpl.Raw, tc.value, got, err)
		}
	}
	// A slash or a backslash that makes no dot segment is a value like any other.
	msg := &bookstorev1.CreateBookRequest{Parent: `a/b\c..d`}
	if got, err := expandPath(one, msg.ProtoReflect()); err != nil || got != "/v1/a%2Fb%5Cc..d:go" {
		t.Errorf("got %q, %v; want /v1/a%%2Fb%%5Cc..d:go", got, err)
	}
}

// TestRegressHalfOpenURLSkippedUnmarked: a URL whose half-open breaker
// has no probe left is skipped for the next URL without marking the
// call refused (before the fix, the call another URL served carried
// refusal "circuit_open" and a Retry-After).
func TestRegressHalfOpenURLSkippedUnmarked(t *testing.T) {
	const openFor = 5 * time.Millisecond
	g := guard.New("legacy", []string{"http://a", "http://b"}, guard.Settings{Breaker: &guard.BreakerSettings{
		FailureRatio: 0.5, MinimumCalls: 1, Window: time.Minute, OpenFor: openFor, HalfOpenCalls: 1}})
	done, err := g.Call(context.Background(), 0)
	if err != nil {
		t.Fatal(err)
	}
	done(integrations.Unavailable) // opens a's breaker
	time.Sleep(2 * openFor)        // waiting out open_for, not a server
	probe, err := g.Call(context.Background(), 0)
	if err != nil {
		t.Fatalf("half-open probe: %v", err)
	}
	defer probe(nil)
	s := &endpointSet{name: "legacy", urls: []string{"http://a", "http://b"}, hosts: []string{"a", "b"},
		down: make([]atomic.Bool, 2), seen: make([]atomic.Pointer[string], 2)}
	info := &call.Info{Door: call.REST}
	k, finish, err := s.pick(call.NewContext(context.Background(), info), g, make([]bool, 2))
	if err != nil || k != 1 {
		t.Fatalf("pick: got URL %d, %v; want URL 1 (b)", k, err)
	}
	finish(nil)
	if info.Refusal != "" || info.ResponseHeader().Get("Retry-After") != "" {
		t.Errorf("a call b serves: refusal %q, Retry-After %q; want neither", info.Refusal, info.ResponseHeader().Get("Retry-After"))
	}
}
