package httpbackend

import (
	"context"
	"encoding/pem"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/grpc-ecosystem/grpc-gateway/v2/runtime"
	"github.com/portico-gw/portico/catalog"
	"github.com/portico-gw/portico/catalog/httprule"
	"github.com/portico-gw/portico/examples/bookstore"
	bookstorev1 "github.com/portico-gw/portico/gen/example/bookstore/v1"
	configv1 "github.com/portico-gw/portico/gen/portico/config/v1"
	"github.com/portico-gw/portico/integrations"
	"github.com/portico-gw/portico/pool"
	"google.golang.org/genproto/googleapis/api/httpbody"
	"google.golang.org/genproto/googleapis/rpc/errdetails"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/grpc/metadata"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/durationpb"
	"google.golang.org/protobuf/types/known/fieldmaskpb"
)

// restBookstore is a REST service: the bookstore's grpc-gateway handlers
// in front of a bookstore, exactly the HTTP/JSON contract its rules
// describe. It records the requests it gets.
type restBookstore struct {
	*httptest.Server
	store *bookstore.Server
	mu    sync.Mutex
	reqs  []*http.Request
}

func (r *restBookstore) last() *http.Request {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.reqs[len(r.reqs)-1]
}

func startREST(t *testing.T) *restBookstore {
	t.Helper()
	lis, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	store := bookstore.NewServer()
	gs := store.Serve(lis)
	t.Cleanup(gs.Stop)
	mux := runtime.NewServeMux(runtime.WithIncomingHeaderMatcher(func(k string) (string, bool) {
		if strings.HasPrefix(strings.ToLower(k), "x-") {
			return strings.ToLower(k), true
		}
		return runtime.DefaultHeaderMatcher(k)
	}))
	ctx, cancel := context.WithCancel(context.Background())
	t.Cleanup(cancel)
	if err := bookstorev1.RegisterBookstoreServiceHandlerFromEndpoint(ctx, mux, lis.Addr().String(),
		[]grpc.DialOption{grpc.WithTransportCredentials(insecure.NewCredentials())}); err != nil {
		t.Fatal(err)
	}
	rb := &restBookstore{store: store}
	rb.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		rb.mu.Lock()
		rb.reqs = append(rb.reqs, r.Clone(context.Background()))
		rb.mu.Unlock()
		mux.ServeHTTP(w, r)
	}))
	t.Cleanup(rb.Close)
	return rb
}

// newIntegration builds an http integration to url and checks the
// bookstore's methods against it; it returns the methods it accepted.
func newIntegration(t *testing.T, url string, h *configv1.HttpIntegration) (*Integration, map[string]*catalog.Method, map[string]error) {
	t.Helper()
	if h == nil {
		h = &configv1.HttpIntegration{}
	}
	h.Url = url
	b, err := Factory(integrations.Env{Pool: pool.New()}, &configv1.Integration{Name: "legacy", Kind: &configv1.Integration_Http{Http: h}})
	if err != nil {
		t.Fatalf("Factory: %v", err)
	}
	i := b.(*Integration)
	t.Cleanup(func() { i.Close() })
	cat, err := catalog.New(catalog.Options{APIs: []catalog.API{{Where: "apis[0]", Services: []string{"example.bookstore.v1.BookstoreService"},
		Backend: i, BackendName: "legacy", DefaultBindings: false}}})
	if err != nil {
		t.Fatal(err)
	}
	checks := map[string]error{}
	for _, m := range cat.MethodList() {
		checks[string(m.Desc.Name())] = i.Check(m)
	}
	return i, cat.Methods, checks
}

func method(t *testing.T, ms map[string]*catalog.Method, name string) *catalog.Method {
	t.Helper()
	m, ok := ms["/example.bookstore.v1.BookstoreService/"+name]
	if !ok {
		t.Fatalf("no method %s", name)
	}
	return m
}

func testContext(t *testing.T) context.Context {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	t.Cleanup(cancel)
	return ctx
}

