package catalog

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"testing"

	bookstorev1 "github.com/portico-gw/portico/gen/example/bookstore/v1"
	_ "github.com/portico-gw/portico/gen/example/messaging/v1" // linked: a service that exists but is not exposed
	"google.golang.org/genproto/googleapis/api/annotations"
	"google.golang.org/grpc"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/reflect/protodesc"
	"google.golang.org/protobuf/reflect/protoreflect"
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
	m, ok := c.Methods["/"+bookstoreService+"/"+name]
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
	if len(c.Services) != 1 || c.Services[0] != sd {
		t.Fatalf("got services %v, want [%s]", c.Services, sd.FullName())
	}
	if c.Files != protoregistry.GlobalFiles {
		t.Errorf("got Files %T, want protoregistry.GlobalFiles when Options.Files is nil", c.Files)
	}
	if got, want := len(c.Methods), sd.Methods().Len(); got != want || want != 17 {
		t.Errorf("got %d methods, want %d (17)", got, want)
	}
	for i := 0; i < sd.Methods().Len(); i++ {
		md := sd.Methods().Get(i)
		full := "/" + bookstoreService + "/" + string(md.Name())
		m, ok := c.Methods[full]
		if !ok {
			t.Errorf("method %s missing", full)
			continue
		}
		if m.FullMethod != full {
			t.Errorf("%s: got FullMethod %q", full, m.FullMethod)
		}
		if m.Desc != md {
			t.Errorf("%s: got Desc %v, want the linked descriptor", full, m.Desc.FullName())
		}
		if m.Backend != backend || m.BackendName != "books" {
			t.Errorf("%s: got backend %v %q, want the API's", full, m.Backend, m.BackendName)
		}
		if m.UnaryInfo.FullMethod != full || MethodFromInfo(m.UnaryInfo.Server) != m {
			t.Errorf("%s: UnaryInfo %+v does not point back at the method", full, m.UnaryInfo)
		}
		if m.StreamInfo.FullMethod != full || m.StreamInfo.IsClientStream != md.IsStreamingClient() || m.StreamInfo.IsServerStream != md.IsStreamingServer() {
			t.Errorf("%s: got StreamInfo %+v", full, m.StreamInfo)
		}
		want := grpc.StreamDesc{StreamName: string(md.Name()), ClientStreams: md.IsStreamingClient(), ServerStreams: md.IsStreamingServer()}
		if m.StreamDesc.StreamName != want.StreamName || m.StreamDesc.ClientStreams != want.ClientStreams || m.StreamDesc.ServerStreams != want.ServerStreams {
			t.Errorf("%s: got StreamDesc %+v, want %+v", full, m.StreamDesc, want)
		}
		if m.Input.Descriptor().FullName() != md.Input().FullName() || m.Output.Descriptor().FullName() != md.Output().FullName() {
			t.Errorf("%s: got types %s -> %s", full, m.Input.Descriptor().FullName(), m.Output.Descriptor().FullName())
		}
	}

	streaming := map[string]bool{"WatchBooks": true, "ImportBooks": true, "LookupBooks": true, "GetShelf": false, "ListBooks": false}
	for name, want := range streaming {
		if got := method(t, c, name).Streaming(); got != want {
			t.Errorf("%s.Streaming(): got %v, want %v", name, got, want)
		}
	}
	// The generated types are used for a compiled-in API.
	if _, ok := method(t, c, "ListBooks").Input.New().Interface().(*bookstorev1.ListBooksRequest); !ok {
		t.Errorf("got input %T, want *bookstorev1.ListBooksRequest", method(t, c, "ListBooks").Input.New().Interface())
	}
	if _, ok := method(t, c, "ListBooks").Output.New().Interface().(*bookstorev1.ListBooksResponse); !ok {
		t.Errorf("got output %T, want *bookstorev1.ListBooksResponse", method(t, c, "ListBooks").Output.New().Interface())
	}
}

