package auth

import (
	"net/http/httptest"
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

	r := httptest.NewRequest("GET", "/legacy/x?page=2&api_key=k&access+token=t&api_keyx=1&%61pi_key=k2", nil)
	r.Header.Set("Authorization", "Bearer t")
	r.Header.Set("X-Api-Key", "k")
	r.Header.Set("Cookie", "session=t; theme=dark")
	r.Header.Set("X-Other", "o")
	out := c.stripRequest(r)
	if got, want := out.URL.RawQuery, "page=2&api_keyx=1"; got != want {
		t.Errorf("query: got %q, want %q", got, want)
	}
	if got := out.Header; got.Get("Authorization") != "" || got.Get("X-Api-Key") != "" || got.Get("Cookie") != "theme=dark" || got.Get("X-Other") != "o" {
		t.Errorf("headers: got %v, want only the credentials dropped", got)
	}
	if r.Header.Get("Authorization") == "" || r.URL.RawQuery == "page=2&api_keyx=1" || r.Header.Get("Cookie") != "session=t; theme=dark" {
		t.Error("stripRequest changed the request policies see")
	}
	r.Header.Set("Cookie", "session=t")
	if out := c.stripRequest(r); out.Header.Values("Cookie") != nil {
		t.Errorf("a Cookie header of credentials only: got %q, want it dropped", out.Header.Values("Cookie"))
	}
	if out := WithoutCredentials(r); out != r {
		t.Error("WithoutCredentials on a request no gate consumed anything of: got a copy, want r")
	}
}
