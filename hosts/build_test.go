package hosts_test

import (
	"context"
	"testing"

	"github.com/portico-gw/portico/call"
	"github.com/portico-gw/portico/catalog"
	"github.com/portico-gw/portico/config"
	configv1 "github.com/portico-gw/portico/gen/portico/config/v1"
	"github.com/portico-gw/portico/hosts"
	"github.com/portico-gw/portico/pipeline"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/proto"

	_ "github.com/portico-gw/portico/gen/example/bookstore/v1" // the bookstore's descriptors
)

type nobackend struct{}

func (nobackend) Unary(context.Context, *catalog.Method, proto.Message) (proto.Message, error) {
	return nil, status.Error(codes.Unavailable, "none")
}

func (nobackend) Stream(context.Context, *catalog.Method, grpc.ServerStream) error {
	return status.Error(codes.Unavailable, "none")
}

func TestBuild(t *testing.T) {
	none, err := hosts.Build(pipeline.Env{Config: &config.File{Config: &configv1.Config{Apis: []*configv1.Api{{}}}}})
	if err != nil || none != nil {
		t.Errorf("no API with hosts: got %v, %v; want no policy", none, err)
	}
	withHosts := &configv1.Api{Hosts: []string{"api.example.com"}}
	pol, err := hosts.Build(pipeline.Env{Config: &config.File{Config: &configv1.Config{Apis: []*configv1.Api{withHosts}}}})
	if err != nil || pol == nil {
		t.Fatalf("an API with hosts: got %v, %v; want a policy", pol, err)
	}
	cat, err := catalog.New(catalog.Options{APIs: []catalog.API{{Where: "apis[0]", Services: []string{"example.bookstore.v1.BookstoreService"},
		Backend: nobackend{}, Settings: withHosts}}})
	if err != nil {
		t.Fatal(err)
	}
	m := cat.Method("/example.bookstore.v1.BookstoreService/GetShelf")
	st, err := pol.Stage(m)
	if err != nil || st.Early == nil {
		t.Fatalf("Stage: got %+v, %v; want an early gate", st, err)
	}
	for _, tc := range []struct {
		door      call.Door
		authority string
		want      codes.Code
	}{
		{call.GRPC, "api.example.com:443", codes.OK},
		{call.GRPC, "other.example.com", codes.Unimplemented},
		{call.REST, "other.example.com", codes.OK}, // the REST door routes by Host
	} {
		_, err := st.Early(context.Background(), &call.Info{Door: tc.door, Authority: tc.authority})
		if status.Code(err) != tc.want {
			t.Errorf("%v call for %s: got %v, want %v", tc.door, tc.authority, err, tc.want)
		}
	}
}
