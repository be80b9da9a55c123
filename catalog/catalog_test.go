package catalog

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"testing"
	"unsafe"

	bookstorev1 "github.com/portico-gw/portico/gen/example/bookstore/v1"
	_ "github.com/portico-gw/portico/gen/example/messaging/v1" // linked: a service that exists but is not exposed
	"google.golang.org/genproto/googleapis/api/annotations"
	"google.golang.org/grpc"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/reflect/protoregistry"
	"google.golang.org/protobuf/types/descriptorpb"
)

const (
	bookstoreService = "example.bookstore.v1.BookstoreService"
	messagingService = "example.messaging.v1.MessagingService"
)

// fakeBackend is a Backend that is never called: the catalog only stores it.
type fakeBackend struct{}

func (*fakeBackend) Unary(context.Context, *Method, proto.Message) (proto.Message, error) {
	return nil, fmt.Errorf("not called in catalog tests")
}

func (*fakeBackend) Stream(context.Context, *Method, grpc.ServerStream) error {
	return fmt.Errorf("not called in catalog tests")
}

func bookstoreAPI(b Backend) API {
	return API{Where: "apis[0]", Services: []string{bookstoreService}, Backend: b, BackendName: "books"}
}

// ruleSet makes Rules as if read from "rules.yaml" (http_rules[0]), one
// rule a line in selector order.
func ruleSet(m map[string]*annotations.HttpRule) Rules {
	sels := make([]string, 0, len(m))
	for sel := range m {
		sels = append(sels, sel)
	}
	slices.Sort(sels)
	out := Rules{}
	for i, sel := range sels {
		out[sel] = &Rule{HTTP: m[sel], Field: "http_rules[0]", File: "rules.yaml", Line: i + 1, Column: 3}
	}
	return out
}

func mustNew(t *testing.T, opts Options) *Catalog {
	t.Helper()
	c, err := New(opts)
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	return c
}

func method(t *testing.T, c *Catalog, name string) *Method {
	t.Helper()
	m, ok := c.methods["/"+bookstoreService+"/"+name]
	if !ok {
		t.Fatalf("method %s not in the catalog", name)
	}
	return m
}

// describe renders bindings as "GET /v1/x body=b response_body=r" lines,
// with " default" for a default binding.
func describe(bs []*Binding) []string {
	out := []string{}
	for _, b := range bs {
		s := b.HTTPMethod + " " + b.Template.Raw
		if b.Body != "" {
			s += " body=" + b.Body
		}
		if b.ResponseBody != "" {
			s += " response_body=" + b.ResponseBody
		}
		if b.Default {
			s += " default"
		}
		out = append(out, s)
	}
	return out
}

func TestNewCompiledIn(t *testing.T) {
	backend := &fakeBackend{}
	c := mustNew(t, Options{APIs: []API{bookstoreAPI(backend)}})

	sd := bookstorev1.File_example_bookstore_v1_bookstore_proto.Services().ByName("BookstoreService")
	if len(c.services) != 1 || c.services[0] != sd {
		t.Fatalf("got services %v, want [%s]", c.services, sd.FullName())
	}
	if c.files != protoregistry.GlobalFiles {
		t.Errorf("got Files %T, want protoregistry.GlobalFiles when Options.Files is nil", c.files)
	}
	if got, want := len(c.methods), sd.Methods().Len(); got != want || want != 17 {
		t.Errorf("got %d methods, want %d (17)", got, want)
	}
	for i := 0; i < sd.Methods().Len(); i++ {
		md := sd.Methods().Get(i)
		full := "/" + bookstoreService + "/" + string(md.Name())
		m, ok := c.methods[full]
		if !ok {
			t.Errorf("method %s missing", full)
			continue
		}
		if m.fullMethod != full {
			t.Errorf("%s: got FullMethod %q", full, m.fullMethod)
		}
		if m.desc != md {
			t.Errorf("%s: got Desc %v, want the linked descriptor", full, m.desc.FullName())
		}
		if m.backend != backend || m.backendName != "books" {
			t.Errorf("%s: got backend %v %q, want the API's", full, m.backend, m.backendName)
		}
		if m.unaryInfo.FullMethod != full || m.unaryInfo.Server != m {
			t.Errorf("%s: UnaryInfo %+v does not point back at the method", full, m.unaryInfo)
		}
		if m.streamInfo.FullMethod != full || m.streamInfo.IsClientStream != md.IsStreamingClient() || m.streamInfo.IsServerStream != md.IsStreamingServer() {
			t.Errorf("%s: got StreamInfo %+v", full, m.streamInfo)
		}
		want := grpc.StreamDesc{StreamName: string(md.Name()), ClientStreams: md.IsStreamingClient(), ServerStreams: md.IsStreamingServer()}
		if m.streamDesc.StreamName != want.StreamName || m.streamDesc.ClientStreams != want.ClientStreams || m.streamDesc.ServerStreams != want.ServerStreams {
			t.Errorf("%s: got StreamDesc %+v, want %+v", full, m.streamDesc, want)
		}
		if m.input.Descriptor().FullName() != md.Input().FullName() || m.output.Descriptor().FullName() != md.Output().FullName() {
			t.Errorf("%s: got types %s -> %s", full, m.input.Descriptor().FullName(), m.output.Descriptor().FullName())
		}
	}

	streaming := map[string]bool{"WatchBooks": true, "ImportBooks": true, "LookupBooks": true, "GetShelf": false, "ListBooks": false}
	for name, want := range streaming {
		if got := method(t, c, name).Streaming(); got != want {
			t.Errorf("%s.Streaming(): got %v, want %v", name, got, want)
		}
	}
	// The generated types are used for a compiled-in API.
	if _, ok := method(t, c, "ListBooks").input.New().Interface().(*bookstorev1.ListBooksRequest); !ok {
		t.Errorf("got input %T, want *bookstorev1.ListBooksRequest", method(t, c, "ListBooks").input.New().Interface())
	}
	if _, ok := method(t, c, "ListBooks").output.New().Interface().(*bookstorev1.ListBooksResponse); !ok {
		t.Errorf("got output %T, want *bookstorev1.ListBooksResponse", method(t, c, "ListBooks").output.New().Interface())
	}
}

