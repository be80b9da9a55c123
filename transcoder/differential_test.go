package transcoder_test

import (
	"bytes"
	"context"
	"encoding/json"
	"net"
	"net/http"
	"net/http/httptest"
	"sort"
	"strings"
	"testing"

	"github.com/grpc-ecosystem/grpc-gateway/v2/runtime"
	"github.com/portico-gw/portico/examples/bookstore"
	bookstorev1 "github.com/portico-gw/portico/gen/example/bookstore/v1"
	"github.com/portico-gw/portico/server/servertest"
	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials/insecure"
)

// startReference serves the bookstore's grpc-gateway generated handler
// (from buf generate) with grpc-gateway's defaults, in front of its own
// freshly seeded bookstore backend.
func startReference(t *testing.T) string {
	t.Helper()
	lis, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	gs := bookstore.NewServer().Serve(lis)
	t.Cleanup(gs.Stop)
	// The same header forwarding as Portico's rest.forward_headers in
	// forwardTestHeaders: grpc-gateway's default matcher plus the
	// bookstore's test controls.
	mux := runtime.NewServeMux(runtime.WithIncomingHeaderMatcher(func(key string) (string, bool) {
		if k, ok := runtime.DefaultHeaderMatcher(key); ok {
			return k, true
		}
		switch k := strings.ToLower(key); k {
		case "x-echo", "x-fail", "x-delay":
			return k, true
		}
		return "", false
	}))
	err = bookstorev1.RegisterBookstoreServiceHandlerFromEndpoint(context.Background(), mux, lis.Addr().String(),
		[]grpc.DialOption{grpc.WithTransportCredentials(insecure.NewCredentials())})
	if err != nil {
		t.Fatal(err)
	}
	ts := httptest.NewServer(mux)
	t.Cleanup(ts.Close)
	return ts.URL
}

// TestDifferentialGRPCGateway sends the same requests, in the same order,
// to Portico and to grpc-gateway's generated handler, each in front of an
// identically seeded bookstore, and requires the same status, body and
// relevant headers. Deliberate differences (405 vs 501, HttpBody requests,
// path percent-decoding) are covered by the conformance tests instead.
func TestDifferentialGRPCGateway(t *testing.T) {
	portico := servertest.Start(t, servertest.Options{Config: forwardTestHeaders})
	ref := startReference(t)
	calls := []call{
		{method: "GET", path: "/v1/shelves"},
		{method: "GET", path: "/v1/shelves/1"},
		{method: "GET", path: "/v1/shelves/999"},
		{method: "GET", path: "/v1/shelves/abc", ownMessage: true},
		{method: "POST", path: "/v1/shelves", body: `{"theme":"Poetry"}`},
		{method: "POST", path: "/v1/shelves", body: `{"theme":"Travel","unknownField":1}`},
		{method: "POST", path: "/v1/shelves", body: `{"theme":`},
		{method: "POST", path: "/v1/shelves", body: `{"theme":42}`},
		{method: "POST", path: "/v1/shelves", body: `[]`},
		{method: "GET", path: "/v1/shelves/1/books"},
		{method: "GET", path: "/v1/shelves/1/books?page_size=1&genre=GENRE_FICTION"},
		{method: "GET", path: "/v1/shelves/1/books?genre=1&tags=classic"},
		{method: "GET", path: "/v1/shelves/1/books?tags=a&tags=b&genres=GENRE_POETRY&genres=2"},
		{method: "GET", path: "/v1/shelves/1/books?min_review.stars=4&minReview.reviewer=ann"},
		{method: "GET", path: "/v1/shelves/1/books?published_after=2020-01-02T03:04:05Z&max_age=90s&read_mask=title,author"},
		{method: "GET", path: "/v1/shelves/1/books?author=Frank%20Herbert"},
		{method: "GET", path: "/v1/shelves/1/books?include_drafts=true&min_rating=4.5"},
		{method: "GET", path: "/v1/shelves/1/books?page_size=notanumber", ownMessage: true},
		{method: "GET", path: "/v1/shelves/1/books?genre=GENRE_NOPE", ownMessage: true},
		{method: "GET", path: "/v1/shelves/1/books?unknown=1"},
		{method: "GET", path: "/v1/shelves/1/books:titles"},
		{method: "GET", path: "/v1/shelves/1/books/1"},
		{method: "GET", path: "/v1/books/shelves/1/books/2"},
		{method: "GET", path: "/v1/shelves/1/books/77"},
		{method: "POST", path: "/v1/shelves/1/books", body: `{"title":"Neuromancer","author":"William Gibson","genre":"GENRE_FICTION","publishTime":"1984-07-01T00:00:00Z","tags":["cyberpunk"],"pageCount":271}`},
		{method: "PATCH", path: "/v1/shelves/1/books/2", body: `{"title":"Dune Messiah"}`},
		{method: "PATCH", path: "/v1/shelves/1/books/2", body: `{"title":"Dune","topReview":{"stars":5}}`},
		{method: "PATCH", path: "/v1/shelves/1/books/2?update_mask=author", body: `{"title":"x","author":"F. Herbert"}`},
		{method: "GET", path: "/v1/shelves/1/books/2"},
		{method: "POST", path: "/v1/shelves/1/books/1:move", body: `{"otherShelf":"shelves/2"}`},
		{method: "GET", path: "/v1/shelves/2/books"},
		{method: "GET", path: "/v1/shelves/2/books/1/cover"},
		{method: "DELETE", path: "/v1/shelves/2/books/1"},
		{method: "GET", path: "/v1/shelves/1/books:watch"},
		{method: "POST", path: "/v1/books:import", body: `{"parent":"shelves/2","book":{"title":"Cosmos"}}` + "\n" + `{"parent":"shelves/2","book":{"title":"Contact"}}`},
		{method: "POST", path: "/v1/books:lookup", body: `{"name":"shelves/1/books/2"}` + "\n"},
		{method: "GET", path: "/v1/shelves/1", header: map[string]string{"Grpc-Metadata-X-Echo": "hi"}}, // not forwarded by either default
		{method: "GET", path: "/v1/shelves/1", header: map[string]string{"X-Echo": "hi"}},
		{method: "GET", path: "/v1/shelves/1", header: map[string]string{"TE": "trailers"}},
		{method: "GET", path: "/v1/shelves/1", header: map[string]string{"X-Fail": "PERMISSION_DENIED"}},
		{method: "GET", path: "/v1/shelves/1", header: map[string]string{"X-Fail": "UNAVAILABLE"}},
		{method: "GET", path: "/v1/shelves/1", header: map[string]string{"X-Fail": "INVALID_ARGUMENT"}},
		{method: "GET", path: "/v1/shelves/1", header: map[string]string{"Grpc-Timeout": "bogus"}},
		// Which side of the deadline race reports first ("context deadline
		// exceeded" or "stream terminated by RST_STREAM") varies from run to
		// run on either gateway; status, code and details do not.
		{method: "GET", path: "/v1/shelves/1", header: map[string]string{"Grpc-Timeout": "50m", "X-Delay": "1s"}, ownMessage: true},
		{method: "GET", path: "/v1/shelves/1:watch", ownMessage: true},
		{method: "GET", path: "/v1/shelves/1/books:watch", header: map[string]string{"X-Fail": "NOT_FOUND"}},
		{method: "GET", path: "/v1/no/such/path"},
		{method: "DELETE", path: "/v1/shelves/1"},
		{method: "GET", path: "/v1/shelves/1"},
	}
	for _, c := range calls {
		t.Run(c.method+" "+c.path, func(t *testing.T) {
			pr, pb := c.do(t, portico.URL)
			rr, rb := c.do(t, ref)
			if pr.StatusCode != rr.StatusCode {
				t.Errorf("status: portico %d, grpc-gateway %d\nportico: %s\ngrpc-gateway: %s", pr.StatusCode, rr.StatusCode, pb, rb)
			}
			pcmp, rcmp := compactJSON(pb), compactJSON(rb)
			if c.ownMessage {
				pcmp, rcmp = withoutMessage(t, pb), withoutMessage(t, rb)
			}
			if pcmp != rcmp {
				t.Errorf("body:\nportico:      %s\ngrpc-gateway: %s", pb, rb)
			}
			if p, r := relevantHeaders(pr), relevantHeaders(rr); p != r {
				t.Errorf("headers:\nportico:      %s\ngrpc-gateway: %s", p, r)
			}
		})
	}
}

