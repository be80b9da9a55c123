package mapping

import (
	"context"
	"net/http/httptest"
	"reflect"
	"strings"
	"testing"

	"github.com/portico-gw/portico/call"
	configv1 "github.com/portico-gw/portico/gen/portico/config/v1"
	"google.golang.org/grpc"
	"google.golang.org/grpc/metadata"
)

func TestNewRequestErrors(t *testing.T) {
	reserved := func(k string) bool { return k == "x-user-id" }
	tests := []struct {
		name string
		c    *configv1.RequestMapping
		want string
	}{
		{"hop-by-hop", &configv1.RequestMapping{ForwardHeaders: []string{"x-a", "Connection"}}, `forward_headers[1]: "Connection" is never forwarded (a hop-by-hop header)`},
		{"transport", &configv1.RequestMapping{ForwardHeaders: []string{"grpc-timeout"}}, "the transport's own header"},
		{"content-type", &configv1.RequestMapping{ForwardHeaders: []string{"Content-Type"}}, "the transport's own header"},
		{"portico's own", &configv1.RequestMapping{ForwardHeaders: []string{"X-Portico-Principal"}}, "Portico sets it for the caller's identity"},
		{"a reserved claim", &configv1.RequestMapping{ForwardHeaders: []string{"x-user-id"}}, "Portico sets it"},
		{"set a reserved name", &configv1.RequestMapping{SetMetadata: map[string]string{"x-portico-plan": "gold"}}, "cannot be set"},
		{"set a bad key", &configv1.RequestMapping{SetMetadata: map[string]string{"a b": "1"}}, "not a metadata name"},
		{"set a bad value", &configv1.RequestMapping{SetMetadata: map[string]string{"x-a": "line\nbreak"}}, "printable ASCII"},
		{"set bad base64", &configv1.RequestMapping{SetMetadata: map[string]string{"x-a-bin": "%%%"}}, "base64"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := NewRequest(tt.c, reserved)
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("got %v, want an error containing %q", err, tt.want)
			}
		})
	}
}

// TestApplySameOnBothDoors: the same headers sent over REST and over gRPC
// give the backend the same metadata.
func TestApplySameOnBothDoors(t *testing.T) {
	r, err := NewRequest(&configv1.RequestMapping{
		ForwardHeaders: []string{"X-Request-Id", "accept-language", "x-trace-bin", "x-forwarded-for", "x-absent"},
		SetMetadata:    map[string]string{"X-Source": "portico", "x-blob-bin": "AAE="},
	}, func(k string) bool { return k == "x-user-id" })
	if err != nil {
		t.Fatal(err)
	}
	// What the door put in the incoming metadata: its x-forwarded-for,
	// what the client sent that it forwards by default, and what the
	// authentication gate added (x-user-id, x-portico-principal).
	doorMD := metadata.Pairs(
		"x-forwarded-for", "203.0.113.9, 10.0.0.1",
		"authorization", "Bearer t",
		"grpcgateway-accept", "*/*",
		"x-portico-principal", "alice",
		"x-user-id", "42",
	)
	want := metadata.MD{
		"x-request-id":        {"r-1"},
		"accept-language":     {"fr", "en"},
		"x-trace-bin":         {"\x00\x01"},
		"x-forwarded-for":     {"203.0.113.9, 10.0.0.1"},
		"x-source":            {"portico"},
		"x-blob-bin":          {"\x00\x01"},
		"x-portico-principal": {"alice"},
		"x-user-id":           {"42"},
	}

	req := httptest.NewRequest("GET", "/v1/x", nil)
	req.Header.Add("X-Request-Id", "r-1")
	req.Header.Add("Accept-Language", "fr")
	req.Header.Add("Accept-Language", "en")
	req.Header.Add("X-Trace-Bin", "AAE=")
	req.Header.Add("X-User-Id", "forged") // the client's: never passes
	req.Header.Add("X-Forwarded-For", "forged")
	rest := call.NewContext(metadata.NewIncomingContext(context.Background(), doorMD.Copy()), &call.Info{Door: call.REST, HTTP: req})

	grpcMD := metadata.Pairs("x-request-id", "r-1", "accept-language", "fr", "accept-language", "en",
		"x-trace-bin", "\x00\x01", "x-user-id", "forged", "x-forwarded-for", "forged", "connection", "close")
	grpcCtx := call.NewContext(metadata.NewIncomingContext(context.Background(), doorMD.Copy()), &call.Info{Door: call.GRPC, MD: grpcMD})

	for name, ctx := range map[string]context.Context{"rest": rest, "grpc": grpcCtx} {
		got, _ := metadata.FromIncomingContext(r.Apply(ctx))
		if !reflect.DeepEqual(got, want) {
			t.Errorf("%s: got %v\nwant %v", name, got, want)
		}
	}
}

// TestApplyInterceptors: the interceptors hand the handler the mapped
// context.
func TestApplyInterceptors(t *testing.T) {
	r, err := NewRequest(&configv1.RequestMapping{SetMetadata: map[string]string{"x-source": "portico"}}, nil)
	if err != nil {
		t.Fatal(err)
	}
	ctx := metadata.NewIncomingContext(context.Background(), metadata.Pairs("x-secret", "1"))
	var got metadata.MD
	_, _ = r.Unary(ctx, nil, nil, func(ctx context.Context, _ any) (any, error) {
		got, _ = metadata.FromIncomingContext(ctx)
		return nil, nil
	})
	if want := metadata.Pairs("x-source", "portico"); !reflect.DeepEqual(got, want) {
		t.Errorf("unary: got %v, want %v", got, want)
	}
	got = nil
	_ = r.Stream(nil, &ctxStream{ctx: ctx}, nil, func(_ any, ss grpc.ServerStream) error {
		got, _ = metadata.FromIncomingContext(ss.Context())
		return nil
	})
	if want := metadata.Pairs("x-source", "portico"); !reflect.DeepEqual(got, want) {
		t.Errorf("stream: got %v, want %v", got, want)
	}
}

type ctxStream struct {
	grpc.ServerStream
	ctx context.Context
}

func (s *ctxStream) Context() context.Context { return s.ctx }