func TestMethodList(t *testing.T) {
	c := mustNew(t, Options{APIs: []API{
		bookstoreAPI(&fakeBackend{}),
		{Where: "apis[1]", Services: []string{messagingService}, Backend: &fakeBackend{}},
	}})
	list := c.MethodList()
	if len(list) != len(c.methods) {
		t.Fatalf("got %d methods, want %d", len(list), len(c.methods))
	}
	if !slices.IsSortedFunc(list, func(a, b *Method) int { return strings.Compare(a.fullMethod, b.fullMethod) }) {
		t.Error("got methods out of order, want sorted by FullMethod")
	}
	for _, m := range list {
		if c.methods[m.fullMethod] != m {
			t.Errorf("%s: listed method is not the catalog's", m.fullMethod)
		}
	}
	// The order is kept from the build: a caller's edit of its list must
	// not reach the next caller's.
	first := list[0]
	list[0] = nil
	if got := c.MethodList()[0]; got != first {
		t.Errorf("MethodList after a caller changed its copy: got first %v, want %s", got, first.fullMethod)
	}
	if len(c.services) != 2 || c.services[0].FullName() != bookstoreService || c.services[1].FullName() != messagingService {
		t.Errorf("got services %v, want bookstore then messaging (config order)", c.services)
	}
}

func TestNewEmpty(t *testing.T) {
	c := mustNew(t, Options{})
	if len(c.methods) != 0 || len(c.services) != 0 || len(c.MethodList()) != 0 {
		t.Errorf("got %d methods and %d services, want none", len(c.methods), len(c.services))
	}
}

// TestOriginWordsShared: the methods of a file without source positions
// share one string for their bindings' origin (a string a route before).
func TestOriginWordsShared(t *testing.T) {
	fdp := annotatedFile(&annotations.HttpRule{Pattern: &annotations.HttpRule_Get{Get: "/v1/a/{text}"}}, false)
	second := proto.Clone(fdp.Service[0].Method[0]).(*descriptorpb.MethodDescriptorProto)
	second.Name = proto.String("Pong")
	proto.SetExtension(second.Options, annotations.E_Http, &annotations.HttpRule{Pattern: &annotations.HttpRule_Get{Get: "/v1/b/{text}"}})
	fdp.Service[0].Method = append(fdp.Service[0].Method, second)
	c := mustNew(t, Options{Files: registry(t, fdp), APIs: []API{{Where: "apis[0]", Services: []string{"portico.test.v1.PingService"}, Backend: &fakeBackend{}}}})
	a := c.Method("/portico.test.v1.PingService/Ping").Bindings()[0].Origin.Desc
	b := c.Method("/portico.test.v1.PingService/Pong").Bindings()[0].Origin.Desc
	if a != "google.api.http annotation in portico/test/v1/ping.proto" || a != b {
		t.Fatalf("origins: got %q and %q, want both the annotation in ping.proto", a, b)
	}
	if unsafe.StringData(a) != unsafe.StringData(b) {
		t.Error("origins: got two copies of the same words, want one string")
	}
}
