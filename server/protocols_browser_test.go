package server_test

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/cdproto/network"
	"github.com/chromedp/chromedp"
	"github.com/portico-gw/portico/auth/authtest"
	bookstorev1 "github.com/portico-gw/portico/gen/example/bookstore/v1"
	configv1 "github.com/portico-gw/portico/gen/portico/config/v1"
	"google.golang.org/grpc"
	"google.golang.org/grpc/metadata"
	"google.golang.org/protobuf/encoding/protojson"
	"google.golang.org/protobuf/proto"
)

// browserResult is what the page saw with one transport.
type browserResult struct {
	Unary           json.RawMessage   `json:"unary"`
	UnaryRequestID  string            `json:"unaryRequestId"`
	Stream          []json.RawMessage `json:"stream"`
	StreamRequestID string            `json:"streamRequestId"`
	Error           *browserError     `json:"error"`
	Anonymous       *browserError     `json:"anonymous"`
}

// browserError is a failed call as the page saw it (code: connect-web's
// Code number, the gRPC code).
type browserError struct {
	Code      any    `json:"code"`
	Message   string `json:"message"`
	RequestID string `json:"requestId"`
}

// TestBrowserConnectAndGRPCWeb: a page on another origin, bundled from
// @connectrpc/connect-web and @bufbuild/protobuf and loaded in headless
// Chromium, calls a unary (GetShelf) and a server-streaming method
// (WatchBooks) through createConnectTransport (JSON and binary) and
// createGrpcWebTransport, with the session token in an HttpOnly cookie of
// the gateway's (sent by credentials: "include", which needs the CORS
// preflight and Allow-Credentials). Each answer is the message a gRPC
// client gets, each call gives the page its request ID, and without the
// cookie the call is UNAUTHENTICATED, with a request ID too.
func TestBrowserConnectAndGRPCWeb(t *testing.T) {
	js := browserBundle(t)
	ctx, problems := startBrowser(t)
	page := startPageServer(t, js, descriptorSet(t, "example.bookstore.v1.BookstoreService"))
	e := startAuth(t, func(c *configv1.Config, _ *authtest.Issuer) {
		c.Auth.Providers[0].GetJwt().TokenSources = []*configv1.TokenSource{
			{Kind: &configv1.TokenSource_Cookie{Cookie: "session"}},
		}
		c.Cors = &configv1.Cors{AllowedOrigins: []string{page.URL}, AllowCredentials: true}
	})
	if page.URL == e.URL {
		t.Fatal("the page and the gateway share an origin: the test needs two")
	}
	tok := e.iss.Token(t, nil)

	step := func(what string, a chromedp.Action[chromedp.Void]) {
		t.Helper()
		sctx, cancel := context.WithTimeout(ctx, 60*time.Second)
		defer cancel()
		if err := chromedp.Do(sctx, a); err != nil {
			t.Fatalf("%s: %v (page problems: %v)", what, err, problems())
		}
	}
	step("set the session cookie", func(ctx context.Context, tg *chromedp.Target) (chromedp.Void, error) {
		httpOnly := true
		return chromedp.Void{}, tg.Call(ctx, network.CommandSetCookie, &network.SetCookieParams{
			Name: "session", Value: tok, URL: e.URL, Path: "/", HTTPOnly: &httpOnly,
		}, nil)
	})
	q := url.Values{"gateway": {e.URL}, "request_id_header": {"x-request-id"}}
	step("run the page", chromedp.Steps(
		chromedp.Navigate(page.URL+"/?"+q.Encode()),
		chromedp.Poll[chromedp.Void](`window.results !== undefined`, chromedp.WithPollingTimeout(45*time.Second)),
	))
	raw, err := chromedp.Run(ctx, chromedp.Evaluate[string](`JSON.stringify(window.results)`))
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("the page saw: %s", raw)
	var results map[string]*browserResult
	if err := json.Unmarshal([]byte(raw), &results); err != nil {
		t.Fatalf("the page's results %q: %v", raw, err)
	}

	// The last call that reached the backend was gRPC-Web's WatchBooks
	// (the anonymous ones were refused at the gateway): it got the ID the
	// page read, and not the session cookie.
	md := e.rec.lastMD()
	if gw := results["grpc_web"]; gw != nil {
		if got := md.Get("x-request-id"); len(got) != 1 || got[0] != gw.StreamRequestID {
			t.Errorf("the backend got x-request-id %q, want the page's [%q]", got, gw.StreamRequestID)
		}
	}
	if got := md.Get("cookie"); len(got) > 0 {
		t.Errorf("the backend got cookie %q, want the session cookie withheld", got)
	}

	wantShelf, wantBooks := grpcReference(t, e.Conn, tok)
	seen := map[string]string{}
	for _, transport := range []string{"connect_json", "connect_proto", "grpc_web"} {
		r := results[transport]
		if r == nil {
			t.Errorf("%s: no result (page: %s)", transport, raw)
			continue
		}
		if r.Error != nil {
			t.Errorf("%s: the call failed: %+v", transport, *r.Error)
			continue
		}
		if got := canonicalJSON(t, r.Unary); got != wantShelf {
			t.Errorf("%s GetShelf: got %s, want %s (the gRPC door's answer)", transport, got, wantShelf)
		}
		var books []string
		for _, b := range r.Stream {
			books = append(books, canonicalJSON(t, b))
		}
		if got, want := strings.Join(books, "\n"), strings.Join(wantBooks, "\n"); got != want {
			t.Errorf("%s WatchBooks: got %d books\n%s\nwant %d\n%s", transport, len(books), got, len(wantBooks), want)
		}
		for what, id := range map[string]string{"GetShelf": r.UnaryRequestID, "WatchBooks": r.StreamRequestID} {
			if id == "" {
				t.Errorf("%s %s: the page read no request ID", transport, what)
			} else if prev, dup := seen[id]; dup {
				t.Errorf("%s %s: request ID %q already given to %s", transport, what, id, prev)
			}
			seen[id] = transport + " " + what
		}
		if a := r.Anonymous; a == nil || fmt.Sprint(a.Code) != "16" || a.RequestID == "" {
			t.Errorf("%s without the cookie: got %+v, want code 16 (UNAUTHENTICATED) with a request ID", transport, a)
		}
	}
	for _, p := range problems() {
		// The anonymous calls' 401s are logged by the browser as failed
		// loads; anything else (a CORS refusal, an exception) is a failure.
		if !strings.Contains(p, "status of 401") {
			t.Errorf("the page reported: %s", p)
		}
	}
}