// TestCheck: a method without an HTTP rule, or with a client stream,
// cannot be sent to an HTTP backend: a config error.
func TestCheck(t *testing.T) {
	_, _, checks := newIntegration(t, "http://127.0.0.1:1", nil)
	for name, wantErr := range map[string]string{
		"GetShelf": "", "WatchBooks": "", "UploadBookCover": "",
		"GetShelfStats": "needs the method's HTTP rule", "Reindex": "needs the method's HTTP rule",
		"ImportBooks": "cannot send a client stream", "LookupBooks": "cannot send a client stream",
	} {
		err := checks[name]
		if wantErr == "" && err != nil || wantErr != "" && (err == nil || !strings.Contains(err.Error(), wantErr)) {
			t.Errorf("%s: got %v, want %q", name, err, wantErr)
		}
	}
}

// TestReverseTranscoding: each unary method called through the http
// integration gives what the same call on the gRPC backend gives.
func TestReverseTranscoding(t *testing.T) {
	rest := startREST(t)
	i, ms, _ := newIntegration(t, rest.URL+"/", nil)
	tests := []struct {
		method     string
		req        proto.Message
		want       proto.Message
		wantMethod string
		wantURL    string // path and query the backend got
	}{
		{"GetShelf", &bookstorev1.GetShelfRequest{Shelf: 1}, &bookstorev1.Shelf{Id: 1, Theme: "Fiction"}, "GET", "/v1/shelves/1"},
		{"ListBooks", &bookstorev1.ListBooksRequest{Parent: "shelves/1", PageSize: 1, Genre: bookstorev1.Genre_GENRE_FICTION},
			nil, "GET", "/v1/shelves/1/books?genre=GENRE_FICTION&pageSize=1"},
		{"GetBook", &bookstorev1.GetBookRequest{Name: "shelves/1/books/2"}, nil, "GET", "/v1/shelves/1/books/2"},
		{"CreateShelf", &bookstorev1.CreateShelfRequest{Shelf: &bookstorev1.Shelf{Theme: "Poetry"}}, &bookstorev1.Shelf{Id: 3, Theme: "Poetry"}, "POST", "/v1/shelves"},
		{"MoveBook", &bookstorev1.MoveBookRequest{Name: "shelves/1/books/1", OtherShelf: "shelves/2"}, nil, "POST", "/v1/shelves/1/books/1:move"},
		{"UpdateBook", &bookstorev1.UpdateBookRequest{Book: &bookstorev1.Book{Name: "shelves/1/books/2", Title: "Dune Messiah"},
			UpdateMask: &fieldmaskpb.FieldMask{Paths: []string{"title"}}}, nil, "PATCH", "/v1/shelves/1/books/2?updateMask=title"},
		{"DeleteShelf", &bookstorev1.DeleteShelfRequest{Shelf: 3}, nil, "DELETE", "/v1/shelves/3"},
	}
	direct := bookstore.NewServer() // the same seed: what the gRPC backend answers
	for _, tt := range tests {
		t.Run(tt.method, func(t *testing.T) {
			m := method(t, ms, tt.method)
			got, err := i.Unary(testContext(t), m, tt.req)
			if err != nil {
				t.Fatalf("Unary: %v", err)
			}
			want := tt.want
			if want == nil {
				want = callDirect(t, direct, tt.method, tt.req)
			} else {
				callDirect(t, direct, tt.method, tt.req) // keep the two stores in step
			}
			if !proto.Equal(got, want) {
				t.Errorf("got %v, want %v", got, want)
			}
			r := rest.last()
			if r.Method != tt.wantMethod || r.URL.RequestURI() != tt.wantURL {
				t.Errorf("backend got %s %s, want %s %s", r.Method, r.URL.RequestURI(), tt.wantMethod, tt.wantURL)
			}
		})
	}
}