func TestBindingsFromAnnotations(t *testing.T) {
	c := mustNew(t, Options{APIs: []API{bookstoreAPI(&fakeBackend{})}})
	tests := []struct {
		method string
		want   []string
	}{
		{"ListShelves", []string{"GET /v1/shelves"}},
		{"CreateShelf", []string{"POST /v1/shelves body=shelf"}},
		{"DeleteShelf", []string{"DELETE /v1/shelves/{shelf}"}},
		{"ListBooks", []string{"GET /v1/{parent=shelves/*}/books", "GET /v1/{parent=shelves/*}/books:titles response_body=books"}},
		{"GetBook", []string{"GET /v1/{name=shelves/*/books/*}", "GET /v1/books/{name=**}"}},
		{"UpdateBook", []string{"PATCH /v1/{book.name=shelves/*/books/*} body=book"}},
		{"MoveBook", []string{"POST /v1/{name=shelves/*/books/*}:move body=*"}},
		{"UploadBookCover", []string{"PUT /v1/{name=shelves/*/books/*}/cover body=cover"}},
		{"WatchBooks", []string{"GET /v1/{parent=shelves/*}/books:watch"}},
		{"ImportBooks", []string{"POST /v1/books:import body=*"}},
		{"LookupBooks", []string{"POST /v1/books:lookup body=*"}},
		// No annotation and no default bindings asked: gRPC only.
		{"GetShelfStats", []string{}},
		{"Reindex", []string{}},
	}
	for _, tt := range tests {
		t.Run(tt.method, func(t *testing.T) {
			m := method(t, c, tt.method)
			if got := describe(m.Bindings); !slices.Equal(got, tt.want) {
				t.Errorf("got %q, want %q", got, tt.want)
			}
			for _, b := range m.Bindings {
				if b.Method != m {
					t.Errorf("binding %s %s: Method is not the method bound", b.HTTPMethod, b.Template.Raw)
				}
			}
		})
	}
	// The template is parsed, not only stored.
	tpl := method(t, c, "MoveBook").Bindings[0].Template
	if tpl.Verb != "move" || len(tpl.Vars) != 1 || !slices.Equal(tpl.Vars[0].FieldPath, []string{"name"}) {
		t.Errorf("MoveBook template: got verb %q vars %+v, want verb move and one variable name", tpl.Verb, tpl.Vars)
	}
}

func TestDefaultBindings(t *testing.T) {
	api := bookstoreAPI(&fakeBackend{})
	api.DefaultBindings = true
	c := mustNew(t, Options{APIs: []API{api}})
	tests := []struct {
		method string
		want   []string
	}{
		{"Reindex", []string{"POST /example.bookstore.v1.BookstoreService/Reindex body=* default"}},
		{"GetShelfStats", []string{"POST /example.bookstore.v1.BookstoreService/GetShelfStats body=* default"}},
		// A method with an annotation keeps it and gets no default binding.
		{"ListShelves", []string{"GET /v1/shelves"}},
		{"GetBook", []string{"GET /v1/{name=shelves/*/books/*}", "GET /v1/books/{name=**}"}},
	}
	for _, tt := range tests {
		if got := describe(method(t, c, tt.method).Bindings); !slices.Equal(got, tt.want) {
			t.Errorf("%s: got %q, want %q", tt.method, got, tt.want)
		}
	}
}

