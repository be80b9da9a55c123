package catalog

// APIs known from descriptors only, and the google.api.http annotations
// they carry.

import (
	"slices"
	"strings"
	"testing"

	"google.golang.org/genproto/googleapis/api/annotations"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/reflect/protodesc"
	"google.golang.org/protobuf/reflect/protoreflect"
	"google.golang.org/protobuf/reflect/protoregistry"
	"google.golang.org/protobuf/types/descriptorpb"
)

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
	m, ok := c.methods["/portico.test.v1.PingService/Ping"]
	if !ok {
		t.Fatalf("got methods %v, want /portico.test.v1.PingService/Ping", c.MethodList())
	}
	if got, want := describe(m.bindings), []string{"GET /v1/ping/{text}"}; !slices.Equal(got, want) {
		t.Errorf("got %q, want %q", got, want)
	}
	if c.files != files {
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
	if got, want := describe(c.methods["/portico.test.v1.PingService/Ping"].bindings), []string{"PUT /v1/ping body=*"}; !slices.Equal(got, want) {
		t.Errorf("got %q, want %q", got, want)
	}
}