// callDirect calls the bookstore's method in-process.
func callDirect(t *testing.T, s *bookstore.Server, name string, req proto.Message) proto.Message {
	t.Helper()
	ctx := context.Background()
	var resp proto.Message
	var err error
	switch name {
	case "ListBooks":
		resp, err = s.ListBooks(ctx, req.(*bookstorev1.ListBooksRequest))
	case "GetBook":
		resp, err = s.GetBook(ctx, req.(*bookstorev1.GetBookRequest))
	case "CreateShelf":
		resp, err = s.CreateShelf(ctx, req.(*bookstorev1.CreateShelfRequest))
	case "MoveBook":
		resp, err = s.MoveBook(ctx, req.(*bookstorev1.MoveBookRequest))
	case "UpdateBook":
		resp, err = s.UpdateBook(ctx, req.(*bookstorev1.UpdateBookRequest))
	case "DeleteShelf":
		resp, err = s.DeleteShelf(ctx, req.(*bookstorev1.DeleteShelfRequest))
	case "GetShelf":
		resp, err = s.GetShelf(ctx, req.(*bookstorev1.GetShelfRequest))
	default:
		t.Fatalf("callDirect: %s", name)
	}
	if err != nil {
		t.Fatalf("direct %s: %v", name, err)
	}
	return resp
}

// TestBackendStatus: a backend's error answer becomes its gRPC status,
// details kept when it is a gateway's error body; the call's metadata
// reaches the backend as headers, its response headers come back as
// header metadata.
func TestBackendStatus(t *testing.T) {
	rest := startREST(t)
	i, ms, _ := newIntegration(t, rest.URL, nil)
	_, err := i.Unary(testContext(t), method(t, ms, "GetBook"), &bookstorev1.GetBookRequest{Name: "shelves/1/books/99"})
	if st := status.Convert(err); st.Code() != codes.NotFound {
		t.Errorf("missing book: got %v, want NotFound", err)
	}

	ctx := metadata.NewIncomingContext(testContext(t), metadata.Pairs(bookstore.FailKey, "PERMISSION_DENIED", "x-portico-principal", "alice"))
	_, err = i.Unary(ctx, method(t, ms, "GetShelf"), &bookstorev1.GetShelfRequest{Shelf: 1})
	st := status.Convert(err)
	if st.Code() != codes.PermissionDenied || st.Message() != bookstore.FailMessage {
		t.Errorf("got %v %q, want PermissionDenied %q", st.Code(), st.Message(), bookstore.FailMessage)
	}
	if len(st.Details()) != 1 {
		t.Fatalf("got %d details, want the backend's ErrorInfo", len(st.Details()))
	}
	if ei, ok := st.Details()[0].(*errdetails.ErrorInfo); !ok || ei.GetReason() != bookstore.FailReason {
		t.Errorf("got detail %v, want ErrorInfo %s", st.Details()[0], bookstore.FailReason)
	}
	if got := rest.last().Header.Get("X-Portico-Principal"); got != "alice" {
		t.Errorf("backend got X-Portico-Principal %q, want alice (identity metadata passes)", got)
	}

	// Response headers come back as header metadata.
	tr := &headerStream{}
	ctx = grpc.NewContextWithServerTransportStream(metadata.NewIncomingContext(testContext(t), metadata.Pairs(bookstore.EchoKey, "hi")), tr)
	if _, err := i.Unary(ctx, method(t, ms, "GetShelf"), &bookstorev1.GetShelfRequest{Shelf: 1}); err != nil {
		t.Fatal(err)
	}
	if got := tr.header.Get(bookstore.EchoKey); len(got) != 1 || got[0] != "hi" {
		t.Errorf("got header metadata %v, want x-echo: hi (the gateway's Grpc-Metadata-X-Echo)", tr.header)
	}
	if got := tr.header.Get("content-type"); len(got) != 0 {
		t.Errorf("got content-type %q in the metadata, want it dropped", got)
	}
}

// headerStream records grpc.SetHeader.
type headerStream struct {
	header metadata.MD
}

func (s *headerStream) Method() string { return "/x/y" }
func (s *headerStream) SetHeader(md metadata.MD) error {
	s.header = metadata.Join(s.header, md)
	return nil
}
func (s *headerStream) SendHeader(md metadata.MD) error { return s.SetHeader(md) }
func (s *headerStream) SetTrailer(metadata.MD) error    { return nil }

