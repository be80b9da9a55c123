package admin_test

import (
	"context"
	"testing"

	"github.com/portico-gw/portico/admin"
	"github.com/portico-gw/portico/catalog"
	adminv1 "github.com/portico-gw/portico/gen/portico/admin/v1"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/dynamicpb"
)

type routesOnly struct {
	adminv1.UnimplementedAdminServer
	got chan any
}

func (r routesOnly) ListRoutes(_ context.Context, req *adminv1.ListRoutesRequest) (*adminv1.ListRoutesResponse, error) {
	r.got <- req
	return &adminv1.ListRoutesResponse{Routes: []*adminv1.Route{{Pattern: "/x"}}}, nil
}

func adminMethod(t *testing.T, name string) *catalog.Method {
	t.Helper()
	b := admin.NewInProcess(&adminv1.Admin_ServiceDesc, routesOnly{})
	cat, err := catalog.New(catalog.Options{APIs: []catalog.API{{Where: "admin", Services: []string{"portico.admin.v1.Admin"}, Backend: b, BackendName: "admin"}}})
	if err != nil {
		t.Fatal(err)
	}
	m := cat.Methods()["/portico.admin.v1.Admin/"+name]
	if m == nil {
		t.Fatalf("no method %s", name)
	}
	return m
}

func TestInProcessCallsTheImplementation(t *testing.T) {
	impl := routesOnly{got: make(chan any, 1)}
	b := admin.NewInProcess(&adminv1.Admin_ServiceDesc, impl)
	m := adminMethod(t, "ListRoutes")
	// The generated request type, and a descriptor-only one (dynamicpb).
	for _, req := range []proto.Message{&adminv1.ListRoutesRequest{}, dynamicpb.NewMessage(m.Desc().Input())} {
		resp, err := b.Unary(context.Background(), m, req)
		if err != nil {
			t.Fatalf("request %T: %v", req, err)
		}
		if got := resp.(*adminv1.ListRoutesResponse).GetRoutes()[0].GetPattern(); got != "/x" {
			t.Errorf("request %T: got %q, want the implementation's answer /x", req, got)
		}
		if _, ok := (<-impl.got).(*adminv1.ListRoutesRequest); !ok {
			t.Errorf("request %T: the implementation did not get its own request type", req)
		}
	}
	_, err := b.Unary(context.Background(), adminMethod(t, "ListApis"), &adminv1.ListApisRequest{})
	if status.Code(err) != codes.Unimplemented {
		t.Errorf("a method the implementation leaves out: got %v, want UNIMPLEMENTED", err)
	}
}
