package hotpath

import (
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/grpc-ecosystem/grpc-gateway/v2/runtime"
	bookstorev1 "github.com/portico-gw/portico/gen/example/bookstore/v1"
	inventoryv1 "github.com/portico-gw/portico/gen/example/inventory/v1"
	configv1 "github.com/portico-gw/portico/gen/portico/config/v1"
	"github.com/portico-gw/portico/server/servertest"
	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials/insecure"
)

// getPath is the REST call measured: GetBook, matched after the
// inventory's 50 GET routes in grpc-gateway's ServeMux.
const getPath = "/v1/shelves/1/books/1"

// parallelism sets RunParallel's goroutines to parallelism × GOMAXPROCS
// (32 on 2 cores, as go run ./bench): enough calls in flight to keep the
// cores busy across loopback round trips.
const parallelism = 16

// env is a backend with both gateways in front of it.
type env struct {
	portico *servertest.Env
	// porticoHandler is Portico's REST door without its HTTP server.
	porticoHandler http.Handler
	// refMux is grpc-gateway's ServeMux; refURL serves it.
	refMux *runtime.ServeMux
	refURL string
}

// start starts the bookstore backend, Portico in front of it exposing the
// bookstore and the inventory, and grpc-gateway's generated handlers for
// both on a default ServeMux, inventory registered last (grpc-gateway
// tries the most recently registered pattern first). Neither gateway sets
// a deadline on backend calls, so both do the same work.
func start(b *testing.B) *env {
	b.Helper()
	p := servertest.Start(b, servertest.Options{Config: func(c *configv1.Config) {
		c.Apis[0].Services = append(c.Apis[0].Services, "example.inventory.v1.InventoryService")
		c.Integrations[0].GetGrpc().Timeout = nil
	}})
	ctx, cancel := context.WithCancel(context.Background())
	b.Cleanup(cancel)
	mux := runtime.NewServeMux()
	dial := []grpc.DialOption{grpc.WithTransportCredentials(insecure.NewCredentials())}
	if err := bookstorev1.RegisterBookstoreServiceHandlerFromEndpoint(ctx, mux, p.BackendAddr, dial); err != nil {
		b.Fatal(err)
	}
	if err := inventoryv1.RegisterInventoryServiceHandlerFromEndpoint(ctx, mux, p.BackendAddr, dial); err != nil {
		b.Fatal(err)
	}
	ts := httptest.NewServer(mux)
	b.Cleanup(ts.Close)
	return &env{portico: p, porticoHandler: p.Server.Snapshot().REST(), refMux: mux, refURL: ts.URL}
}

// BenchmarkRESTGet measures GET /v1/shelves/1/books/1 end to end over
// loopback HTTP/1.1: keep-alive client, gateway's HTTP server, REST door,
// gRPC call to the backend, and back.
func BenchmarkRESTGet(b *testing.B) {
	e := start(b)
	for _, g := range []struct{ name, url string }{
		{"portico", e.portico.URL},
		{"grpc-gateway", e.refURL},
	} {
		b.Run(g.name, func(b *testing.B) {
			url := g.url + getPath
			tr := &http.Transport{MaxIdleConnsPerHost: 256}
			b.Cleanup(tr.CloseIdleConnections)
			client := &http.Client{Transport: tr, Timeout: 10 * time.Second}
			mustGet(b, client, url)
			b.ReportAllocs()
			b.SetParallelism(parallelism)
			stop := measureCPU(b)
			defer stop()
			b.RunParallel(func(pb *testing.PB) {
				req, err := http.NewRequest(http.MethodGet, url, nil)
				if err != nil {
					b.Error(err)
					return
				}
				for pb.Next() {
					resp, err := client.Do(req)
					if err != nil {
						b.Error(err)
						return
					}
					_, _ = io.Copy(io.Discard, resp.Body)
					resp.Body.Close()
					if resp.StatusCode != http.StatusOK {
						b.Errorf("GET %s: %s", url, resp.Status)
						return
					}
				}
			})
		})
	}
}

// BenchmarkRESTHandler measures the same GET through each gateway's
// http.Handler called directly (no HTTP client or server): routing, request
// mapping, the gRPC call to the backend, response writing. It isolates the
// gateway's own code, which is what a CPU profile of Portico should look at.
func BenchmarkRESTHandler(b *testing.B) {
	e := start(b)
	for _, g := range []struct {
		name string
		h    http.Handler
	}{
		{"portico", e.porticoHandler},
		{"grpc-gateway", e.refMux},
	} {
		b.Run(g.name, func(b *testing.B) {
			serve := func() int {
				req := httptest.NewRequest(http.MethodGet, getPath, nil)
				rec := httptest.NewRecorder()
				g.h.ServeHTTP(rec, req)
				return rec.Code
			}
			if code := serve(); code != http.StatusOK {
				b.Fatalf("GET %s: got %d, want 200", getPath, code)
			}
			b.ReportAllocs()
			b.SetParallelism(parallelism)
			stop := measureCPU(b)
			defer stop()
			b.RunParallel(func(pb *testing.PB) {
				for pb.Next() {
					if code := serve(); code != http.StatusOK {
						b.Errorf("GET %s: got %d, want 200", getPath, code)
						return
					}
				}
			})
		})
	}
}

// BenchmarkGRPC measures GetBook from a grpc-go client sharing one
// connection: to the backend directly, and through Portico's gRPC door.
func BenchmarkGRPC(b *testing.B) {
	e := start(b)
	direct, err := grpc.NewClient(e.portico.BackendAddr, grpc.WithTransportCredentials(insecure.NewCredentials()))
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { direct.Close() })
	for _, g := range []struct {
		name string
		conn *grpc.ClientConn
	}{
		{"direct", direct},
		{"portico", e.portico.Conn},
	} {
		b.Run(g.name, func(b *testing.B) {
			client := bookstorev1.NewBookstoreServiceClient(g.conn)
			req := &bookstorev1.GetBookRequest{Name: "shelves/1/books/1"}
			if _, err := client.GetBook(context.Background(), req); err != nil {
				b.Fatal(err)
			}
			b.ReportAllocs()
			b.SetParallelism(parallelism)
			stop := measureCPU(b)
			defer stop()
			b.RunParallel(func(pb *testing.PB) {
				for pb.Next() {
					if _, err := client.GetBook(context.Background(), req); err != nil {
						b.Error(err)
						return
					}
				}
			})
		})
	}
}

// measureCPU resets the benchmark timer and returns a function, to call
// when the measured loop is done, that reports the process's CPU time per
// operation as cpu-ns/op. Client, gateway and backend all run in this
// process, so it is the whole stack's CPU cost: unlike ns/op, it is not
// inflated when other processes compete for the machine.
func measureCPU(b *testing.B) func() {
	start, ok := processCPU()
	b.ResetTimer()
	return func() {
		end, ok2 := processCPU()
		if ok && ok2 && b.N > 0 {
			b.ReportMetric(float64(end-start)/float64(b.N), "cpu-ns/op")
		}
	}
}

// mustGet fails the benchmark unless GET url answers 200.
func mustGet(b *testing.B, client *http.Client, url string) {
	b.Helper()
	resp, err := client.Get(url)
	if err != nil {
		b.Fatal(err)
	}
	_, _ = io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		b.Fatalf("GET %s: %s", url, resp.Status)
	}
}
