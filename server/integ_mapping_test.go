package server_test

import (
	"context"
	"net"
	"net/http"
	"reflect"
	"strings"
	"sync"
	"testing"

	"github.com/portico-gw/portico/config"
	"github.com/portico-gw/portico/examples/bookstore"
	bookstorev1 "github.com/portico-gw/portico/gen/example/bookstore/v1"
	configv1 "github.com/portico-gw/portico/gen/portico/config/v1"
	"github.com/portico-gw/portico/server/servertest"
	"github.com/portico-gw/portico/snapshot"
	"google.golang.org/grpc"
	"google.golang.org/grpc/metadata"
)

// recordingBackend is a bookstore that records the metadata of each call.
type recordingBackend struct {
	addr string
	mu   sync.Mutex
	mds  []metadata.MD
}

func startRecording(t *testing.T) *recordingBackend {
	t.Helper()
	lis, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	rb := &recordingBackend{addr: lis.Addr().String()}
	gs := bookstore.NewServer().Serve(lis, grpc.UnaryInterceptor(func(ctx context.Context, req any, info *grpc.UnaryServerInfo, h grpc.UnaryHandler) (any, error) {
		md, _ := metadata.FromIncomingContext(ctx)
		rb.mu.Lock()
		rb.mds = append(rb.mds, md.Copy())
		rb.mu.Unlock()
		return h(ctx, req)
	}))
	t.Cleanup(gs.Stop)
	return rb
}

// last returns the last call's metadata, without what the gRPC transport
// itself sets.
func (rb *recordingBackend) last(t *testing.T) metadata.MD {
	t.Helper()
	rb.mu.Lock()
	defer rb.mu.Unlock()
	if len(rb.mds) == 0 {
		t.Fatal("the backend got no call")
	}
	out := metadata.MD{}
	for k, v := range rb.mds[len(rb.mds)-1] {
		switch {
		case strings.HasPrefix(k, ":"), k == "content-type", k == "user-agent", strings.HasPrefix(k, "grpc-"):
			continue
		}
		out[k] = v
	}
	return out
}

// TestRequestMappingBothDoors: with apis[].request, the backend gets the
// listed headers and the static metadata — the same whether the call came
// over REST or gRPC — and nothing else the client sent.
func TestRequestMappingBothDoors(t *testing.T) {
	rb := startRecording(t)
	env := servertest.StartGateway(t, rb.addr, servertest.Options{Config: func(c *configv1.Config) {
		// The client's X-Request-Id is kept (trusted): the mapping passes it on.
		c.RequestId = &configv1.RequestId{TrustIncoming: true}
		c.Apis[0].Request = &configv1.RequestMapping{
			ForwardHeaders: []string{"x-request-id", "accept-language"},
			SetMetadata:    map[string]string{"x-source": "portico"},
		}
	}})
	want := metadata.MD{"x-request-id": {"r-1"}, "accept-language": {"fr"}, "x-source": {"portico"}}

	req, _ := http.NewRequest("GET", env.URL+"/v1/shelves/1", nil)
	req.Header.Set("X-Request-Id", "r-1")
	req.Header.Set("Accept-Language", "fr")
	req.Header.Set("Authorization", "Bearer secret")
	req.Header.Set("X-Other", "no")
	req.Header.Set("X-Portico-Principal", "forged")
	resp, err := servertest.Client().Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("REST: got %d", resp.StatusCode)
	}
	if got := rb.last(t); !reflect.DeepEqual(got, want) {
		t.Errorf("REST: backend got %v, want %v", got, want)
	}

	ctx := metadata.AppendToOutgoingContext(ctxT(t), "x-request-id", "r-1", "accept-language", "fr",
		"authorization", "Bearer secret", "x-other", "no", "x-portico-principal", "forged")
	if _, err := bookstorev1.NewBookstoreServiceClient(env.Conn).GetShelf(ctx, &bookstorev1.GetShelfRequest{Shelf: 1}); err != nil {
		t.Fatalf("gRPC: %v", err)
	}
	if got := rb.last(t); !reflect.DeepEqual(got, want) {
		t.Errorf("gRPC: backend got %v, want %v", got, want)
	}
}

// TestRequestMappingBuildError: a hop-by-hop header in forward_headers is
// a config error naming the API.
func TestRequestMappingBuildError(t *testing.T) {
	cfg := servertest.BookstoreConfig("127.0.0.1:1")
	cfg.Apis[0].Request = &configv1.RequestMapping{ForwardHeaders: []string{"x-a", "transfer-encoding"}}
	_, err := snapshot.Build(&config.File{Config: cfg, Dir: "."}, snapshot.Options{})
	want := `apis[0].request: forward_headers[1]: "transfer-encoding" is never forwarded (a hop-by-hop header)`
	if err == nil || !strings.Contains(err.Error(), want) {
		t.Errorf("got %v, want %q", err, want)
	}
}

// calls is how many calls the backend recorded.
func (rb *recordingBackend) calls() int {
	rb.mu.Lock()
	defer rb.mu.Unlock()
	return len(rb.mds)
}
