package transcoder_test

import (
	"encoding/base64"
	"net/http"
	"strings"
	"testing"

	configv1 "github.com/portico-gw/portico/gen/portico/config/v1"
	"github.com/portico-gw/portico/server/servertest"
)

// TestConformance walks the google.api.http contract point by point on the
// bookstore: every case is a real HTTP request through the REST door to
// the real backend. ListBooks echoes the request it received, so query
// mapping is checked on what the backend saw.
func TestConformance(t *testing.T) {
	env := servertest.Start(t, servertest.Options{Config: forwardTestHeaders})
	cases := []struct {
		name   string
		call   call
		status int
		want   string // JSON subset of the response body; "" skips
		check  func(t *testing.T, resp *http.Response, body []byte)
	}{
		{name: "get without variables", call: call{method: "GET", path: "/v1/shelves"}, status: 200,
			want: `{"shelves":[{"id":"1","theme":"Fiction"},{"id":"2","theme":"Science"}]}`},
		{name: "single-segment variable, int64", call: call{method: "GET", path: "/v1/shelves/2"}, status: 200,
			want: `{"id":"2","theme":"Science"}`},
		{name: "single-segment variable is fully percent-decoded", call: call{method: "GET", path: "/v1/shelves/%32"}, status: 200,
			want: `{"id":"2"}`},
		{name: "body names a field", call: call{method: "POST", path: "/v1/shelves", body: `{"theme":"Poetry"}`}, status: 200,
			want: `{"theme":"Poetry"}`},
		{name: "nested-path variable with literal segments", call: call{method: "GET", path: "/v1/shelves/1/books/2"}, status: 200,
			want: `{"name":"shelves/1/books/2","title":"Dune"}`},
		{name: "additional binding with ** variable", call: call{method: "GET", path: "/v1/books/shelves/2/books/1"}, status: 200,
			want: `{"name":"shelves/2/books/1","title":"A Brief History of Time"}`},
		{name: "** keeps reserved characters escaped", call: call{method: "GET", path: "/v1/books/shelves%2F2/books/1"}, status: 404,
			check: func(t *testing.T, _ *http.Response, body []byte) {
				if !strings.Contains(string(body), "shelves%2F2/books/1") {
					t.Errorf("backend should have seen the name with %%2F kept; got %s", body)
				}
			}},
		{name: "query: scalar, enum by name", call: call{method: "GET", path: "/v1/shelves/1/books?page_size=1&genre=GENRE_FICTION"}, status: 200,
			want: `{"request":{"parent":"shelves/1","pageSize":1,"genre":"GENRE_FICTION"}}`,
			check: func(t *testing.T, _ *http.Response, body []byte) {
				if n := strings.Count(string(body), `"title"`); n != 1 {
					t.Errorf("page_size=1: got %d books, want 1", n)
				}
			}},
		{name: "query: enum by number", call: call{method: "GET", path: "/v1/shelves/2/books?genre=2"}, status: 200,
			want: `{"request":{"genre":"GENRE_SCIENCE"}}`},
		{name: "query: repeated scalar and repeated enum", call: call{method: "GET", path: "/v1/shelves/1/books?tags=a&tags=b&genres=GENRE_POETRY&genres=1"}, status: 200,
			want: `{"request":{"tags":["a","b"],"genres":["GENRE_POETRY","GENRE_FICTION"]}}`},
		{name: "query: nested message fields, proto and JSON names", call: call{method: "GET", path: "/v1/shelves/1/books?min_review.stars=4&minReview.reviewer=ann"}, status: 200,
			want: `{"request":{"minReview":{"stars":4,"reviewer":"ann"}}}`},
		{name: "query: well-known types", call: call{method: "GET", path: "/v1/shelves/1/books?published_after=2020-01-02T03:04:05Z&max_age=90s&read_mask=title,author&author=Frank%20Herbert"}, status: 200,
			want: `{"request":{"publishedAfter":"2020-01-02T03:04:05Z","maxAge":"90s","readMask":"title,author","author":"Frank Herbert"}}`},
		{name: "query: bool and double", call: call{method: "GET", path: "/v1/shelves/1/books?include_drafts=true&min_rating=4.5"}, status: 200,
			want: `{"request":{"includeDrafts":true,"minRating":4.5}}`},
		{name: "query cannot override a path variable", call: call{method: "GET", path: "/v1/shelves/1/books?parent=shelves/2"}, status: 200,
			want: `{"request":{"parent":"shelves/1"}}`},
		{name: "unknown query parameters are ignored", call: call{method: "GET", path: "/v1/shelves/1/books?no_such_field=1"}, status: 200,
			want: `{"request":{"parent":"shelves/1"}}`},
		{name: "PATCH fills update_mask from the body's fields", call: call{method: "PATCH", path: "/v1/shelves/1/books/2", body: `{"title":"Dune Messiah"}`}, status: 200,
			want: `{"name":"shelves/1/books/2","title":"Dune Messiah","author":"Frank Herbert"}`},
		{name: "PATCH with an explicit update_mask", call: call{method: "PATCH", path: "/v1/shelves/2/books/1?update_mask=author", body: `{"title":"ignored","author":"S. Hawking"}`}, status: 200,
			want: `{"title":"A Brief History of Time","author":"S. Hawking"}`},
		{name: "response_body selects a repeated field", call: call{method: "GET", path: "/v1/shelves/2/books:titles"}, status: 200,
			check: func(t *testing.T, _ *http.Response, body []byte) {
				s := strings.TrimSpace(string(body))
				if !strings.HasPrefix(s, "[") || !strings.Contains(s, `"name":"shelves/2/books/1"`) {
					t.Errorf("want a JSON array of books, got %s", body)
				}
			}},
		{name: "HttpBody response", call: call{method: "GET", path: "/v1/shelves/1/books/1/cover"}, status: 200,
			check: func(t *testing.T, resp *http.Response, body []byte) {
				if ct := resp.Header.Get("Content-Type"); ct != "image/png" {
					t.Errorf("Content-Type: got %q, want image/png", ct)
				}
				if !strings.HasPrefix(string(body), "\x89PNG") {
					t.Errorf("want raw PNG bytes, got %q", body)
				}
			}},
		{name: "custom verb with body *", call: call{method: "POST", path: "/v1/shelves/2/books/1:move", body: `{"otherShelf":"shelves/1"}`}, status: 200,
			want: `{"name":"shelves/1/books/3","title":"A Brief History of Time"}`},
		{name: "DELETE returns Empty as {}", call: call{method: "DELETE", path: "/v1/shelves/1/books/1"}, status: 200, want: `{}`},
		{name: "configured header in, Grpc-Metadata-* out", call: call{method: "GET", path: "/v1/shelves/2",
			header: map[string]string{"X-Echo": "hello"}}, status: 200,
			check: func(t *testing.T, resp *http.Response, _ []byte) {
				if got := resp.Header.Get("Grpc-Metadata-X-Echo"); got != "hello" {
					t.Errorf("Grpc-Metadata-X-Echo: got %q, want hello", got)
				}
			}},
		{name: "TE: trailers gets Grpc-Trailer-*", call: call{method: "GET", path: "/v1/shelves/2",
			header: map[string]string{"TE": "trailers"}}, status: 200,
			check: func(t *testing.T, resp *http.Response, _ []byte) {
				if got := resp.Trailer.Get("Grpc-Trailer-X-Served-By"); got != "bookstore" {
					t.Errorf("trailer Grpc-Trailer-X-Served-By: got %q, want bookstore", got)
				}
			}},
		{name: "backend status maps to HTTP with details", call: call{method: "GET", path: "/v1/shelves/2",
			header: map[string]string{"X-Fail": "NOT_FOUND"}}, status: 404,
			want: `{"code":5,"message":"forced failure"}`,
			check: func(t *testing.T, _ *http.Response, body []byte) {
				if !strings.Contains(string(body), "google.rpc.ErrorInfo") {
					t.Errorf("details should carry the backend's ErrorInfo: %s", body)
				}
			}},
		{name: "binary trailers are base64, so the response stays valid HTTP", call: call{method: "GET", path: "/v1/shelves/2",
			header: map[string]string{"X-Fail": "NOT_FOUND", "TE": "trailers"}}, status: 404,
			check: func(t *testing.T, resp *http.Response, _ []byte) {
				v := resp.Trailer.Get("Grpc-Trailer-Grpc-Status-Details-Bin")
				raw, err := base64.RawStdEncoding.DecodeString(v)
				if err != nil || !strings.Contains(string(raw), "forced failure") {
					t.Errorf("Grpc-Trailer-Grpc-Status-Details-Bin: got %q (%v), want base64 of the status", v, err)
				}
			}},
		{name: "Grpc-Timeout shorter than the backend's work", call: call{method: "GET", path: "/v1/shelves/2",
			header: map[string]string{"Grpc-Timeout": "50m", "X-Delay": "2s"}}, status: 504,
			want: `{"code":4}`},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			resp, body := tc.call.do(t, env.URL)
			if resp.StatusCode != tc.status {
				t.Fatalf("%s %s: got status %d, want %d; body %s", tc.call.method, tc.call.path, resp.StatusCode, tc.status, body)
			}
			if tc.want != "" {
				checkSubset(t, body, tc.want)
			}
			if tc.check != nil {
				tc.check(t, resp, body)
			}
		})
	}
}

