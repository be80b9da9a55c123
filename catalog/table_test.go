package catalog

import (
	"context"
	"encoding/json"
	"errors"
	"reflect"
	"testing"

	_ "github.com/portico-gw/portico/gen/example/bookstore/v1" // the compiled-in bookstore
	"google.golang.org/grpc"
	"google.golang.org/protobuf/proto"
)

// tableBackend stands in for an integration; the route table never calls it.
type tableBackend struct{}

func (tableBackend) Unary(context.Context, *Method, proto.Message) (proto.Message, error) {
	return nil, errors.New("not called")
}

func (tableBackend) Stream(context.Context, *Method, grpc.ServerStream) error {
	return errors.New("not called")
}

func tableCatalog(t *testing.T, defaults bool) *Catalog {
	t.Helper()
	c, err := New(Options{APIs: []API{{
		Where:           "apis[0]",
		Services:        []string{"example.bookstore.v1.BookstoreService"},
		Backend:         tableBackend{},
		BackendName:     "books",
		DefaultBindings: defaults,
	}}})
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func TestRouteTable(t *testing.T) {
	c := tableCatalog(t, false)
	rows := RouteTable(c)
	const svc = "/example.bookstore.v1.BookstoreService/"
	byMethod := map[string][]RouteRow{}
	for _, r := range rows {
		byMethod[r.GRPCMethod] = append(byMethod[r.GRPCMethod], r)
	}
	// Every method is listed, bound or not.
	if len(byMethod) != len(c.methods) {
		t.Errorf("RouteTable lists %d methods, want all %d", len(byMethod), len(c.methods))
	}
	for _, tc := range []struct {
		method string
		want   RouteRow
	}{
		{"GetShelf", RouteRow{HTTPMethod: "GET", Path: "/v1/shelves/{shelf}", Kind: KindREST, Streaming: "unary"}},
		{"WatchBooks", RouteRow{HTTPMethod: "GET", Path: "/v1/{parent=shelves/*}/books:watch", Kind: KindREST, Streaming: "server"}},
		{"ImportBooks", RouteRow{HTTPMethod: "POST", Path: "/v1/books:import", Kind: KindREST, Streaming: "client"}},
		{"LookupBooks", RouteRow{HTTPMethod: "POST", Path: "/v1/books:lookup", Kind: KindREST, Streaming: "bidi"}},
		// No annotation (its rule lives in a rules file) and no default
		// bindings: gRPC only, said so.
		{"Reindex", RouteRow{Kind: KindGRPCOnly, Streaming: "unary"}},
		{"GetShelfStats", RouteRow{Kind: KindGRPCOnly, Streaming: "unary"}},
	} {
		got := byMethod[svc+tc.method]
		want := tc.want
		want.GRPCMethod, want.Integration = svc+tc.method, "books"
		if len(got) != 1 || !reflect.DeepEqual(got[0], want) {
			t.Errorf("rows of %s: got %+v, want [%+v]", tc.method, got, want)
		}
	}
	// REST rows first, by path; gRPC-only rows last, by method.
	seenGRPCOnly := false
	for i, r := range rows {
		if r.Kind == KindGRPCOnly {
			seenGRPCOnly = true
			if i > 0 && rows[i-1].Kind == KindGRPCOnly && rows[i-1].GRPCMethod > r.GRPCMethod {
				t.Errorf("gRPC-only rows out of order: %s before %s", rows[i-1].GRPCMethod, r.GRPCMethod)
			}
			continue
		}
		if seenGRPCOnly {
			t.Errorf("REST row %+v after a gRPC-only row", r)
		}
		if i > 0 && rows[i-1].Path > r.Path {
			t.Errorf("REST rows out of order: %s before %s", rows[i-1].Path, r.Path)
		}
	}
}

func TestRouteTableDefaultBindings(t *testing.T) {
	rows := RouteTable(tableCatalog(t, true))
	var found bool
	for _, r := range rows {
		if r.Kind == KindGRPCOnly {
			t.Errorf("with default_bindings, got a gRPC-only row %+v", r)
		}
		if r.GRPCMethod == "/example.bookstore.v1.BookstoreService/Reindex" {
			found = true
			want := RouteRow{HTTPMethod: "POST", Path: "/example.bookstore.v1.BookstoreService/Reindex",
				GRPCMethod: r.GRPCMethod, Integration: "books", Kind: KindREST, Streaming: "unary", DefaultBinding: true}
			if !reflect.DeepEqual(r, want) {
				t.Errorf("Reindex row: got %+v, want %+v", r, want)
			}
		}
	}
	if !found {
		t.Error("no row for Reindex")
	}
}

func TestRouteRowJSON(t *testing.T) {
	got, err := json.Marshal([]RouteRow{
		{HTTPMethod: "GET", Path: "/v1/x", GRPCMethod: "/p.S/M", Integration: "b", Kind: KindREST, Streaming: "unary"},
		{GRPCMethod: "/p.S/N", Integration: "b", Kind: KindGRPCOnly, Streaming: "bidi"},
	})
	if err != nil {
		t.Fatal(err)
	}
	want := `[{"http_method":"GET","path":"/v1/x","grpc_method":"/p.S/M","integration":"b","kind":"rest","streaming":"unary"},` +
		`{"grpc_method":"/p.S/N","integration":"b","kind":"grpc-only","streaming":"bidi"}]`
	if string(got) != want {
		t.Errorf("JSON:\ngot  %s\nwant %s", got, want)
	}
}
