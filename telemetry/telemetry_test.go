package telemetry

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/portico-gw/portico/call"
	"go.opentelemetry.io/otel/attribute"
	"google.golang.org/grpc"
	"google.golang.org/grpc/metadata"
)

func TestNewChecksTheSamplingRatio(t *testing.T) {
	for _, r := range []float64{-0.1, 1.5} {
		if _, err := New(Config{SamplingRatio: r, Prometheus: true}); err == nil {
			t.Errorf("sampling ratio %v: got no error", r)
		}
	}
	tel, err := New(Config{SamplingRatio: 0.5, Prometheus: true})
	if err != nil {
		t.Fatal(err)
	}
	if err := tel.Close(); err != nil {
		t.Errorf("Close: %v", err)
	}
	if err := tel.Close(); err != nil {
		t.Errorf("Close twice: %v", err)
	}
}

// deadlineWriter is a ResponseWriter that notes what the door asks of the
// connection.
type deadlineWriter struct {
	*httptest.ResponseRecorder
	deadline time.Time
	flushed  bool
}

func (w *deadlineWriter) SetWriteDeadline(d time.Time) error { w.deadline = d; return nil }
func (w *deadlineWriter) Flush()                             { w.flushed = true }

// TestMiddlewareKeepsTheConnectionReachable: the door sets deadlines and
// flushes streams through http.ResponseController, which must reach the
// connection through the middleware's writer.
func TestMiddlewareKeepsTheConnectionReachable(t *testing.T) {
	tel, err := New(Config{Prometheus: true})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { tel.Close() })
	want := time.Now().Add(time.Minute)
	h := tel.Middleware(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		rc := http.NewResponseController(w)
		if err := rc.SetWriteDeadline(want); err != nil {
			t.Errorf("SetWriteDeadline through the middleware: %v", err)
		}
		w.WriteHeader(http.StatusTeapot)
		if err := rc.Flush(); err != nil {
			t.Errorf("Flush through the middleware: %v", err)
		}
		if call.FromContext(r.Context()) == nil {
			t.Errorf("the middleware put no call.Info in the request's context")
		}
	}))
	w := &deadlineWriter{ResponseRecorder: httptest.NewRecorder()}
	h.ServeHTTP(w, httptest.NewRequest(http.MethodGet, "/x", nil))
	if !w.deadline.Equal(want) || !w.flushed || w.Code != http.StatusTeapot {
		t.Errorf("got deadline %v flushed %v code %d, want %v, true, 418", w.deadline, w.flushed, w.Code, want)
	}
}

func TestBackendInterceptorsOutsideADoor(t *testing.T) {
	type key struct{}
	ctx := context.WithValue(context.Background(), key{}, 1)
	var got context.Context
	err := unaryBackend(ctx, "/a.B/C", nil, nil, nil, func(c context.Context, _ string, _, _ any, _ *grpc.ClientConn, _ ...grpc.CallOption) error {
		got = c
		return nil
	})
	if err != nil || got != ctx {
		t.Errorf("a call made outside a door: got %v, context changed %v; want it passed through", err, got != ctx)
	}
	if _, ok := metadata.FromOutgoingContext(got); ok {
		t.Errorf("a call made outside a door got outgoing metadata")
	}
}

func TestLabelsOfCallsThatMatchedNoMethod(t *testing.T) {
	for _, tc := range []struct {
		info                      call.Info
		wantAPI, wantMethod, want string
	}{
		{call.Info{Door: call.GRPC, Path: "/made.up.Service/Anything", Route: "/made.up.Service/Anything"}, "", "", ""},
		{call.Info{Door: call.GRPC, Path: "/grpc.health.v1.Health/Check"}, "grpc.health.v1.Health", "/grpc.health.v1.Health/Check", "/grpc.health.v1.Health/Check"},
		{call.Info{Door: call.REST, Path: "/made/up"}, "", "", ""},
		{call.Info{Door: call.REST, Path: "/docs", Route: "/docs"}, "", "", "/docs"},
	} {
		r := &record{info: &tc.info}
		api, method, route := r.labels()
		if api != tc.wantAPI || method != tc.wantMethod || route != tc.want {
			t.Errorf("%v %s: got (%q, %q, %q), want (%q, %q, %q)", tc.info.Door, tc.info.Path, api, method, route, tc.wantAPI, tc.wantMethod, tc.want)
		}
	}
}

func TestAttrCacheIsBounded(t *testing.T) {
	var c attrCache
	for i := 0; i < maxCached+50; i++ {
		k := attrKey{a: fmt.Sprint(i)}
		c.get(k, func() attribute.Set { return attribute.NewSet(attribute.Int("i", i)) })
	}
	if n := c.n.Load(); n != maxCached {
		t.Errorf("cached sets: got %d, want at most %d", n, maxCached)
	}
}