// forwardTestHeaders lets the bookstore's test controls (x-echo, x-fail,
// x-delay) through the REST door.
func forwardTestHeaders(c *configv1.Config) {
	c.Rest = &configv1.Rest{ForwardHeaders: []string{"X-Echo", "X-Fail", "X-Delay"}}
}

func TestHTTPBodyRequest(t *testing.T) {
	env := servertest.Start(t, servertest.Options{})
	put := call{method: "PUT", path: "/v1/shelves/1/books/2/cover", body: "plain cover",
		header: map[string]string{"Content-Type": "text/plain"}}
	if resp, body := put.do(t, env.URL); resp.StatusCode != 200 {
		t.Fatalf("PUT cover: got %d, want 200; %s", resp.StatusCode, body)
	}
	resp, body := call{method: "GET", path: "/v1/shelves/1/books/2/cover"}.do(t, env.URL)
	if got := resp.Header.Get("Content-Type"); got != "text/plain" {
		t.Errorf("Content-Type: got %q, want text/plain", got)
	}
	if string(body) != "plain cover" {
		t.Errorf("cover: got %q, want %q", body, "plain cover")
	}
}

func TestStreaming(t *testing.T) {
	env := servertest.Start(t, servertest.Options{})
	t.Run("server streaming is NDJSON of results", func(t *testing.T) {
		resp, body := call{method: "GET", path: "/v1/shelves/1/books:watch"}.do(t, env.URL)
		if resp.StatusCode != 200 {
			t.Fatalf("got %d: %s", resp.StatusCode, body)
		}
		lines := ndjson(t, body)
		if len(lines) != 2 {
			t.Fatalf("got %d lines, want 2: %s", len(lines), body)
		}
		for i, want := range []string{"shelves/1/books/1", "shelves/1/books/2"} {
			r, _ := lines[i]["result"].(map[string]any)
			if r["name"] != want {
				t.Errorf("line %d: got %v, want result.name %s", i, lines[i], want)
			}
		}
	})
	t.Run("client streaming from an NDJSON body", func(t *testing.T) {
		body := `{"parent":"shelves/2","book":{"title":"Cosmos"}}` + "\n" + `{"parent":"shelves/2","book":{"title":"Pale Blue Dot"}}`
		resp, out := call{method: "POST", path: "/v1/books:import", body: body}.do(t, env.URL)
		if resp.StatusCode != 200 {
			t.Fatalf("got %d: %s", resp.StatusCode, out)
		}
		checkSubset(t, out, `{"imported":2}`)
	})
	t.Run("bidi streaming from an NDJSON body", func(t *testing.T) {
		body := `{"name":"shelves/1/books/2"}` + "\n" + `{"name":"shelves/2/books/1"}` + "\n"
		resp, out := call{method: "POST", path: "/v1/books:lookup", body: body}.do(t, env.URL)
		if resp.StatusCode != 200 {
			t.Fatalf("got %d: %s", resp.StatusCode, out)
		}
		lines := ndjson(t, out)
		if len(lines) != 2 {
			t.Fatalf("got %d lines, want 2: %s", len(lines), out)
		}
		r, _ := lines[1]["result"].(map[string]any)
		if r["title"] != "A Brief History of Time" {
			t.Errorf("second result: got %v", lines[1])
		}
	})
	t.Run("a stream failing mid-way ends with an error object", func(t *testing.T) {
		body := `{"name":"shelves/1/books/1"}` + "\n" + `{"name":"shelves/1/books/99"}` + "\n"
		resp, out := call{method: "POST", path: "/v1/books:lookup", body: body}.do(t, env.URL)
		if resp.StatusCode != 200 {
			t.Fatalf("got %d: %s", resp.StatusCode, out)
		}
		lines := ndjson(t, out)
		if len(lines) != 2 || lines[1]["error"] == nil {
			t.Fatalf("want a result then an error, got %s", out)
		}
		e, _ := lines[1]["error"].(map[string]any)
		if e["code"] != float64(5) {
			t.Errorf("error code: got %v, want 5", e["code"])
		}
	})
	count := func() int {
		_, list := call{method: "GET", path: "/v1/shelves/2/books"}.do(t, env.URL)
		return strings.Count(string(list), `"title"`)
	}
	t.Run("malformed first message of a client stream is 400 and the backend sees nothing", func(t *testing.T) {
		before, calls := count(), env.Backend.Calls()
		resp, out := call{method: "POST", path: "/v1/books:import", body: `{"parent":` + "\n"}.do(t, env.URL)
		if resp.StatusCode != 400 {
			t.Fatalf("got %d, want 400: %s", resp.StatusCode, out)
		}
		checkSubset(t, out, `{"code":3}`)
		if got := env.Backend.Calls(); got != calls {
			t.Errorf("backend calls: got %d, want %d (no stream opened)", got, calls)
		}
		if after := count(); after != before {
			t.Errorf("books on shelf 2: got %d, want %d", after, before)
		}
	})
	t.Run("malformed JSON mid-stream is 400 after the messages before it", func(t *testing.T) {
		// Messages are forwarded as they are decoded (a long body is never
		// held whole), as grpc-gateway does: those before the bad one may
		// have reached the backend before the call was abandoned; the call
		// fails with the client's error, never the cancellation.
		before := count()
		body := `{"parent":"shelves/2","book":{"title":"Contact"}}` + "\n" + `{"parent":`
		resp, out := call{method: "POST", path: "/v1/books:import", body: body}.do(t, env.URL)
		if resp.StatusCode != 400 {
			t.Fatalf("got %d, want 400: %s", resp.StatusCode, out)
		}
		checkSubset(t, out, `{"code":3}`)
		if after := count(); after < before || after > before+1 {
			t.Errorf("books on shelf 2: got %d, want %d or %d", after, before, before+1)
		}
	})
}

// TestPatchValidatesWhatTheMaskNames (issue 6, point 2): a PATCH with a
// field body is validated only for the fields its update_mask names —
// derived from the JSON body's keys, or given — so a partial update no
// longer fails on fields it does not carry, while what it carries is
// still checked.
func TestPatchValidatesWhatTheMaskNames(t *testing.T) {
	env := servertest.Start(t, servertest.Options{})
	cases := []struct {
		name, path, body string
		status           int
	}{
		{"the review only (the title is not carried)", "/v1/shelves/1/books/2", `{"topReview":{"stars":4}}`, 200},
		{"the review only, invalid", "/v1/shelves/1/books/2", `{"topReview":{"stars":9}}`, 400},
		{"a given mask naming the review", "/v1/shelves/1/books/2?update_mask=top_review.stars", `{"topReview":{"stars":5},"title":""}`, 200},
		{"a given mask naming the title", "/v1/shelves/1/books/2?update_mask=title", `{"title":""}`, 400},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			resp, out := call{method: "PATCH", path: tc.path, body: tc.body}.do(t, env.URL)
			if resp.StatusCode != tc.status {
				t.Errorf("got %d %s, want %d", resp.StatusCode, out, tc.status)
			}
		})
	}
}
