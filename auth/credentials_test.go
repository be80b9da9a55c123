package auth

import (
	"slices"
	"testing"

	"google.golang.org/grpc/metadata"
)

func TestCredentialsStripped(t *testing.T) {
	c := &credentials{headers: []string{"authorization", "x-api-key"}, queries: []string{"api_key", "access token"}, cookies: []string{"session"}}

	md := metadata.MD{
		"authorization":             {"Bearer t"},
		"grpcgateway-authorization": {"Bearer t"},
		"x-api-key":                 {"k"},
		"grpcgateway-cookie":        {"a=1; session=t;b=2", "session=t"},
		"cookie":                    {"session=t"},
		"x-request-id":              {"r"},
	}
	c.stripMetadata(md)
	want := metadata.MD{"grpcgateway-cookie": {"a=1; b=2"}, "x-request-id": {"r"}}
	if len(md) != len(want) || !slices.Equal(md["grpcgateway-cookie"], want["grpcgateway-cookie"]) || md["x-request-id"] == nil {
		t.Errorf("stripMetadata: got %v, want %v", md, want)
	}
}
