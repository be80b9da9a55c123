package server_test

import (
	"context"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/grpc-ecosystem/grpc-gateway/v2/runtime"
	"github.com/portico-gw/portico/config"
	messagingv1 "github.com/portico-gw/portico/gen/example/messaging/v1"
	configv1 "github.com/portico-gw/portico/gen/portico/config/v1"
	"github.com/portico-gw/portico/server/servertest"
	"github.com/portico-gw/portico/snapshot"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/proto"
)

const messaging = "example.messaging.v1.MessagingService"

// mirror answers every messaging method with its request.
type mirror struct {
	messagingv1.UnimplementedMessagingServiceServer
}

func (mirror) GetMessage(_ context.Context, r *messagingv1.GetMessageRequest) (*messagingv1.GetMessageRequest, error) {
	return r, nil
}
func (mirror) GetMessageById(_ context.Context, r *messagingv1.GetMessageByIdRequest) (*messagingv1.GetMessageByIdRequest, error) {
	return r, nil
}
func (mirror) UpdateMessage(_ context.Context, r *messagingv1.UpdateMessageRequest) (*messagingv1.UpdateMessageRequest, error) {
	return r, nil
}
func (mirror) UpdateMessageText(_ context.Context, r *messagingv1.UpdateMessageTextRequest) (*messagingv1.UpdateMessageTextRequest, error) {
	return r, nil
}
func (mirror) ListLocationBooks(_ context.Context, r *messagingv1.ListLocationBooksRequest) (*messagingv1.ListLocationBooksRequest, error) {
	return r, nil
}
func (mirror) GetFile(_ context.Context, r *messagingv1.GetFileRequest) (*messagingv1.GetFileRequest, error) {
	return r, nil
}
func (mirror) CancelOperation(_ context.Context, r *messagingv1.CancelOperationRequest) (*messagingv1.CancelOperationRequest, error) {
	return r, nil
}

// startMessagingREST serves the messaging API as a REST service: the
// grpc-gateway handlers in front of a gRPC mirror.
func startMessagingREST(t *testing.T) string {
	t.Helper()
	lis, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	gs := grpc.NewServer()
	messagingv1.RegisterMessagingServiceServer(gs, mirror{})
	go func() { _ = gs.Serve(lis) }()
	t.Cleanup(gs.Stop)
	mux := runtime.NewServeMux()
	ctx, cancel := context.WithCancel(context.Background())
	t.Cleanup(cancel)
	if err := messagingv1.RegisterMessagingServiceHandlerFromEndpoint(ctx, mux, lis.Addr().String(),
		[]grpc.DialOption{grpc.WithTransportCredentials(insecure.NewCredentials())}); err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(mux)
	t.Cleanup(srv.Close)
	return srv.URL
}

// TestHTTPIntegrationReverseTranscoding: gRPC clients call a REST service
// through Portico. Every messaging method goes gRPC door → pipeline → http
// integration → the REST service's HTTP rule → its gRPC mirror, and comes
// back: what the client sent is what it gets, so the request mapping is
// the exact inverse of grpc-gateway's.
func TestHTTPIntegrationReverseTranscoding(t *testing.T) {
	url := startMessagingREST(t)
	env := servertest.StartGateway(t, "127.0.0.1:1", servertest.Options{Config: func(c *configv1.Config) {
		c.Integrations = []*configv1.Integration{{Name: "legacy", Kind: &configv1.Integration_Http{Http: &configv1.HttpIntegration{Url: url}}}}
		c.Apis = []*configv1.Api{{Services: []string{messaging}, Integration: "legacy"}}
	}})
	c := messagingv1.NewMessagingServiceClient(env.Conn)
	ctx := ctxT(t)
	calls := []struct {
		name string
		req  proto.Message
		do   func(proto.Message) (proto.Message, error)
	}{
		{"GetMessage", &messagingv1.GetMessageRequest{Name: "rooms/r 1/messages/m%2"}, func(r proto.Message) (proto.Message, error) {
			return c.GetMessage(ctx, r.(*messagingv1.GetMessageRequest))
		}},
		{"GetMessageById", &messagingv1.GetMessageByIdRequest{MessageId: "123 4", Revision: 2, Sub: &messagingv1.GetMessageByIdRequest_SubMessage{Subfield: "foo bar"}},
			func(r proto.Message) (proto.Message, error) {
				return c.GetMessageById(ctx, r.(*messagingv1.GetMessageByIdRequest))
			}},
		{"UpdateMessage", &messagingv1.UpdateMessageRequest{MessageId: "9", Message: &messagingv1.Message{Text: "héllo"}}, func(r proto.Message) (proto.Message, error) {
			return c.UpdateMessage(ctx, r.(*messagingv1.UpdateMessageRequest))
		}},
		{"UpdateMessageText", &messagingv1.UpdateMessageTextRequest{MessageId: "9", Text: "hi"}, func(r proto.Message) (proto.Message, error) {
			return c.UpdateMessageText(ctx, r.(*messagingv1.UpdateMessageTextRequest))
		}},
		{"ListLocationBooks", &messagingv1.ListLocationBooksRequest{Parent: "projects/p/locations/l"}, func(r proto.Message) (proto.Message, error) {
			return c.ListLocationBooks(ctx, r.(*messagingv1.ListLocationBooksRequest))
		}},
		{"GetFile", &messagingv1.GetFileRequest{Path: "a/b/c.txt"}, func(r proto.Message) (proto.Message, error) {
			return c.GetFile(ctx, r.(*messagingv1.GetFileRequest))
		}},
		{"CancelOperation", &messagingv1.CancelOperationRequest{Name: "operations/x/y"}, func(r proto.Message) (proto.Message, error) {
			return c.CancelOperation(ctx, r.(*messagingv1.CancelOperationRequest))
		}},
	}
	for _, tt := range calls {
		got, err := tt.do(tt.req)
		if err != nil {
			t.Errorf("%s: %v", tt.name, err)
			continue
		}
		if !proto.Equal(got, tt.req) {
			t.Errorf("%s: got %v, want %v", tt.name, got, tt.req)
		}
	}

	// A value that does not fit the rule's pattern never leaves Portico.
	_, err := c.GetMessage(ctx, &messagingv1.GetMessageRequest{Name: "rooms/1"})
	if status.Code(err) != codes.InvalidArgument {
		t.Errorf("bad name: got %v, want InvalidArgument", err)
	}

	// The REST door reaches the same REST service.
	code, body := restGet(t, env.URL+"/v1/files/docs/readme.md")
	if code != http.StatusOK || !strings.Contains(string(body), `"path":"docs/readme.md"`) {
		t.Errorf("REST door: got %d %s", code, body)
	}
}