func TestHTTPRulesFromConfig(t *testing.T) {
	rules := map[string]*annotations.HttpRule{
		// A method without an annotation gets the rule.
		bookstoreService + ".GetShelfStats": {Pattern: &annotations.HttpRule_Get{Get: "/v1/shelves/{shelf}/stats"}},
		// A rule replaces the annotation entirely, additional bindings
		// included.
		bookstoreService + ".GetBook": {
			Pattern: &annotations.HttpRule_Post{Post: "/v2/books:get"},
			Body:    "*",
			AdditionalBindings: []*annotations.HttpRule{
				{Pattern: &annotations.HttpRule_Custom{Custom: &annotations.CustomHttpPattern{Kind: "HEAD", Path: "/v2/{name=shelves/*/books/*}"}}},
			},
		},
	}
	for _, defaults := range []bool{false, true} {
		t.Run(fmt.Sprintf("default bindings %v", defaults), func(t *testing.T) {
			api := bookstoreAPI(&fakeBackend{})
			api.DefaultBindings = defaults
			c := mustNew(t, Options{Rules: ruleSet(rules), APIs: []API{api}})
			tests := []struct {
				method string
				want   []string
			}{
				{"GetShelfStats", []string{"GET /v1/shelves/{shelf}/stats"}},
				{"GetBook", []string{"POST /v2/books:get body=*", "HEAD /v2/{name=shelves/*/books/*}"}},
				{"GetShelf", []string{"GET /v1/shelves/{shelf}"}},
			}
			for _, tt := range tests {
				if got := describe(method(t, c, tt.method).Bindings); !slices.Equal(got, tt.want) {
					t.Errorf("%s: got %q, want %q", tt.method, got, tt.want)
				}
			}
		})
	}
}

// TestServerStreamingAnyBody: only client streaming constrains the body.
func TestServerStreamingAnyBody(t *testing.T) {
	rules := map[string]*annotations.HttpRule{
		bookstoreService + ".WatchBooks": {Pattern: &annotations.HttpRule_Post{Post: "/v1/watch"}, Body: "parent"},
	}
	c := mustNew(t, Options{Rules: ruleSet(rules), APIs: []API{bookstoreAPI(&fakeBackend{})}})
	if got, want := describe(method(t, c, "WatchBooks").Bindings), []string{"POST /v1/watch body=parent"}; !slices.Equal(got, want) {
		t.Errorf("got %q, want %q", got, want)
	}
}

