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
	"github.com/portico-gw/portico/examples/bookstore"
	bookstorev1 "github.com/portico-gw/portico/gen/example/bookstore/v1"
	configv1 "github.com/portico-gw/portico/gen/portico/config/v1"
	"github.com/portico-gw/portico/integrations"
	"github.com/portico-gw/portico/pool"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/proto"
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
	if len(h.Urls) == 0 {
		h.Url = url
	}
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
		checks[string(m.Desc().Name())] = i.Check(m)
	}
	return i, cat.Methods(), checks
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
