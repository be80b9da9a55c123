package hotpath

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	configv1 "github.com/portico-gw/portico/gen/portico/config/v1"
	"github.com/portico-gw/portico/server/servertest"
	"github.com/portico-gw/portico/snapshot"
)

// startDynamic starts Portico serving the bookstore and the inventory with
// dynamicpb only, as a binary without their generated code does.
func startDynamic(b *testing.B) *servertest.Env {
	b.Helper()
	return servertest.Start(b, servertest.Options{
		Config: func(c *configv1.Config) {
			c.Apis[0].Services = append(c.Apis[0].Services, "example.inventory.v1.InventoryService")
			c.Integrations[0].GetGrpc().Timeout = nil
		},
		Build: func(o *snapshot.Options) { o.DynamicTypes = true },
	})
}

// BenchmarkRESTHandlerDynamic is BenchmarkRESTHandler's GET and a POST
// (body "*") with the APIs served from descriptors only (dynamicpb), the
// headline case: speed without generated code.
func BenchmarkRESTHandlerDynamic(b *testing.B) {
	e := start(b)
	d := startDynamic(b)
	for _, g := range []struct {
		name string
		h    http.Handler
	}{
		{"portico-dynamic", d.Server.Snapshot().REST()},
		{"portico-generated", e.porticoHandler},
		{"grpc-gateway", e.refMux},
	} {
		for _, c := range []struct{ method, path, body string }{
			{"GET", getPath, ""},
			{"POST", "/v1/shelves/1/books", `{"title":"Neuromancer","author":"William Gibson","genre":"GENRE_FICTION","tags":["cyberpunk"],"pageCount":271}`},
		} {
			b.Run(g.name+"/"+c.method, func(b *testing.B) {
				b.ReportAllocs()
				b.SetParallelism(parallelism)
				stop := measureCPU(b)
				defer stop()
				b.RunParallel(func(pb *testing.PB) {
					for pb.Next() {
						req := httptest.NewRequest(c.method, c.path, strings.NewReader(c.body))
						rec := httptest.NewRecorder()
						g.h.ServeHTTP(rec, req)
						if rec.Code != http.StatusOK {
							b.Errorf("%s %s: %d %s", c.method, c.path, rec.Code, rec.Body)
							return
						}
					}
				})
			})
		}
	}
}