func TestNewErrors(t *testing.T) {
	b := &fakeBackend{}
	rule := func(sel string, r *annotations.HttpRule) Rules {
		return ruleSet(map[string]*annotations.HttpRule{bookstoreService + "." + sel: r})
	}
	get := func(path string) *annotations.HttpRule {
		return &annotations.HttpRule{Pattern: &annotations.HttpRule_Get{Get: path}}
	}
	post := func(path, body string) *annotations.HttpRule {
		return &annotations.HttpRule{Pattern: &annotations.HttpRule_Post{Post: path}, Body: body}
	}
	tests := []struct {
		name string
		opts Options
		want []string // the error's lines
	}{
		{
			name: "nil backend",
			opts: Options{APIs: []API{{Where: "apis[0]", Services: []string{bookstoreService}}}},
			want: []string{"apis[0].integration: no backend"},
		},
		{
			name: "service missing",
			opts: Options{APIs: []API{{Where: "apis[2]", Services: []string{bookstoreService, "example.bookstore.v1.NoSuchService"}, Backend: b}}},
			want: []string{`apis[2].services[1]: service "example.bookstore.v1.NoSuchService" not found in the descriptors`},
		},
		{
			name: "not a service",
			opts: Options{APIs: []API{{Where: "apis[0]", Services: []string{"example.bookstore.v1.Book"}, Backend: b}}},
			want: []string{`apis[0].services[0]: "example.bookstore.v1.Book" is a message, not a service`},
		},
		{
			name: "exposed by two apis",
			opts: Options{APIs: []API{
				{Where: "apis[0]", Services: []string{bookstoreService}, Backend: b},
				{Where: "apis[1]", Services: []string{messagingService, bookstoreService}, Backend: b},
			}},
			want: []string{`apis[1].services[1]: service "example.bookstore.v1.BookstoreService" is already exposed by apis[0].services[0]`},
		},
		{
			name: "exposed twice by one api",
			opts: Options{APIs: []API{{Where: "apis[0]", Services: []string{bookstoreService, bookstoreService}, Backend: b}}},
			want: []string{`apis[0].services[1]: service "example.bookstore.v1.BookstoreService" is already exposed by apis[0].services[0]`},
		},
		{
			name: "selector naming no method",
			opts: Options{Rules: rule("NoSuchMethod", get("/x")), APIs: []API{bookstoreAPI(b)}},
			want: []string{`rules.yaml:1:3: http_rules[0]: selector "example.bookstore.v1.BookstoreService.NoSuchMethod" names no method in the descriptors`},
		},
		{
			name: "misspelt selector",
			opts: Options{Rules: rule("GetShelfs", get("/x")), APIs: []API{bookstoreAPI(b)}},
			want: []string{`rules.yaml:1:3: http_rules[0]: selector "example.bookstore.v1.BookstoreService.GetShelfs" names no method in the descriptors (did you mean "example.bookstore.v1.BookstoreService.GetShelf"?)`},
		},
		{
			name: "selector naming a service",
			opts: Options{Rules: ruleSet(map[string]*annotations.HttpRule{bookstoreService: get("/x")}), APIs: []API{bookstoreAPI(b)}},
			want: []string{`rules.yaml:1:3: http_rules[0]: selector "example.bookstore.v1.BookstoreService" names a service, not a method`},
		},
		{
			name: "selector of a service not exposed, strict",
			opts: Options{
				Rules:  ruleSet(map[string]*annotations.HttpRule{messagingService + ".GetMessage": get("/x")}),
				APIs:   []API{bookstoreAPI(b)},
				Strict: true,
			},
			want: []string{`rules.yaml:1:3: http_rules[0]: selector "example.messaging.v1.MessagingService.GetMessage" names a method of example.messaging.v1.MessagingService, a service that no apis entry exposes: the rule is ignored (strict_routes is set)`},
		},
		{
			name: "service misspelt",
			opts: Options{APIs: []API{{Where: "apis[0]", Services: []string{"example.bookstore.v1.BookstoreServce"}, Backend: b}}},
			want: []string{`apis[0].services[0]: service "example.bookstore.v1.BookstoreServce" not found in the descriptors (did you mean "example.bookstore.v1.BookstoreService"?)`},
		},
		{
			name: "service without its package",
			opts: Options{APIs: []API{{Where: "apis[0]", Services: []string{"BookstoreService"}, Backend: b}}},
			want: []string{`apis[0].services[0]: service "BookstoreService" not found in the descriptors (did you mean "example.bookstore.v1.BookstoreService"?)`},
		},
		{
			name: "custom pattern without kind",
			opts: Options{Rules: rule("GetShelf", &annotations.HttpRule{Pattern: &annotations.HttpRule_Custom{Custom: &annotations.CustomHttpPattern{Path: "/v1/x"}}}), APIs: []API{bookstoreAPI(b)}},
			want: []string{"rules.yaml:1:3: http_rules[0]: rule for method example.bookstore.v1.BookstoreService.GetShelf: custom pattern without a kind"},
		},
		{
			name: "rule without pattern",
			opts: Options{Rules: rule("GetShelf", &annotations.HttpRule{Body: "*"}), APIs: []API{bookstoreAPI(b)}},
			want: []string{"rules.yaml:1:3: http_rules[0]: rule for method example.bookstore.v1.BookstoreService.GetShelf: rule has no pattern (get, put, post, delete, patch or custom)"},
		},
		{
			name: "nested additional_bindings",
			opts: Options{Rules: rule("GetShelf", &annotations.HttpRule{
				Pattern: &annotations.HttpRule_Get{Get: "/v1/a"},
				AdditionalBindings: []*annotations.HttpRule{{
					Pattern:            &annotations.HttpRule_Get{Get: "/v1/b"},
					AdditionalBindings: []*annotations.HttpRule{get("/v1/c")},
				}},
			}), APIs: []API{bookstoreAPI(b)}},
			want: []string{"rules.yaml:1:3: http_rules[0]: rule for method example.bookstore.v1.BookstoreService.GetShelf: additional_bindings[0]: nested additional_bindings are not allowed"},
		},
		{
			name: "bad additional binding",
			opts: Options{Rules: rule("GetShelf", &annotations.HttpRule{
				Pattern:            &annotations.HttpRule_Get{Get: "/v1/a"},
				AdditionalBindings: []*annotations.HttpRule{get("/v1/b"), {}},
			}), APIs: []API{bookstoreAPI(b)}},
			want: []string{"rules.yaml:1:3: http_rules[0]: rule for method example.bookstore.v1.BookstoreService.GetShelf: additional_bindings[1]: rule has no pattern (get, put, post, delete, patch or custom)"},
		},
		{
			name: "client streaming with path variables",
			opts: Options{Rules: rule("ImportBooks", post("/v1/{parent=shelves/*}/books:import", "*")), APIs: []API{bookstoreAPI(b)}},
			want: []string{`rules.yaml:1:3: http_rules[0]: rule for method example.bookstore.v1.BookstoreService.ImportBooks: client-streaming method cannot bind path variables (parent): the request body is the stream of request messages`},
		},
		{
			name: "bidi streaming additional binding with path variables",
			opts: Options{Rules: rule("LookupBooks", &annotations.HttpRule{
				Pattern:            &annotations.HttpRule_Post{Post: "/v1/books:lookup"},
				Body:               "*",
				AdditionalBindings: []*annotations.HttpRule{get("/v1/{name=shelves/*/books/*}:lookup")},
			}), APIs: []API{bookstoreAPI(b)}},
			want: []string{`rules.yaml:1:3: http_rules[0]: rule for method example.bookstore.v1.BookstoreService.LookupBooks: additional_bindings[0]: client-streaming method cannot bind path variables (name): the request body is the stream of request messages`},
		},
		{
			name: "every error at once, sorted",
			opts: Options{
				Rules: rule("NoSuchMethod", get("/x")),
				APIs: []API{
					{Where: "apis[1]", Services: []string{"example.Nope"}, Backend: b},
					{Where: "apis[0]", Services: []string{bookstoreService}},
				},
			},
			want: []string{
				"apis[0].integration: no backend",
				`apis[1].services[0]: service "example.Nope" not found in the descriptors`,
				`rules.yaml:1:3: http_rules[0]: selector "example.bookstore.v1.BookstoreService.NoSuchMethod" names no method in the descriptors`,
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, err := New(tt.opts)
			if err == nil {
				t.Fatalf("got no error, want %q", tt.want)
			}
			if c != nil {
				t.Errorf("got a catalog with the error, want nil")
			}
			if got := errorLines(t, err); !slices.Equal(got, tt.want) {
				t.Errorf("got error lines\n%q\nwant\n%q", got, tt.want)
			}
		})
	}
}

