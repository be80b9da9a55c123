package server_test

// The finding of the hardening issue about server reflection (one test
// per finding, named for it).

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/portico-gw/portico/server/servertest"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	reflectionpb "google.golang.org/grpc/reflection/grpc_reflection_v1"
)

// reflect asks server reflection one question.
func reflectAsk(t *testing.T, conn *grpc.ClientConn, req *reflectionpb.ServerReflectionRequest) *reflectionpb.ServerReflectionResponse {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	stream, err := reflectionpb.NewServerReflectionClient(conn).ServerReflectionInfo(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if err := stream.Send(req); err != nil {
		t.Fatal(err)
	}
	resp, err := stream.Recv()
	if err != nil {
		t.Fatal(err)
	}
	return resp
}

func symbolRequest(name string) *reflectionpb.ServerReflectionRequest {
	return &reflectionpb.ServerReflectionRequest{MessageRequest: &reflectionpb.ServerReflectionRequest_FileContainingSymbol{FileContainingSymbol: name}}
}

// TestRegressReflectionLeaks (finding 4): server reflection resolved any
// file of the descriptors: describing a service that is not exposed gave
// its whole definition, HTTP rules included, and the demo revealed
// portico.config.v1.Config; health and reflection were listed but could
// not be described. Reflection now serves exactly the exposed services'
// files and their imports, plus health and reflection themselves.
func TestRegressReflectionLeaks(t *testing.T) {
	hostileEnv := servertest.StartHostile(t, servertest.Options{})
	bookstoreEnv := servertest.Start(t, servertest.Options{})
	for _, tc := range []struct {
		name    string
		conn    *grpc.ClientConn
		exposed string
		hidden  []string
	}{
		{"descriptor set", hostileEnv.Conn, servertest.HostileService, []string{servertest.HostileSecret, "hostile.v1.Secret", "portico.config.v1.Config"}},
		{"compiled in", bookstoreEnv.Conn, "example.bookstore.v1.BookstoreService", []string{"portico.config.v1.Config", "portico.config.v1.Api", "example.inventory.v1.InventoryService"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			list := reflectAsk(t, tc.conn, &reflectionpb.ServerReflectionRequest{MessageRequest: &reflectionpb.ServerReflectionRequest_ListServices{}})
			var names []string
			for _, s := range list.GetListServicesResponse().GetService() {
				names = append(names, s.GetName())
			}
			for _, want := range []string{tc.exposed, "grpc.health.v1.Health", "grpc.reflection.v1.ServerReflection"} {
				if !strings.Contains(strings.Join(names, " "), want) {
					t.Errorf("list: got %v, missing %s", names, want)
				}
			}
			for _, sym := range []string{tc.exposed, "grpc.health.v1.Health", "grpc.reflection.v1.ServerReflection", "grpc.reflection.v1alpha.ServerReflection"} {
				resp := reflectAsk(t, tc.conn, symbolRequest(sym))
				if len(resp.GetFileDescriptorResponse().GetFileDescriptorProto()) == 0 {
					t.Errorf("describe %s: got %v, want its file", sym, resp.GetErrorResponse())
				}
			}
			for _, sym := range tc.hidden {
				resp := reflectAsk(t, tc.conn, symbolRequest(sym))
				if resp.GetErrorResponse() == nil || codes.Code(resp.GetErrorResponse().GetErrorCode()) != codes.NotFound {
					t.Errorf("describe %s: got %v, want NOT_FOUND", sym, resp)
				}
			}
			for _, file := range []string{"secret.proto", "portico/config/v1/config.proto"} {
				resp := reflectAsk(t, tc.conn, &reflectionpb.ServerReflectionRequest{MessageRequest: &reflectionpb.ServerReflectionRequest_FileByFilename{FileByFilename: file}})
				if resp.GetErrorResponse() == nil {
					t.Errorf("file %s: got it, want NOT_FOUND", file)
				}
			}
		})
	}
}