// TestHTTPBody: an HttpBody request body is sent raw with its type (as
// the REST door takes one); an HttpBody response is the raw body and its
// type.
func TestHTTPBody(t *testing.T) {
	var gotType string
	var gotBody []byte
	raw := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		gotType = r.Header.Get("Content-Type")
		gotBody, _ = io.ReadAll(r.Body)
		io.WriteString(w, "{}")
	}))
	t.Cleanup(raw.Close)
	i, ms, _ := newIntegration(t, raw.URL, nil)
	cover := &httpbody.HttpBody{ContentType: "image/png", Data: []byte("\x89PNG...")}
	if _, err := i.Unary(testContext(t), method(t, ms, "UploadBookCover"), &bookstorev1.UploadBookCoverRequest{Name: "shelves/1/books/1", Cover: cover}); err != nil {
		t.Fatalf("UploadBookCover: %v", err)
	}
	if gotType != "image/png" || string(gotBody) != string(cover.Data) {
		t.Errorf("backend got %q %q, want image/png and the raw bytes", gotType, gotBody)
	}

	rest := startREST(t)
	if _, err := rest.store.UploadBookCover(context.Background(), &bookstorev1.UploadBookCoverRequest{Name: "shelves/1/books/1", Cover: cover}); err != nil {
		t.Fatal(err)
	}
	i, ms, _ = newIntegration(t, rest.URL, nil)
	got, err := i.Unary(testContext(t), method(t, ms, "GetBookCover"), &bookstorev1.GetBookCoverRequest{Name: "shelves/1/books/1"})
	if err != nil {
		t.Fatalf("GetBookCover: %v", err)
	}
	if !proto.Equal(got, cover) {
		t.Errorf("got %v, want %v", got, cover)
	}
}

// TestServerStream: a server stream is read from grpc-gateway's
// newline-delimited results.
func TestServerStream(t *testing.T) {
	rest := startREST(t)
	i, ms, _ := newIntegration(t, rest.URL, nil)
	ss := &collectStream{ctx: testContext(t), in: &bookstorev1.WatchBooksRequest{Parent: "shelves/1"}}
	if err := i.Stream(ss.ctx, method(t, ms, "WatchBooks"), ss); err != nil {
		t.Fatalf("Stream: %v", err)
	}
	if len(ss.out) != 2 || ss.out[1].(*bookstorev1.Book).GetTitle() != "Dune" {
		t.Errorf("got %v, want the two books of shelf 1", ss.out)
	}
	ss = &collectStream{ctx: testContext(t), in: &bookstorev1.WatchBooksRequest{Parent: "shelves/9"}}
	if err := i.Stream(ss.ctx, method(t, ms, "WatchBooks"), ss); status.Code(err) != codes.NotFound {
		t.Errorf("missing shelf: got %v, want NotFound", err)
	}
}

type collectStream struct {
	grpc.ServerStream
	ctx  context.Context
	in   proto.Message
	out  []proto.Message
	read bool
}

func (s *collectStream) Context() context.Context    { return s.ctx }
func (s *collectStream) SetHeader(metadata.MD) error { return nil }
func (s *collectStream) SendMsg(m any) error         { s.out = append(s.out, m.(proto.Message)); return nil }
func (s *collectStream) RecvMsg(m any) error {
	if s.read {
		return io.EOF
	}
	s.read = true
	proto.Merge(m.(proto.Message), s.in)
	return nil
}

// TestStatusMapping: HTTP statuses of plain HTTP backends map to codes;
// a body that looks like a gateway's error but disagrees with the HTTP
// status is not trusted.
func TestStatusMapping(t *testing.T) {
	tests := []struct {
		status   int
		body     string
		wantCode codes.Code
		wantMsg  string
	}{
		{404, "not here", codes.NotFound, "Not Found"},
		{409, "", codes.Aborted, "Conflict"},
		{429, "", codes.ResourceExhausted, "Too Many Requests"},
		{503, "", codes.Unavailable, "Service Unavailable"},
		{504, "", codes.DeadlineExceeded, "Gateway Timeout"},
		{418, "", codes.FailedPrecondition, "I'm a teapot"},
		{302, "", codes.Unknown, "Found"},
		{400, `{"type":"about:blank","title":"Bad","detail":"page_size too big","status":400}`, codes.InvalidArgument, "page_size too big"},
		{404, `{"error":{"code":404,"message":"no such thing","status":"NOT_FOUND"}}`, codes.NotFound, "no such thing"},
		{500, `{"code":5,"message":"app error 5"}`, codes.Internal, "Internal Server Error"},
		{404, `{"code":5,"message":"shelf 9"}`, codes.NotFound, "shelf 9"},
	}
	for _, tt := range tests {
		srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Location", "http://elsewhere.example/")
			w.WriteHeader(tt.status)
			io.WriteString(w, tt.body)
		}))
		i, ms, _ := newIntegration(t, srv.URL, nil)
		_, err := i.Unary(testContext(t), method(t, ms, "GetShelf"), &bookstorev1.GetShelfRequest{Shelf: 1})
		st := status.Convert(err)
		if st.Code() != tt.wantCode || st.Message() != tt.wantMsg {
			t.Errorf("HTTP %d %s: got %v %q, want %v %q", tt.status, tt.body, st.Code(), st.Message(), tt.wantCode, tt.wantMsg)
		}
		srv.Close()
	}
}

