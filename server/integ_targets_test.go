package server_test

import (
	"net/http"
	"testing"

	bookstorev1 "github.com/portico-gw/portico/gen/example/bookstore/v1"
	configv1 "github.com/portico-gw/portico/gen/portico/config/v1"
	"github.com/portico-gw/portico/server/servertest"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/metadata"
	"google.golang.org/grpc/status"
)

// TestTargetHeaderBothDoors: with weighted targets and
// allow_target_header, X-Portico-Target (REST) and x-portico-target
// (gRPC) pin a call to the named target; the header never reaches a
// backend; a name that is no target is a 400 / INVALID_ARGUMENT.
func TestTargetHeaderBothDoors(t *testing.T) {
	stable, canary := startRecording(t), startRecording(t)
	env := servertest.StartGateway(t, stable.addr, servertest.Options{Config: func(c *configv1.Config) {
		g := c.Integrations[0].GetGrpc()
		g.Target = ""
		g.Targets = []*configv1.WeightedTarget{{Target: stable.addr, Weight: 1000}, {Target: canary.addr, Weight: 1}}
		g.AllowTargetHeader = true
	}})
	for range 5 {
		if code := restGetWithHeader(t, env.URL+"/v1/shelves/1", "X-Portico-Target", canary.addr); code != http.StatusOK {
			t.Fatalf("REST pinned: got %d", code)
		}
	}
	client := bookstorev1.NewBookstoreServiceClient(env.Conn)
	ctx := metadata.AppendToOutgoingContext(ctxT(t), "x-portico-target", canary.addr)
	for range 5 {
		if _, err := client.GetShelf(ctx, &bookstorev1.GetShelfRequest{Shelf: 1}); err != nil {
			t.Fatalf("gRPC pinned: %v", err)
		}
	}
	if s, c := stable.calls(), canary.calls(); s != 0 || c != 10 {
		t.Errorf("got %d calls to the stable target and %d to the canary, want 0 and 10", s, c)
	}
	if got := canary.last(t).Get("x-portico-target"); len(got) != 0 {
		t.Errorf("the backend got x-portico-target %q, want it never forwarded", got)
	}

	_, err := client.GetShelf(metadata.AppendToOutgoingContext(ctxT(t), "x-portico-target", "10.0.0.1:1"), &bookstorev1.GetShelfRequest{Shelf: 1})
	if status.Code(err) != codes.InvalidArgument {
		t.Errorf("unknown target: got %v, want InvalidArgument", err)
	}
	if code := restGetWithHeader(t, env.URL+"/v1/shelves/1", "X-Portico-Target", "nowhere"); code != http.StatusBadRequest {
		t.Errorf("REST unknown target: got %d, want 400", code)
	}
	if s, c := stable.calls(), canary.calls(); s+c != 10 {
		t.Errorf("got %d backend calls in all, want 10 (unknown targets forward nothing)", s+c)
	}
}

func restGetWithHeader(t *testing.T, url, k, v string) int {
	t.Helper()
	req, _ := http.NewRequest("GET", url, nil)
	req.Header.Set(k, v)
	resp, err := servertest.Client().Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	return resp.StatusCode
}
