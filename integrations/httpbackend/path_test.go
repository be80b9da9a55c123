package httpbackend

import (
	"testing"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
)

// TestParsePath: the canonical form of paths a backend reads as the
// gateway does, and the refusal of every other.
func TestParsePath(t *testing.T) {
	for raw, want := range map[string]Path{
		"/":                         {"/", "/"},
		"/a/b/":                     {"/a/b/", "/a/b/"},
		"/legacy/orders/7":          {"/legacy/orders/7", "/legacy/orders/7"},
		"/%70ublic/a%2cb":           {"/public/a,b", "/public/a,b"},
		"/a+b/!$&'()*=:@~-_.x":      {"/a+b/!$&'()*=:@~-_.x", "/a+b/!$&'()*=:@~-_.x"},
		"/caf%c3%a9/caf\xc3\xa9":    {"/caf\u00e9/caf\u00e9", "/caf%C3%A9/caf%C3%A9"},
		"/a%20b/%5B%5D%7B%7D%22%3C": {"/a b/[]{}\"<", "/a%20b/%5B%5D%7B%7D%22%3C"},
		"/v1.2/...x":                {"/v1.2/...x", "/v1.2/...x"},
		"/a/.b":                     {"/a/.b", "/a/.b"},
	} {
		got, err := ParsePath(raw)
		if err != nil || got != want {
			t.Errorf("ParsePath(%q): got %+v, %v; want %+v", raw, got, err, want)
		}
		// The canonical form is its own canonical form.
		if again, err := ParsePath(got.Escaped); err != nil || again != got {
			t.Errorf("ParsePath(%q): got %+v, %v; want %+v", got.Escaped, again, err, got)
		}
	}
	for _, raw := range []string{
		"", "*", "a/b", "/a/../b", "/a/..", "/.", "/a/%2e%2E", "/a/.%2e/b", "/a//b", "//a",
		"/a%2fb", "/a%2Fb", "/a%5cb", `/a\b`, "/a;b", "/a%3bb", "/a%3fb", "/a#b", "/a%23b",
		"/a%25b", "/a%252e%252e", "/a%00", "/a%0d%0a", "/a%7f", "/a%zz", "/a%", "/a./b", "/a%20/b",
		"/%c0%ae%c0%ae", "/\xc0\xae", "/%ef%bc%8e%ef%bc%8e", "/\uff0f", "/\u212a", "/a\u0301",
	} {
		if got, err := ParsePath(raw); status.Code(err) != codes.InvalidArgument {
			t.Errorf("ParsePath(%q): got %+v, %v; want INVALID_ARGUMENT", raw, got, err)
		}
	}
}