// withoutMessage drops the "message" of an error body (also used where the
// message depends on timing, see the Grpc-Timeout row). Portico's messages
// for unparsable path and query values deliberately differ from
// grpc-gateway's: they name the field and the value in one sentence
// (`invalid value for field "page_size": "x" is not a valid int32`); code,
// details and HTTP status stay identical.
func withoutMessage(t *testing.T, body []byte) string {
	t.Helper()
	var m map[string]any
	if err := json.Unmarshal(body, &m); err != nil {
		t.Fatalf("error body is not JSON: %s", body)
	}
	if _, ok := m["message"]; !ok {
		t.Fatalf("error body without a message: %s", body)
	}
	delete(m, "message")
	out, _ := json.Marshal(m)
	return string(out)
}

// compactJSON removes insignificant whitespace from a JSON body (or from
// each line of a newline-delimited one): protojson inserts random spaces
// on purpose, and Portico's encoder inserts none. Anything that is not JSON
// (an HttpBody) is compared as it is.
func compactJSON(body []byte) string {
	lines := strings.Split(string(body), "\n")
	for i, line := range lines {
		if line == "" {
			continue
		}
		var buf bytes.Buffer
		if err := json.Compact(&buf, []byte(line)); err != nil {
			return string(body)
		}
		lines[i] = buf.String()
	}
	return strings.Join(lines, "\n")
}

// relevantHeaders renders the headers a client acts on: content type,
// metadata, trailers, WWW-Authenticate.
func relevantHeaders(resp *http.Response) string {
	var lines []string
	add := func(h http.Header, prefix string) {
		for k, vs := range h {
			if k == "Content-Type" || k == "Www-Authenticate" || strings.HasPrefix(k, "Grpc-") || k == "Trailer" {
				v := append([]string(nil), vs...)
				sort.Strings(v)
				lines = append(lines, prefix+k+": "+strings.Join(v, ","))
			}
		}
	}
	add(resp.Header, "")
	add(resp.Trailer, "trailer ")
	sort.Strings(lines)
	return strings.Join(lines, "; ")
}