func TestNewBadTemplate(t *testing.T) {
	rules := map[string]*annotations.HttpRule{
		bookstoreService + ".GetShelf": {Pattern: &annotations.HttpRule_Get{Get: "/v1/{shelf"}},
	}
	_, err := New(Options{Rules: ruleSet(rules), APIs: []API{bookstoreAPI(&fakeBackend{})}})
	if err == nil {
		t.Fatal("got no error for an unparsable template")
	}
	if want := `rules.yaml:1:3: http_rules[0]: rule for method example.bookstore.v1.BookstoreService.GetShelf: httprule: template "/v1/{shelf": unclosed "{"`; !strings.HasPrefix(err.Error(), want) {
		t.Errorf("got %q, want prefix %q", err, want)
	}
}

// annotatedFile is a descriptor-only API whose one method carries rule as
// its google.api.http annotation.
func annotatedFile(rule *annotations.HttpRule, clientStreaming bool) *descriptorpb.FileDescriptorProto {
	opts := &descriptorpb.MethodOptions{}
	if rule != nil {
		proto.SetExtension(opts, annotations.E_Http, rule)
	}
	return &descriptorpb.FileDescriptorProto{
		Name:       proto.String("portico/test/v1/ping.proto"),
		Package:    proto.String("portico.test.v1"),
		Syntax:     proto.String("proto3"),
		Dependency: []string{"google/api/annotations.proto"},
		MessageType: []*descriptorpb.DescriptorProto{{
			Name: proto.String("Ping"),
			Field: []*descriptorpb.FieldDescriptorProto{{
				Name: proto.String("text"), JsonName: proto.String("text"), Number: proto.Int32(1),
				Type: descriptorpb.FieldDescriptorProto_TYPE_STRING.Enum(), Label: descriptorpb.FieldDescriptorProto_LABEL_OPTIONAL.Enum(),
			}},
		}},
		Service: []*descriptorpb.ServiceDescriptorProto{{
			Name: proto.String("PingService"),
			Method: []*descriptorpb.MethodDescriptorProto{{
				Name: proto.String("Ping"), InputType: proto.String(".portico.test.v1.Ping"), OutputType: proto.String(".portico.test.v1.Ping"),
				ClientStreaming: proto.Bool(clientStreaming), Options: opts,
			}},
		}},
	}
}

