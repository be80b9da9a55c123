package webprotocols

import (
	"testing"

	"github.com/portico-gw/portico/catalog"
	_ "github.com/portico-gw/portico/gen/example/bookstore/v1"
	_ "github.com/portico-gw/portico/gen/example/messaging/v1"
	"google.golang.org/genproto/googleapis/api/annotations"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/reflect/protodesc"
	"google.golang.org/protobuf/reflect/protoreflect"
	"google.golang.org/protobuf/types/descriptorpb"
)

// nopBackend serves nothing: the catalog only stores it (a call would panic).
type nopBackend struct{ catalog.Backend }

// wholeCopy is how schemas copied a file before issue 19: the whole file,
// its HTTP rules cleared. The lean copy must describe the same services.
func wholeCopy(t *testing.T, cat *catalog.Catalog, f protoreflect.FileDescriptor) protoreflect.FileDescriptor {
	t.Helper()
	fdp := protodesc.ToFileDescriptorProto(f)
	for _, s := range fdp.GetService() {
		for _, m := range s.GetMethod() {
			if m.Options != nil && proto.HasExtension(m.Options, annotations.E_Http) {
				proto.ClearExtension(m.Options, annotations.E_Http)
			}
		}
	}
	nf, err := protodesc.NewFile(fdp, cat.Files())
	if err != nil {
		t.Fatal(err)
	}
	return nf
}

// TestSchemasMatchWholeCopy holds the services schemas gives vanguard
// against the whole-file copy they replace: the same methods, shapes,
// message types and idempotency, and no HTTP rule.
func TestSchemasMatchWholeCopy(t *testing.T) {
	cat, err := catalog.New(catalog.Options{APIs: []catalog.API{
		{Where: "apis[0]", Services: []string{"example.bookstore.v1.BookstoreService"}, Backend: nopBackend{}},
		{Where: "apis[1]", Services: []string{"example.messaging.v1.MessagingService"}, Backend: nopBackend{}},
	}})
	if err != nil {
		t.Fatal(err)
	}
	got, err := schemas(cat)
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != len(cat.Services()) {
		t.Fatalf("schemas: got %d services, want %d", len(got), len(cat.Services()))
	}
	idempotent := 0
	for i, sd := range cat.Services() {
		want := wholeCopy(t, cat, sd.ParentFile()).Services().ByName(sd.Name())
		lean := got[i]
		if lean.FullName() != want.FullName() || lean.ParentFile().Path() != want.ParentFile().Path() {
			t.Errorf("service %d: got %s in %s, want %s in %s", i, lean.FullName(), lean.ParentFile().Path(), want.FullName(), want.ParentFile().Path())
		}
		if lean.Methods().Len() != want.Methods().Len() {
			t.Fatalf("%s: got %d methods, want %d", sd.FullName(), lean.Methods().Len(), want.Methods().Len())
		}
		for j := range want.Methods().Len() {
			g, w := lean.Methods().Get(j), want.Methods().Get(j)
			if g.FullName() != w.FullName() || g.Input().FullName() != w.Input().FullName() || g.Output().FullName() != w.Output().FullName() ||
				g.IsStreamingClient() != w.IsStreamingClient() || g.IsStreamingServer() != w.IsStreamingServer() {
				t.Errorf("method %d: got %s(%s) %s stream %v/%v, want %s(%s) %s stream %v/%v", j,
					g.FullName(), g.Input().FullName(), g.Output().FullName(), g.IsStreamingClient(), g.IsStreamingServer(),
					w.FullName(), w.Input().FullName(), w.Output().FullName(), w.IsStreamingClient(), w.IsStreamingServer())
			}
			gl := g.Options().(*descriptorpb.MethodOptions).GetIdempotencyLevel()
			wl := w.Options().(*descriptorpb.MethodOptions).GetIdempotencyLevel()
			if gl != wl {
				t.Errorf("%s: got idempotency %v, want %v", g.FullName(), gl, wl)
			}
			if gl == descriptorpb.MethodOptions_NO_SIDE_EFFECTS {
				idempotent++
			}
			if proto.HasExtension(g.Options(), annotations.E_Http) || len(g.Options().ProtoReflect().GetUnknown()) > 0 {
				t.Errorf("%s: the copy has an HTTP rule, want none (vanguard would route it)", g.FullName())
			}
		}
	}
	if idempotent == 0 {
		t.Error("no NO_SIDE_EFFECTS method among the services: the test checks nothing of Connect's GET")
	}
}