// grpcReference is what a gRPC client with the token gets for the page's
// calls, as canonical protojson.
func grpcReference(t *testing.T, conn grpc.ClientConnInterface, tok string) (string, []string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	ctx = metadata.AppendToOutgoingContext(ctx, "authorization", "Bearer "+tok)
	client := bookstorev1.NewBookstoreServiceClient(conn)
	shelf, err := client.GetShelf(ctx, &bookstorev1.GetShelfRequest{Shelf: 1})
	if err != nil {
		t.Fatalf("gRPC GetShelf: %v", err)
	}
	stream, err := client.WatchBooks(ctx, &bookstorev1.WatchBooksRequest{Parent: "shelves/1"})
	if err != nil {
		t.Fatalf("gRPC WatchBooks: %v", err)
	}
	var books []string
	for {
		b, err := stream.Recv()
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatalf("gRPC WatchBooks: %v", err)
		}
		books = append(books, protoJSON(t, b))
	}
	if len(books) == 0 {
		t.Fatal("gRPC WatchBooks: no book on shelf 1; the test needs some")
	}
	return protoJSON(t, shelf), books
}

func protoJSON(t *testing.T, m proto.Message) string {
	t.Helper()
	b, err := protojson.Marshal(m)
	if err != nil {
		t.Fatal(err)
	}
	return canonicalJSON(t, b)
}

// canonicalJSON re-encodes a JSON value with sorted keys and no spaces.
func canonicalJSON(t *testing.T, b []byte) string {
	t.Helper()
	var v any
	if err := json.Unmarshal(b, &v); err != nil {
		t.Fatalf("%q: %v", b, err)
	}
	out, _ := json.Marshal(v)
	return string(out)
}
