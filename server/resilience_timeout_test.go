package server_test

import (
	"context"
	"net/http"
	"testing"
	"time"

	"github.com/portico-gw/portico/examples/bookstore"
	bookstorev1 "github.com/portico-gw/portico/gen/example/bookstore/v1"
	configv1 "github.com/portico-gw/portico/gen/portico/config/v1"
	"github.com/portico-gw/portico/server/servertest"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/metadata"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/types/known/durationpb"
)

// TestTimeoutsPerAPIAndMethod: against a backend that answers after 30s,
// a method's timeout (200ms) beats its API's (1.5s), which beats the
// integration's (10s), on both doors (504 / DEADLINE_EXCEEDED); the
// client's deadline wins when shorter. The bounds are far apart, so a
// loaded machine does not blur them.
func TestTimeoutsPerAPIAndMethod(t *testing.T) {
	const methodTimeout, apiTimeout = 200 * time.Millisecond, 1500 * time.Millisecond
	env := servertest.Start(t, servertest.Options{Config: func(c *configv1.Config) {
		c.Rest = &configv1.Rest{ForwardHeaders: []string{bookstore.DelayKey}}
		api := c.GetApis()[0]
		api.Timeout = durationpb.New(apiTimeout)
		api.Methods = []*configv1.MethodPolicy{{
			Selector: "example.bookstore.v1.BookstoreService.GetShelf",
			Timeout:  durationpb.New(methodTimeout),
		}}
	}})
	client := bookstorev1.NewBookstoreServiceClient(env.Conn)
	slow := func(ctx context.Context) context.Context {
		return metadata.AppendToOutgoingContext(ctx, bookstore.DelayKey, "30s")
	}
	within := func(what string, d, least, most time.Duration) {
		t.Helper()
		if d < least || d >= most {
			t.Errorf("%s: answered after %v, want between %v and %v", what, d, least, most)
		}
	}
	restSlow := func(path string) (int, time.Duration) {
		req, _ := http.NewRequest(http.MethodGet, env.URL+path, nil)
		req.Header.Set(bookstore.DelayKey, "30s")
		start := time.Now()
		resp, _ := do(t, req)
		return resp.StatusCode, time.Since(start)
	}

	// The method's timeout.
	code, d := restSlow("/v1/shelves/1")
	if code != http.StatusGatewayTimeout {
		t.Errorf("REST GetShelf: got %d, want 504", code)
	}
	within("REST GetShelf (method timeout)", d, methodTimeout, apiTimeout)
	start := time.Now()
	_, err := client.GetShelf(slow(context.Background()), &bookstorev1.GetShelfRequest{Shelf: 1})
	wantCode(t, "gRPC GetShelf", err, codes.DeadlineExceeded)
	within("gRPC GetShelf (method timeout)", time.Since(start), methodTimeout, apiTimeout)

	// The API's timeout, for a method without its own.
	code, d = restSlow("/v1/shelves")
	if code != http.StatusGatewayTimeout {
		t.Errorf("REST ListShelves: got %d, want 504", code)
	}
	within("REST ListShelves (API timeout)", d, apiTimeout, 9*time.Second)
	start = time.Now()
	_, err = client.ListShelves(slow(context.Background()), &bookstorev1.ListShelvesRequest{})
	wantCode(t, "gRPC ListShelves", err, codes.DeadlineExceeded)
	within("gRPC ListShelves (API timeout)", time.Since(start), apiTimeout, 9*time.Second)

	// The client's deadline, shorter than the API's.
	ctx, cancel := context.WithTimeout(slow(context.Background()), 100*time.Millisecond)
	defer cancel()
	start = time.Now()
	_, err = client.ListShelves(ctx, &bookstorev1.ListShelvesRequest{})
	if status.Code(err) != codes.DeadlineExceeded {
		t.Errorf("gRPC ListShelves with a 100ms deadline: got %v, want DEADLINE_EXCEEDED", err)
	}
	within("gRPC ListShelves (client deadline)", time.Since(start), 100*time.Millisecond, apiTimeout)
}
