package server_test

import (
	"context"
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"buf.build/gen/go/bufbuild/protovalidate/protocolbuffers/go/buf/validate"
	"github.com/portico-gw/portico/catalog"
	"github.com/portico-gw/portico/config"
	configv1 "github.com/portico-gw/portico/gen/portico/config/v1"
	"github.com/portico-gw/portico/server/servertest"
	"github.com/portico-gw/portico/snapshot"
	"google.golang.org/genproto/googleapis/api/annotations"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/reflect/protodesc"
	"google.golang.org/protobuf/reflect/protoreflect"
	"google.golang.org/protobuf/reflect/protoregistry"
	"google.golang.org/protobuf/types/descriptorpb"
	"google.golang.org/protobuf/types/dynamicpb"

	_ "github.com/portico-gw/portico/gen/example/inventory/v1" // linked for the route-conflict case
)

// echoFile is an API that exists only as a descriptor: no Go code is
// generated for it, so the gateway must serve it with dynamicpb.
func echoFile(t *testing.T) *descriptorpb.FileDescriptorProto {
	t.Helper()
	methodOpts := &descriptorpb.MethodOptions{}
	proto.SetExtension(methodOpts, annotations.E_Http, &annotations.HttpRule{
		Pattern: &annotations.HttpRule_Get{Get: "/v1/echo/{text}"},
	})
	textOpts := &descriptorpb.FieldOptions{}
	proto.SetExtension(textOpts, validate.E_Field, &validate.FieldRules{
		Type: &validate.FieldRules_String_{String_: &validate.StringRules{MaxLen: proto.Uint64(10)}},
	})
	return &descriptorpb.FileDescriptorProto{
		Name:       proto.String("example/echo/v1/echo.proto"),
		Package:    proto.String("example.echo.v1"),
		Syntax:     proto.String("proto3"),
		Dependency: []string{"google/api/annotations.proto", "buf/validate/validate.proto"},
		EnumType: []*descriptorpb.EnumDescriptorProto{{
			Name: proto.String("Tone"),
			Value: []*descriptorpb.EnumValueDescriptorProto{
				{Name: proto.String("TONE_UNSPECIFIED"), Number: proto.Int32(0)},
				{Name: proto.String("TONE_LOUD"), Number: proto.Int32(1)},
			},
		}},
		MessageType: []*descriptorpb.DescriptorProto{
			{Name: proto.String("EchoRequest"), Field: []*descriptorpb.FieldDescriptorProto{
				{Name: proto.String("text"), JsonName: proto.String("text"), Number: proto.Int32(1), Type: descriptorpb.FieldDescriptorProto_TYPE_STRING.Enum(), Label: descriptorpb.FieldDescriptorProto_LABEL_OPTIONAL.Enum(), Options: textOpts},
				{Name: proto.String("repeat_count"), JsonName: proto.String("repeatCount"), Number: proto.Int32(2), Type: descriptorpb.FieldDescriptorProto_TYPE_INT32.Enum(), Label: descriptorpb.FieldDescriptorProto_LABEL_OPTIONAL.Enum()},
				{Name: proto.String("tone"), JsonName: proto.String("tone"), Number: proto.Int32(3), Type: descriptorpb.FieldDescriptorProto_TYPE_ENUM.Enum(), TypeName: proto.String(".example.echo.v1.Tone"), Label: descriptorpb.FieldDescriptorProto_LABEL_OPTIONAL.Enum()},
			}},
			{Name: proto.String("EchoResponse"), Field: []*descriptorpb.FieldDescriptorProto{
				{Name: proto.String("text"), JsonName: proto.String("text"), Number: proto.Int32(1), Type: descriptorpb.FieldDescriptorProto_TYPE_STRING.Enum(), Label: descriptorpb.FieldDescriptorProto_LABEL_OPTIONAL.Enum()},
				{Name: proto.String("tone"), JsonName: proto.String("tone"), Number: proto.Int32(2), Type: descriptorpb.FieldDescriptorProto_TYPE_ENUM.Enum(), TypeName: proto.String(".example.echo.v1.Tone"), Label: descriptorpb.FieldDescriptorProto_LABEL_OPTIONAL.Enum()},
			}},
		},
		Service: []*descriptorpb.ServiceDescriptorProto{{
			Name: proto.String("EchoService"),
			Method: []*descriptorpb.MethodDescriptorProto{{
				Name: proto.String("Echo"), InputType: proto.String(".example.echo.v1.EchoRequest"),
				OutputType: proto.String(".example.echo.v1.EchoResponse"), Options: methodOpts,
			}},
		}},
	}
}