// registry builds a registry holding fdps (dependencies first) and, for
// imports they do not provide, the compiled-in files.
func registry(t *testing.T, fdps ...*descriptorpb.FileDescriptorProto) *protoregistry.Files {
	t.Helper()
	files := &protoregistry.Files{}
	var addGlobal func(fd protoreflect.FileDescriptor)
	addGlobal = func(fd protoreflect.FileDescriptor) {
		if _, err := files.FindFileByPath(fd.Path()); err == nil {
			return
		}
		for i := 0; i < fd.Imports().Len(); i++ {
			addGlobal(fd.Imports().Get(i).FileDescriptor)
		}
		if err := files.RegisterFile(fd); err != nil {
			t.Fatal(err)
		}
	}
	given := map[string]bool{}
	for _, f := range fdps {
		given[f.GetName()] = true
	}
	for _, f := range fdps {
		for _, dep := range f.GetDependency() {
			if given[dep] {
				continue
			}
			fd, err := protoregistry.GlobalFiles.FindFileByPath(dep)
			if err != nil {
				t.Fatal(err)
			}
			addGlobal(fd)
		}
	}
	for _, f := range fdps {
		fd, err := protodesc.NewFile(f, files)
		if err != nil {
			t.Fatal(err)
		}
		if err := files.RegisterFile(fd); err != nil {
			t.Fatal(err)
		}
	}
	return files
}

func TestDescriptorOnlyAPI(t *testing.T) {
	rule := &annotations.HttpRule{Pattern: &annotations.HttpRule_Get{Get: "/v1/ping/{text}"}}
	files := registry(t, annotatedFile(rule, false))
	c := mustNew(t, Options{Files: files, APIs: []API{{Where: "apis[0]", Services: []string{"portico.test.v1.PingService"}, Backend: &fakeBackend{}}}})
	m, ok := c.Methods["/portico.test.v1.PingService/Ping"]
	if !ok {
		t.Fatalf("got methods %v, want /portico.test.v1.PingService/Ping", c.MethodList())
	}
	if got, want := describe(m.Bindings), []string{"GET /v1/ping/{text}"}; !slices.Equal(got, want) {
		t.Errorf("got %q, want %q", got, want)
	}
	if c.Files != files {
		t.Error("got Files other than Options.Files")
	}
	// A compiled-in service is not found in a registry that lacks it.
	_, err := New(Options{Files: files, APIs: []API{bookstoreAPI(&fakeBackend{})}})
	if err == nil || !strings.Contains(err.Error(), "not found in the descriptors") {
		t.Errorf("got %v, want the bookstore not found in Options.Files", err)
	}
}