// TestHTTPIntegrationNeedsRules: routing methods without an HTTP rule to
// an http integration is a config error naming each.
func TestHTTPIntegrationNeedsRules(t *testing.T) {
	cfg := servertest.BookstoreConfig("127.0.0.1:1")
	cfg.Integrations = []*configv1.Integration{{Name: "legacy", Kind: &configv1.Integration_Http{Http: &configv1.HttpIntegration{Url: "http://127.0.0.1:1"}}}}
	cfg.Apis[0].Integration = "legacy"
	_, err := snapshot.Build(&config.File{Config: cfg, Dir: "."}, snapshot.Options{})
	for _, want := range []string{
		`method example.bookstore.v1.BookstoreService.GetShelfStats: integration "legacy": an http integration needs the method's HTTP rule`,
		`method example.bookstore.v1.BookstoreService.ImportBooks: integration "legacy": an http integration cannot send a client stream`,
	} {
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("got %v, want it to contain %q", err, want)
		}
	}
}

// mockConfig routes the messaging API to a mock answering each method.
func mockConfig(responses ...*configv1.MockResponse) func(*configv1.Config) {
	return func(c *configv1.Config) {
		c.Integrations = []*configv1.Integration{{Name: "stub", Kind: &configv1.Integration_Mock{Mock: &configv1.MockIntegration{Responses: responses}}}}
		c.Apis = []*configv1.Api{{Services: []string{messaging}, Integration: "stub"}}
	}
}

func allMessaging(override map[string]*configv1.MockResponse) []*configv1.MockResponse {
	var out []*configv1.MockResponse
	for _, m := range []string{"GetMessage", "GetMessageById", "UpdateMessage", "UpdateMessageText", "ListLocationBooks", "GetFile", "CancelOperation"} {
		r := &configv1.MockResponse{Selector: messaging + "." + m}
		if o, ok := override[m]; ok {
			r = o
			r.Selector = messaging + "." + m
		}
		out = append(out, r)
	}
	return out
}

// TestMockIntegration: the mock answers from the config on both doors.
func TestMockIntegration(t *testing.T) {
	env := servertest.StartGateway(t, "127.0.0.1:1", servertest.Options{Config: mockConfig(allMessaging(map[string]*configv1.MockResponse{
		"GetMessage": {Json: `{"name": "rooms/mock/messages/1"}`},
		"GetFile":    {Code: "NOT_FOUND", Message: "no such file"},
	})...)})
	code, body := restGet(t, env.URL+"/v1/rooms/a/messages/b")
	if code != http.StatusOK || !strings.Contains(string(body), `"name":"rooms/mock/messages/1"`) {
		t.Errorf("REST GetMessage: got %d %s", code, body)
	}
	code, body = restGet(t, env.URL+"/v1/files/x")
	if code != http.StatusNotFound || !strings.Contains(string(body), `"message":"no such file"`) {
		t.Errorf("REST GetFile: got %d %s, want 404 no such file", code, body)
	}
	c := messagingv1.NewMessagingServiceClient(env.Conn)
	got, err := c.GetMessage(ctxT(t), &messagingv1.GetMessageRequest{Name: "x"})
	if err != nil || got.GetName() != "rooms/mock/messages/1" {
		t.Errorf("gRPC GetMessage: got %v, %v", got, err)
	}
	if _, err := c.GetFile(ctxT(t), &messagingv1.GetFileRequest{Path: "x"}); status.Code(err) != codes.NotFound {
		t.Errorf("gRPC GetFile: got %v, want NotFound", err)
	}
	if got, err := c.CancelOperation(ctxT(t), &messagingv1.CancelOperationRequest{Name: "operations/1"}); err != nil || proto.Size(got) != 0 {
		t.Errorf("gRPC CancelOperation: got %v, %v, want the empty message", got, err)
	}
}

// TestMockBuildErrors: a mock's JSON is checked against the response type.
// (A method routed to it without a response answers UNIMPLEMENTED: see
// TestRegressMockWithoutSomeResponses.)
func TestMockBuildErrors(t *testing.T) {
	tests := []struct {
		name      string
		responses []*configv1.MockResponse
		want      string
	}{
		{"wrong field", allMessaging(map[string]*configv1.MockResponse{"GetMessage": {Json: `{"nam": "x"}`}}),
			`method example.messaging.v1.MessagingService.GetMessage: integration "stub": mock response json is not a example.messaging.v1.GetMessageRequest`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg := servertest.BookstoreConfig("127.0.0.1:1")
			mockConfig(tt.responses...)(cfg)
			_, err := snapshot.Build(&config.File{Config: cfg, Dir: "."}, snapshot.Options{})
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("got %v, want an error containing %q", err, tt.want)
			}
		})
	}
}