// writeDescriptorSet writes fdp and its imports as a FileDescriptorSet,
// as `buf build -o` would.
func writeDescriptorSet(t *testing.T, fdp *descriptorpb.FileDescriptorProto) (string, protoreflect.FileDescriptor) {
	t.Helper()
	fd, err := protodesc.NewFile(fdp, protoregistry.GlobalFiles)
	if err != nil {
		t.Fatal(err)
	}
	set := catalog.DescriptorSet(fd)
	data, err := proto.Marshal(set)
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), "echo.binpb")
	if err := os.WriteFile(path, data, 0o644); err != nil {
		t.Fatal(err)
	}
	return path, fd
}

// startEchoBackend serves EchoService with dynamicpb messages.
func startEchoBackend(t *testing.T, fd protoreflect.FileDescriptor) string {
	t.Helper()
	in := fd.Messages().ByName("EchoRequest")
	out := fd.Messages().ByName("EchoResponse")
	srv := grpc.NewServer(grpc.UnknownServiceHandler(func(_ any, ss grpc.ServerStream) error {
		req := dynamicpb.NewMessage(in)
		if err := ss.RecvMsg(req); err != nil {
			return err
		}
		text := req.Get(in.Fields().ByName("text")).String()
		n := int(req.Get(in.Fields().ByName("repeat_count")).Int())
		if n == 0 {
			n = 1
		}
		resp := dynamicpb.NewMessage(out)
		resp.Set(out.Fields().ByName("text"), protoreflect.ValueOfString(strings.Repeat(text, n)))
		resp.Set(out.Fields().ByName("tone"), req.Get(in.Fields().ByName("tone")))
		return ss.SendMsg(resp)
	}))
	lis, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	go srv.Serve(lis)
	t.Cleanup(srv.Stop)
	return lis.Addr().String()
}

// TestDescriptorOnlyAPI: an API known only from a descriptor set loaded at
// run time is served on both doors, with query enums and validation.
func TestDescriptorOnlyAPI(t *testing.T) {
	setPath, fd := writeDescriptorSet(t, echoFile(t))
	backend := startEchoBackend(t, fd)
	env := servertest.StartGateway(t, backend, servertest.Options{Config: func(c *configv1.Config) {
		c.Descriptors = []string{setPath}
		c.Apis[0].Services = []string{"example.echo.v1.EchoService"}
	}})

	code, body := restGet(t, env.URL+"/v1/echo/ab?repeat_count=3&tone=TONE_LOUD")
	if code != 200 || !strings.Contains(string(body), `"text":"ababab"`) || !strings.Contains(string(body), `"tone":"TONE_LOUD"`) {
		t.Errorf("REST: got %d %s, want ababab and TONE_LOUD", code, body)
	}
	code, body = restGet(t, env.URL+"/v1/echo/ab?tone=TONE_QUIET")
	if code != 400 {
		t.Errorf("unknown enum name of a descriptor-only enum: got %d %s, want 400", code, body)
	}
	code, body = restGet(t, env.URL+"/v1/echo/"+strings.Repeat("x", 11))
	if code != 400 || !strings.Contains(string(body), "BadRequest") {
		t.Errorf("validation from a loaded descriptor: got %d %s, want 400 with BadRequest", code, body)
	}

	// The gRPC door, called with dynamic messages too.
	conn, err := grpc.NewClient(env.Server.GRPCAddr, grpc.WithTransportCredentials(insecure.NewCredentials()))
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	in := fd.Messages().ByName("EchoRequest")
	req := dynamicpb.NewMessage(in)
	req.Set(in.Fields().ByName("text"), protoreflect.ValueOfString("hi"))
	resp := dynamicpb.NewMessage(fd.Messages().ByName("EchoResponse"))
	if err := conn.Invoke(context.Background(), "/example.echo.v1.EchoService/Echo", req, resp); err != nil {
		t.Fatalf("gRPC door: %v", err)
	}
	if got := resp.Get(resp.Descriptor().Fields().ByName("text")).String(); got != "hi" {
		t.Errorf("gRPC door: got %q, want hi", got)
	}
	req.Set(in.Fields().ByName("text"), protoreflect.ValueOfString(strings.Repeat("y", 20)))
	err = conn.Invoke(context.Background(), "/example.echo.v1.EchoService/Echo", req, resp)
	if status.Code(err) != codes.InvalidArgument {
		t.Errorf("gRPC door validation: got %v, want InvalidArgument", err)
	}
}