// TestBackendDownAndSlow: a backend that cannot be reached is the plain
// UNAVAILABLE; one slower than the timeout is DEADLINE_EXCEEDED; a bad
// answer is INTERNAL.
func TestBackendDownAndSlow(t *testing.T) {
	lis, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := lis.Addr().String()
	lis.Close()
	i, ms, _ := newIntegration(t, "http://"+addr, nil)
	_, err = i.Unary(testContext(t), method(t, ms, "GetShelf"), &bookstorev1.GetShelfRequest{Shelf: 1})
	if st := status.Convert(err); st.Code() != codes.Unavailable || st.Message() != "backend unavailable" {
		t.Errorf("down: got %v %q, want Unavailable %q", st.Code(), st.Message(), "backend unavailable")
	}

	release := make(chan struct{})
	slow := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		select {
		case <-release:
		case <-r.Context().Done():
		}
	}))
	t.Cleanup(slow.Close)
	t.Cleanup(func() { close(release) })
	i, ms, _ = newIntegration(t, slow.URL, &configv1.HttpIntegration{Timeout: durationpb.New(100 * time.Millisecond)})
	_, err = i.Unary(testContext(t), method(t, ms, "GetShelf"), &bookstorev1.GetShelfRequest{Shelf: 1})
	if status.Code(err) != codes.DeadlineExceeded {
		t.Errorf("slow: got %v, want DeadlineExceeded", err)
	}

	bad := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { io.WriteString(w, `{"id": "x"}`) }))
	t.Cleanup(bad.Close)
	i, ms, _ = newIntegration(t, bad.URL, nil)
	_, err = i.Unary(testContext(t), method(t, ms, "GetShelf"), &bookstorev1.GetShelfRequest{Shelf: 1})
	if st := status.Convert(err); st.Code() != codes.Internal || !strings.Contains(st.Message(), "not a example.bookstore.v1.Shelf") {
		t.Errorf("bad answer: got %v, want Internal", err)
	}
}

