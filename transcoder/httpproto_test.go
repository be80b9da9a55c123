package transcoder_test

import (
	"net"
	"strings"
	"testing"

	messagingv1 "github.com/portico-gw/portico/gen/example/messaging/v1"
	configv1 "github.com/portico-gw/portico/gen/portico/config/v1"
	"github.com/portico-gw/portico/server/servertest"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/reflect/protoreflect"
	"google.golang.org/protobuf/reflect/protoregistry"
)

// startMirror serves every method of the messaging API by returning the
// request it received (each method's response type is its request type),
// so a REST response shows exactly what the gateway sent.
func startMirror(t testing.TB) string {
	t.Helper()
	srv := grpc.NewServer(grpc.UnknownServiceHandler(func(_ any, ss grpc.ServerStream) error {
		full, _ := grpc.MethodFromServerStream(ss)
		name := protoreflect.FullName(strings.ReplaceAll(strings.TrimPrefix(full, "/"), "/", "."))
		d, err := protoregistry.GlobalFiles.FindDescriptorByName(name)
		if err != nil {
			return status.Errorf(codes.Unimplemented, "%s", full)
		}
		mt, err := protoregistry.GlobalTypes.FindMessageByName(d.(protoreflect.MethodDescriptor).Input().FullName())
		if err != nil {
			return err
		}
		msg := mt.New().Interface()
		if err := ss.RecvMsg(msg); err != nil {
			return err
		}
		return ss.SendMsg(msg)
	}))
	lis, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	go srv.Serve(lis)
	t.Cleanup(srv.Stop)
	return lis.Addr().String()
}

// TestHTTPProtoExamples runs the examples of google/api/http.proto's own
// comments: HTTP request in, the request message the backend received out.
func TestHTTPProtoExamples(t *testing.T) {
	_ = messagingv1.File_example_messaging_v1_messaging_proto // linked: the mirror resolves it
	env := servertest.StartGateway(t, startMirror(t), servertest.Options{Config: func(c *configv1.Config) {
		c.Apis[0].Services = []string{"example.messaging.v1.MessagingService"}
	}})
	cases := []struct {
		name string
		call call
		want string // the request message as the backend received it, in JSON
	}{
		{"variable with literal segments", call{method: "GET", path: "/v1/rooms/r1/messages/123456"},
			`{"name":"rooms/r1/messages/123456"}`},
		{"path variable and query parameters, nested", call{method: "GET", path: "/v1/messages/123456?revision=2&sub.subfield=foo"},
			`{"messageId":"123456","revision":"2","sub":{"subfield":"foo"}}`},
		{"additional binding", call{method: "GET", path: "/v1/users/me/messages/123456"},
			`{"userId":"me","messageId":"123456"}`},
		{"body names a field", call{method: "PATCH", path: "/v1/messages/123456", body: `{"text":"Hi!"}`},
			`{"messageId":"123456","message":{"text":"Hi!"}}`},
		{"body * maps the rest of the message", call{method: "PATCH", path: "/v1/texts/123456", body: `{"text":"Hi!"}`},
			`{"messageId":"123456","text":"Hi!"}`},
		{"path variable wins over the same field in a body *", call{method: "PATCH", path: "/v1/texts/123456", body: `{"messageId":"other","text":"Hi!"}`},
			`{"messageId":"123456","text":"Hi!"}`},
		{"variable of several segments", call{method: "GET", path: "/v1/projects/p1/locations/l1/books"},
			`{"parent":"projects/p1/locations/l1"}`},
		{"** variable", call{method: "GET", path: "/v1/files/a/b/c.txt"},
			`{"path":"a/b/c.txt"}`},
		{"** keeps %2F, decodes the rest", call{method: "GET", path: "/v1/files/a%2Fb/c%20d"},
			`{"path":"a%2Fb/c d"}`},
		{"** with a colon that is not a verb", call{method: "GET", path: "/v1/files/a:b"},
			`{"path":"a:b"}`},
		{"custom verb after **", call{method: "POST", path: "/v1/operations/x/y:cancel", body: `{}`},
			`{"name":"operations/x/y"}`},
		{"single segment decodes everything, %2F included", call{method: "GET", path: "/v1/messages/a%2Fb%3Fc"},
			`{"messageId":"a/b?c"}`},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			resp, body := tc.call.do(t, env.URL)
			if resp.StatusCode != 200 {
				t.Fatalf("got %d, want 200: %s", resp.StatusCode, body)
			}
			checkSubset(t, body, tc.want)
		})
	}
}
