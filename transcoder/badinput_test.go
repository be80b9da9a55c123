package transcoder_test

import (
	"net/http"
	"strconv"
	"strings"
	"testing"

	"github.com/portico-gw/portico/server/servertest"
)

// TestBadInput: every malformed request gets a 4xx with a JSON error body
// (grpc-gateway's {"code","message","details"}), and the backend sees
// nothing.
func TestBadInput(t *testing.T) {
	env := servertest.Start(t, servertest.Options{})
	long := "/v1/shelves/" + strings.Repeat("a", 9000)
	cases := []struct {
		name   string
		call   call
		status int
		code   int // gRPC code in the body
	}{
		{"malformed JSON", call{method: "POST", path: "/v1/shelves", body: `{"theme":`}, 400, 3},
		{"wrong JSON type", call{method: "POST", path: "/v1/shelves", body: `{"theme":42}`}, 400, 3},
		{"JSON array for a message", call{method: "POST", path: "/v1/shelves", body: `[1,2]`}, 400, 3},
		{"unknown enum name in body", call{method: "POST", path: "/v1/shelves/1/books", body: `{"title":"x","genre":"GENRE_NOPE"}`}, 400, 3},
		{"unknown enum name in query", call{method: "GET", path: "/v1/shelves/1/books?genre=GENRE_NOPE"}, 400, 3},
		{"bad number in query", call{method: "GET", path: "/v1/shelves/1/books?page_size=ten"}, 400, 3},
		{"bad timestamp in query", call{method: "GET", path: "/v1/shelves/1/books?published_after=yesterday"}, 400, 3},
		{"bad percent-encoding in query", call{method: "GET", path: "/v1/shelves/1/books?tags=%zz"}, 400, 3},
		{"non-UTF-8 in a string path variable", call{method: "GET", path: "/v1/shelves/1/books/%ff"}, 400, 3},
		{"non-UTF-8 in a query string", call{method: "GET", path: "/v1/shelves/1/books?tags=%ff%fe"}, 400, 3},
		{"bad int64 in path", call{method: "GET", path: "/v1/shelves/x1"}, 400, 3},
		{"oversized path", call{method: "GET", path: long}, 414, 3},
		{"oversized body", call{method: "POST", path: "/v1/shelves", body: `{"theme":"` + strings.Repeat("x", 5<<20) + `"}`}, 413, 8},
		{"invalid Grpc-Timeout", call{method: "GET", path: "/v1/shelves/1", header: map[string]string{"Grpc-Timeout": "soon"}}, 400, 3},
		{"validation: empty theme", call{method: "POST", path: "/v1/shelves", body: `{"theme":""}`}, 400, 3},
		{"validation: page_size out of range", call{method: "GET", path: "/v1/shelves/1/books?page_size=5000"}, 400, 3},
		{"validation: parent pattern", call{method: "GET", path: "/v1/shelves/abc/books"}, 400, 3},
		{"validation of a server-streaming request", call{method: "GET", path: "/v1/shelves/abc/books:watch"}, 400, 3},
		{"unknown path", call{method: "GET", path: "/v2/nothing"}, 404, 5},
		{"root path", call{method: "GET", path: "/"}, 404, 5},
		{"empty segment", call{method: "GET", path: "/v1//shelves"}, 404, 5},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			before := env.Backend.Calls()
			resp, body := tc.call.do(t, env.URL)
			if resp.StatusCode != tc.status {
				t.Errorf("status: got %d, want %d; body %s", resp.StatusCode, tc.status, body)
			}
			if ct := resp.Header.Get("Content-Type"); ct != "application/json" {
				t.Errorf("Content-Type: got %q, want application/json", ct)
			}
			checkSubset(t, body, `{"code":`+strconv.Itoa(tc.code)+`}`)
			if !strings.Contains(string(body), `"message"`) {
				t.Errorf("error body without message: %s", body)
			}
			if got := env.Backend.Calls(); got != before {
				t.Errorf("backend calls: got %d, want %d: bad input must not be forwarded", got, before)
			}
		})
	}
}

func TestValidationDetailsOverREST(t *testing.T) {
	env := servertest.Start(t, servertest.Options{})
	resp, body := call{method: "POST", path: "/v1/shelves/1/books", body: `{"title":"","topReview":{"stars":9}}`}.do(t, env.URL)
	if resp.StatusCode != 400 {
		t.Fatalf("got %d, want 400: %s", resp.StatusCode, body)
	}
	checkSubset(t, body, `{"code":3}`)
	for _, field := range []string{`"type.googleapis.com/google.rpc.BadRequest"`, `"book.title"`, `"book.top_review.stars"`} {
		if !strings.Contains(string(body), field) {
			t.Errorf("violations should name %s: %s", field, body)
		}
	}
}

func TestMethodNotAllowed(t *testing.T) {
	env := servertest.Start(t, servertest.Options{})
	resp, body := call{method: "PUT", path: "/v1/shelves/1"}.do(t, env.URL)
	if resp.StatusCode != http.StatusMethodNotAllowed {
		t.Fatalf("got %d, want 405: %s", resp.StatusCode, body)
	}
	if got := resp.Header.Get("Allow"); got != "DELETE, GET, HEAD" {
		t.Errorf("Allow: got %q, want %q", got, "DELETE, GET, HEAD")
	}
	checkSubset(t, body, `{"code":12,"message":"Method Not Allowed"}`)
}
