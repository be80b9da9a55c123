package grpcbackend

// Unary calls to the backend: metadata both ways, the backend's status,
// a backend down, timeouts.

import (
	"context"
	"slices"
	"testing"
	"time"

	"github.com/portico-gw/portico/examples/bookstore"
	bookstorev1 "github.com/portico-gw/portico/gen/example/bookstore/v1"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/metadata"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/proto"
)

func TestUnary(t *testing.T) {
	e := newEnv(t, 0)
	ts := &fakeTransportStream{}
	ctx := grpc.NewContextWithServerTransportStream(testContext(t), ts)
	ctx = metadata.NewIncomingContext(ctx, metadata.Pairs("x-echo", "hello", "x-echo", "again"))
	resp, err := e.integ.Unary(ctx, e.method(t, "GetShelf"), &bookstorev1.GetShelfRequest{Shelf: 1})
	if err != nil {
		t.Fatalf("Unary: %v", err)
	}
	shelf, ok := resp.(*bookstorev1.Shelf)
	if !ok {
		t.Fatalf("got response %T, want *bookstorev1.Shelf", resp)
	}
	if want := (&bookstorev1.Shelf{Id: 1, Theme: "Fiction"}); !proto.Equal(shelf, want) {
		t.Errorf("got %v, want %v", shelf, want)
	}
	ts.mu.Lock()
	defer ts.mu.Unlock()
	if got := ts.header.Get("x-echo"); !slices.Equal(got, []string{"hello", "again"}) {
		t.Errorf("header x-echo: got %q, want [hello again] (incoming metadata forwarded, response header reported)", got)
	}
	if got := ts.trailer.Get(bookstore.ServedByKey); !slices.Equal(got, []string{bookstore.ServedByValue}) {
		t.Errorf("trailer %s: got %q, want [%s]", bookstore.ServedByKey, got, bookstore.ServedByValue)
	}
}

// TestUnaryWithoutTransportStream: a backend's metadata with nowhere to go
// (no server transport stream in ctx) does not fail the call.
func TestUnaryWithoutTransportStream(t *testing.T) {
	e := newEnv(t, 0)
	ctx := metadata.NewIncomingContext(testContext(t), metadata.Pairs("x-echo", "x"))
	resp, err := e.integ.Unary(ctx, e.method(t, "GetShelf"), &bookstorev1.GetShelfRequest{Shelf: 2})
	if err != nil {
		t.Fatalf("Unary: %v", err)
	}
	if got := resp.(*bookstorev1.Shelf).GetTheme(); got != "Science" {
		t.Errorf("got theme %q, want Science", got)
	}
}

// TestUnaryTransportMetadataNotForwarded: keys describing the client's
// connection to the gateway do not reach the backend; the call still
// succeeds (a forwarded content-type or grpc-timeout would confuse it).
func TestUnaryTransportMetadataNotForwarded(t *testing.T) {
	e := newEnv(t, 0)
	ts := &fakeTransportStream{}
	ctx := grpc.NewContextWithServerTransportStream(testContext(t), ts)
	ctx = metadata.NewIncomingContext(ctx, metadata.Pairs(
		":authority", "gateway.example",
		"content-type", "application/grpc+proto",
		"grpc-timeout", "1n",
		"user-agent", "curl/8",
		"x-echo", "kept",
	))
	if _, err := e.integ.Unary(ctx, e.method(t, "GetShelf"), &bookstorev1.GetShelfRequest{Shelf: 1}); err != nil {
		t.Fatalf("Unary: %v", err)
	}
	ts.mu.Lock()
	defer ts.mu.Unlock()
	if got := ts.header.Get("x-echo"); !slices.Equal(got, []string{"kept"}) {
		t.Errorf("header x-echo: got %q, want [kept]", got)
	}
}

func TestUnaryBackendStatus(t *testing.T) {
	e := newEnv(t, 0)
	ctx := metadata.NewIncomingContext(testContext(t), metadata.Pairs("x-echo", "e", bookstore.FailKey, "PERMISSION_DENIED"))
	ctx = grpc.NewContextWithServerTransportStream(ctx, &fakeTransportStream{})
	_, err := e.integ.Unary(ctx, e.method(t, "GetShelf"), &bookstorev1.GetShelfRequest{Shelf: 1})
	st := status.Convert(err)
	if st.Code() != codes.PermissionDenied || st.Message() != bookstore.FailMessage {
		t.Fatalf("got %v %q, want PermissionDenied %q", st.Code(), st.Message(), bookstore.FailMessage)
	}
	if len(st.Details()) != 1 {
		t.Errorf("got %d details, want the backend's ErrorInfo", len(st.Details()))
	}
}