// TestBuildErrors: everything wrong with a config is found when the
// snapshot is built, with a message that names the place.
func TestBuildErrors(t *testing.T) {
	dir := t.TempDir()
	rules := filepath.Join(dir, "rules.yaml")
	write := func(name, content string) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
		return p
	}
	cases := []struct {
		name string
		edit func(c *configv1.Config)
		want string
	}{
		{"service missing from the descriptors", func(c *configv1.Config) {
			c.Apis[0].Services = []string{"example.bookstore.v1.NoSuchService"}
		}, `apis[0].services[0]: service "example.bookstore.v1.NoSuchService" not found`},
		{"service exposed twice", func(c *configv1.Config) {
			c.Apis = append(c.Apis, &configv1.Api{Services: []string{"example.bookstore.v1.BookstoreService"}, Integration: "bookstore"})
		}, `already exposed`},
		{"route conflict between APIs, strict", func(c *configv1.Config) {
			write("conflict.yaml", "type: google.api.Service\nhttp:\n  rules:\n  - selector: example.inventory.v1.InventoryService.ListAisles\n    get: /v1/shelves/{parent}\n")
			c.HttpRules = []string{filepath.Join(dir, "conflict.yaml")}
			c.Apis = append(c.Apis, &configv1.Api{Services: []string{"example.inventory.v1.InventoryService"}, Integration: "bookstore"})
			c.StrictRoutes = true // without it, the later API wins (a warning)
		}, `/v1/shelves/{shelf}`},
		{"rule naming a missing field", func(c *configv1.Config) {
			write("rules.yaml", "type: google.api.Service\nhttp:\n  rules:\n  - selector: example.bookstore.v1.BookstoreService.GetShelfStats\n    get: /v1/shelves/{shelf_id}/stats\n")
			c.HttpRules = []string{rules}
		}, `shelf_id`},
		{"rule with a bad template", func(c *configv1.Config) {
			write("rules.yaml", "type: google.api.Service\nhttp:\n  rules:\n  - selector: example.bookstore.v1.BookstoreService.GetShelfStats\n    get: /v1/{shelf=**}/x/{shelf}\n")
			c.HttpRules = []string{rules}
		}, `GetShelfStats`},
		{"rule for a method not exposed", func(c *configv1.Config) {
			write("rules.yaml", "type: google.api.Service\nhttp:\n  rules:\n  - selector: example.bookstore.v1.BookstoreService.NoSuchMethod\n    get: /v1/x\n")
			c.HttpRules = []string{rules}
		}, `NoSuchMethod`},
		{"response_body naming a missing field", func(c *configv1.Config) {
			write("rules.yaml", "type: google.api.Service\nhttp:\n  rules:\n  - selector: example.bookstore.v1.BookstoreService.GetShelfStats\n    get: /v1/shelves/{shelf}/stats\n    response_body: nope\n")
			c.HttpRules = []string{rules}
		}, `response_body "nope"`},
		{"missing descriptor file", func(c *configv1.Config) {
			c.Descriptors = []string{filepath.Join(dir, "absent.binpb")}
		}, `absent.binpb`},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			cfg := servertest.BookstoreConfig("127.0.0.1:1")
			tc.edit(cfg)
			snap, err := snapshot.Build(&config.File{Config: cfg, Dir: dir}, snapshot.Options{})
			if err == nil {
				snap.Close()
				t.Fatalf("Build: got no error, want one mentioning %q", tc.want)
			}
			if !strings.Contains(err.Error(), tc.want) {
				t.Errorf("Build error: got %q, want it to mention %q", err, tc.want)
			}
		})
	}
}

// TestHTTPRulesAndDefaultBindings: a method with no annotation gets its
// binding from a gRPC API Configuration file; a method with no rule at
// all is exposed only when default bindings are asked for.
func TestHTTPRulesAndDefaultBindings(t *testing.T) {
	dir := t.TempDir()
	rules := filepath.Join(dir, "bookstore_http.yaml")
	err := os.WriteFile(rules, []byte(`type: google.api.Service
config_version: 3
http:
  rules:
  - selector: example.bookstore.v1.BookstoreService.GetShelfStats
    get: /v1/shelves/{shelf}/stats
`), 0o644)
	if err != nil {
		t.Fatal(err)
	}
	without := servertest.Start(t, servertest.Options{Config: func(c *configv1.Config) {
		c.HttpRules = []string{rules}
	}})
	code, body := restGet(t, without.URL+"/v1/shelves/1/stats")
	if code != 200 || !strings.Contains(string(body), `"bookCount":2`) {
		t.Errorf("rule from YAML: got %d %s, want 200 with bookCount 2", code, body)
	}
	resp, err := servertest.Client().Post(without.URL+"/example.bookstore.v1.BookstoreService/Reindex", "application/json", strings.NewReader("{}"))
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 404 {
		t.Errorf("method without a rule, default bindings off: got %d, want 404", resp.StatusCode)
	}

	with := servertest.Start(t, servertest.Options{Config: func(c *configv1.Config) {
		c.Apis[0].DefaultBindings = true
	}})
	resp, err = servertest.Client().Post(with.URL+"/example.bookstore.v1.BookstoreService/Reindex", "application/json", strings.NewReader(`{"full":true}`))
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != 200 {
		t.Errorf("default binding: got %d, want 200", resp.StatusCode)
	}
}