// TestAnnotationErrors: errors in an annotation name it as the source.
func TestAnnotationErrors(t *testing.T) {
	tests := []struct {
		name   string
		rule   *annotations.HttpRule
		client bool
		want   string
	}{
		{"custom without kind", &annotations.HttpRule{Pattern: &annotations.HttpRule_Custom{Custom: &annotations.CustomHttpPattern{Path: "/v1/ping"}}}, false,
			"apis[0].services[0]: method portico.test.v1.PingService.Ping: google.api.http annotation in portico/test/v1/ping.proto: custom pattern without a kind"},
		{"client streaming path variable", &annotations.HttpRule{Pattern: &annotations.HttpRule_Post{Post: "/v1/ping/{text}"}, Body: "*"}, true,
			`apis[0].services[0]: method portico.test.v1.PingService.Ping: google.api.http annotation in portico/test/v1/ping.proto: client-streaming method cannot bind path variables (text): the request body is the stream of request messages`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			files := registry(t, annotatedFile(tt.rule, tt.client))
			_, err := New(Options{Files: files, APIs: []API{{Where: "apis[0]", Services: []string{"portico.test.v1.PingService"}, Backend: &fakeBackend{}}}})
			if err == nil || err.Error() != tt.want {
				t.Errorf("got %v, want %q", err, tt.want)
			}
		})
	}
}

// TestRuleFixesBadAnnotation: a config rule replaces an annotation, so a
// bad annotation is not checked when a rule overrides it.
func TestRuleFixesBadAnnotation(t *testing.T) {
	bad := &annotations.HttpRule{Pattern: &annotations.HttpRule_Custom{Custom: &annotations.CustomHttpPattern{Path: "/v1/ping"}}}
	files := registry(t, annotatedFile(bad, false))
	c := mustNew(t, Options{
		Files: files,
		Rules: ruleSet(map[string]*annotations.HttpRule{"portico.test.v1.PingService.Ping": {Pattern: &annotations.HttpRule_Put{Put: "/v1/ping"}, Body: "*"}}),
		APIs:  []API{{Where: "apis[0]", Services: []string{"portico.test.v1.PingService"}, Backend: &fakeBackend{}}},
	})
	if got, want := describe(c.Methods["/portico.test.v1.PingService/Ping"].Bindings), []string{"PUT /v1/ping body=*"}; !slices.Equal(got, want) {
		t.Errorf("got %q, want %q", got, want)
	}
}

func TestMethodList(t *testing.T) {
	c := mustNew(t, Options{APIs: []API{
		bookstoreAPI(&fakeBackend{}),
		{Where: "apis[1]", Services: []string{messagingService}, Backend: &fakeBackend{}},
	}})
	list := c.MethodList()
	if len(list) != len(c.Methods) {
		t.Fatalf("got %d methods, want %d", len(list), len(c.Methods))
	}
	if !slices.IsSortedFunc(list, func(a, b *Method) int { return strings.Compare(a.FullMethod, b.FullMethod) }) {
		t.Error("got methods out of order, want sorted by FullMethod")
	}
	for _, m := range list {
		if c.Methods[m.FullMethod] != m {
			t.Errorf("%s: listed method is not the catalog's", m.FullMethod)
		}
	}
	if len(c.Services) != 2 || c.Services[0].FullName() != bookstoreService || c.Services[1].FullName() != messagingService {
		t.Errorf("got services %v, want bookstore then messaging (config order)", c.Services)
	}
}

func TestNewEmpty(t *testing.T) {
	c := mustNew(t, Options{})
	if len(c.Methods) != 0 || len(c.Services) != 0 || len(c.MethodList()) != 0 {
		t.Errorf("got %d methods and %d services, want none", len(c.Methods), len(c.Services))
	}
}

func TestMethodFromInfo(t *testing.T) {
	m := &Method{}
	tests := []struct {
		server any
		want   *Method
	}{
		{m, m},
		{nil, nil},
		{"not a method", nil},
		{&fakeBackend{}, nil},
	}
	for _, tt := range tests {
		if got := MethodFromInfo(tt.server); got != tt.want {
			t.Errorf("MethodFromInfo(%v): got %p, want %p", tt.server, got, tt.want)
		}
	}
}