// TestUnaryBackendUnavailableStatus: an UNAVAILABLE the backend itself
// returns is its answer, kept unchanged (message and details), like any
// other backend status.
func TestUnaryBackendUnavailableStatus(t *testing.T) {
	for _, echo := range []bool{true, false} {
		name := "trailers-only"
		if echo {
			name = "after headers"
		}
		t.Run(name, func(t *testing.T) {
			e := newEnv(t, 0)
			pairs := []string{bookstore.FailKey, "UNAVAILABLE"}
			if echo {
				pairs = append(pairs, bookstore.EchoKey, "x") // makes the backend send headers first
			}
			ctx := metadata.NewIncomingContext(testContext(t), metadata.Pairs(pairs...))
			ctx = grpc.NewContextWithServerTransportStream(ctx, &fakeTransportStream{})
			_, err := e.integ.Unary(ctx, e.method(t, "GetShelf"), &bookstorev1.GetShelfRequest{Shelf: 1})
			st := status.Convert(err)
			if st.Code() != codes.Unavailable || st.Message() != bookstore.FailMessage {
				t.Errorf("got %v %q, want Unavailable %q", st.Code(), st.Message(), bookstore.FailMessage)
			}
			if len(st.Details()) != 1 {
				t.Errorf("got %d details, want the backend's ErrorInfo", len(st.Details()))
			}
		})
	}
}

// TestUnaryBackendDown: a backend that cannot be reached fails at once with
// a plain UNAVAILABLE that names no address.
func TestUnaryBackendDown(t *testing.T) {
	e := newEnv(t, 0)
	e.srv.Stop()
	e.lis.Close()
	start := time.Now()
	_, err := e.integ.Unary(testContext(t), e.method(t, "GetShelf"), &bookstorev1.GetShelfRequest{Shelf: 1})
	st := status.Convert(err)
	if st.Code() != codes.Unavailable || st.Message() != "backend unavailable" {
		t.Errorf("got %v %q, want Unavailable %q", st.Code(), st.Message(), "backend unavailable")
	}
	if d := time.Since(start); d > 5*time.Second {
		t.Errorf("failing took %v; want an immediate failure (no wait-for-ready)", d)
	}
	if got := e.store.Calls(); got != 0 {
		t.Errorf("got %d backend calls, want 0", got)
	}
}

func TestUnaryTimeout(t *testing.T) {
	tests := []struct {
		name     string
		timeout  time.Duration // the integration's
		deadline time.Duration // the client's, 0 for none
		delay    string        // the backend's x-delay
		wantCode codes.Code
		maxTime  time.Duration
	}{
		{"integration timeout caps a longer client deadline", 100 * time.Millisecond, 20 * time.Second, "10s", codes.DeadlineExceeded, 5 * time.Second},
		{"integration timeout applies without a client deadline", 100 * time.Millisecond, 0, "10s", codes.DeadlineExceeded, 5 * time.Second},
		{"shorter client deadline wins", 20 * time.Second, 100 * time.Millisecond, "10s", codes.DeadlineExceeded, 5 * time.Second},
		{"no timeout at all", 0, 0, "1ms", codes.OK, 10 * time.Second},
		{"call within the timeout", 20 * time.Second, 0, "1ms", codes.OK, 10 * time.Second},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := newEnv(t, tt.timeout)
			ctx := context.Background()
			if tt.deadline > 0 {
				var cancel context.CancelFunc
				ctx, cancel = context.WithTimeout(ctx, tt.deadline)
				t.Cleanup(cancel)
			}
			ctx = metadata.NewIncomingContext(ctx, metadata.Pairs(bookstore.DelayKey, tt.delay))
			start := time.Now()
			_, err := e.integ.Unary(ctx, e.method(t, "GetShelf"), &bookstorev1.GetShelfRequest{Shelf: 1})
			if got := status.Code(err); got != tt.wantCode {
				t.Errorf("got %v (%v), want %v", got, err, tt.wantCode)
			}
			if d := time.Since(start); d > tt.maxTime {
				t.Errorf("call took %v, want under %v", d, tt.maxTime)
			}
			if err == nil && e.store.Calls() != 1 {
				t.Errorf("got %d backend calls, want 1", e.store.Calls())
			}
		})
	}
}