// TestBadPathValue: a value that would leave the route's pattern (or an
// empty one) is refused before anything is sent.
func TestBadPathValue(t *testing.T) {
	rest := startREST(t)
	i, ms, _ := newIntegration(t, rest.URL, nil)
	for _, name := range []string{"shelves/1/books/1/../../../admin", "shelves/1", "", "shelves//books/1"} {
		_, err := i.Unary(testContext(t), method(t, ms, "GetBook"), &bookstorev1.GetBookRequest{Name: name})
		if status.Code(err) != codes.InvalidArgument {
			t.Errorf("name %q: got %v, want InvalidArgument", name, err)
		}
	}
	rest.mu.Lock()
	defer rest.mu.Unlock()
	if len(rest.reqs) != 0 {
		t.Errorf("got %d backend requests, want none", len(rest.reqs))
	}
	// A one-segment variable is escaped whole (a slash too), a
	// multi-segment one segment by segment.
	if got, err := expandPath(method(t, ms, "GetShelf").Bindings[0].Template, (&bookstorev1.GetShelfRequest{Shelf: 7}).ProtoReflect()); err != nil || got != "/v1/shelves/7" {
		t.Errorf("got %q, %v", got, err)
	}
	tpl, err := httprule.Parse("/v1/{parent}/x/{name=shelves/*/books/**}:go")
	if err != nil {
		t.Fatal(err)
	}
	msg := &bookstorev1.CreateBookRequest{Parent: "a/b c", Book: &bookstorev1.Book{Name: "ignored"}}
	if got, err := expandPath(&httprule.Template{Raw: tpl.Raw, Segments: tpl.Segments, Verb: tpl.Verb, Vars: tpl.Vars[:1]}, msg.ProtoReflect()); err == nil {
		t.Errorf("a template with an unbound wildcard: got %q, want an error", got)
	}
	one, _ := httprule.Parse("/v1/{parent}:go")
	if got, err := expandPath(one, msg.ProtoReflect()); err != nil || got != "/v1/a%2Fb%20c:go" {
		t.Errorf("got %q, %v; want /v1/a%%2Fb%%20c:go", got, err)
	}
	deep, _ := httprule.Parse("/v1/{parent=shelves/**}")
	msg.Parent = "shelves/a b/c%d"
	if got, err := expandPath(deep, msg.ProtoReflect()); err != nil || got != "/v1/shelves/a%20b/c%25d" {
		t.Errorf("got %q, %v; want /v1/shelves/a%%20b/c%%25d", got, err)
	}
}

func TestFactoryErrors(t *testing.T) {
	for url, want := range map[string]string{
		"legacy.example.com/api":    "not an absolute http:// or https:// URL",
		"ftp://legacy.example.com/": "not an absolute http:// or https:// URL",
		"http://h/api?x=1":          "no query",
		"http://%zz":                "http.url",
	} {
		_, err := Factory(integrations.Env{}, &configv1.Integration{Name: "x", Kind: &configv1.Integration_Http{Http: &configv1.HttpIntegration{Url: url}}})
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("url %q: got %v, want an error containing %q", url, err, want)
		}
	}
	_, err := Factory(integrations.Env{}, &configv1.Integration{Name: "x", Kind: &configv1.Integration_Http{Http: &configv1.HttpIntegration{
		Url: "http://h/", Tls: &configv1.ClientTls{ServerName: "h"}}}})
	if err == nil || !strings.Contains(err.Error(), "https://") {
		t.Errorf("tls on http://: got %v", err)
	}
}

// TestHTTPS: an https URL is reached with the configured CA (HTTP/2 when
// the backend offers it); a backend whose certificate the CA did not sign
// is UNAVAILABLE.
func TestHTTPS(t *testing.T) {
	var proto string
	srv := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		proto = r.Proto
		io.WriteString(w, `{"id":"5","theme":"Secure"}`)
	}))
	srv.EnableHTTP2 = true
	srv.StartTLS()
	t.Cleanup(srv.Close)
	dir := t.TempDir()
	ca := filepath.Join(dir, "ca.pem")
	if err := os.WriteFile(ca, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: srv.Certificate().Raw}), 0o600); err != nil {
		t.Fatal(err)
	}
	i, ms, _ := newIntegration(t, srv.URL, &configv1.HttpIntegration{Tls: &configv1.ClientTls{CaFile: ca}})
	got, err := i.Unary(testContext(t), method(t, ms, "GetShelf"), &bookstorev1.GetShelfRequest{Shelf: 5})
	if err != nil {
		t.Fatalf("Unary over https: %v", err)
	}
	if got.(*bookstorev1.Shelf).GetTheme() != "Secure" || proto != "HTTP/2.0" {
		t.Errorf("got %v over %s, want the shelf over HTTP/2.0", got, proto)
	}

	// Without the CA: the system roots do not know the test certificate.
	i, ms, _ = newIntegration(t, srv.URL, &configv1.HttpIntegration{Tls: &configv1.ClientTls{ServerName: "example.com"}})
	_, err = i.Unary(testContext(t), method(t, ms, "GetShelf"), &bookstorev1.GetShelfRequest{Shelf: 5})
	if st := status.Convert(err); st.Code() != codes.Unavailable || st.Message() != "backend unavailable" {
		t.Errorf("unknown CA: got %v, want the plain Unavailable", err)
	}
}
