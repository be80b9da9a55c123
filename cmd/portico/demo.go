package main

import (
	"fmt"
	"io"
	"net"

	"github.com/portico-gw/portico/config"
	"github.com/portico-gw/portico/examples/bookstore"
	configv1 "github.com/portico-gw/portico/gen/portico/config/v1"
	"github.com/portico-gw/portico/server"
	"google.golang.org/protobuf/types/known/durationpb"
)

// startDemo starts the example bookstore backend in-process on a loopback
// port and returns a config that puts Portico in front of it, with the
// bookstore's compiled-in descriptors (no descriptor set needed).
func startDemo() (*config.File, func(), error) {
	lis, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, nil, fmt.Errorf("demo backend: %v", err)
	}
	backend := bookstore.Serve(lis)
	cfg := &configv1.Config{
		Listen: &configv1.Listen{Http: "127.0.0.1:8080", Grpc: "127.0.0.1:9090", Admin: "127.0.0.1:9901"},
		Integrations: []*configv1.Integration{{
			Name: "bookstore",
			Kind: &configv1.Integration_Grpc{Grpc: &configv1.GrpcIntegration{
				Target:  lis.Addr().String(),
				Timeout: durationpb.New(10e9),
			}},
		}},
		Apis: []*configv1.Api{{
			Services:        []string{"example.bookstore.v1.BookstoreService"},
			Integration:     "bookstore",
			DefaultBindings: true,
			// Public, and said so: the demo has no users to authenticate.
			Auth: &configv1.ApiAuth{Public: true},
		}},
		Docs: &configv1.Docs{OpenapiPath: "/openapi.json", ExplorerPath: "/docs"},
	}
	return &config.File{Config: cfg, Dir: "."}, backend.Stop, nil
}

func printDemoHelp(w io.Writer, srv *server.Server) {
	base := "http://" + srv.HTTPAddr
	fmt.Fprintln(w, "demo: the example bookstore backend runs in-process; try:")
	fmt.Fprintf(w, "  curl %s/v1/shelves\n", base)
	fmt.Fprintf(w, "  curl '%s/v1/shelves/1/books?genre=GENRE_FICTION&page_size=5'\n", base)
	fmt.Fprintf(w, "  curl -X POST %s/v1/shelves/1/books -d '{\"title\":\"Neuromancer\",\"author\":\"William Gibson\"}'\n", base)
	fmt.Fprintf(w, "  open %s/docs   # the API explorer (the OpenAPI document: %s/openapi.json)\n", base, base)
	if srv.GRPCAddr != "" {
		fmt.Fprintf(w, "  grpcurl -plaintext %s list   # the gRPC door, with reflection\n", srv.GRPCAddr)
	}
}
