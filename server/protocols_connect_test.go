package server_test

// gRPC-Web and Connect with connect-go's own client (connectrpc.com/connect),
// against the REST listener and the gRPC listener.

import (
	"context"
	"errors"
	"io"
	"net"
	"net/http"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"connectrpc.com/connect"
	"github.com/portico-gw/portico/config"
	"github.com/portico-gw/portico/examples/bookstore"
	bookstorev1 "github.com/portico-gw/portico/gen/example/bookstore/v1"
	"github.com/portico-gw/portico/server"
	"github.com/portico-gw/portico/server/servertest"
	"github.com/portico-gw/portico/snapshot"
	"google.golang.org/protobuf/proto"
)

const bookstoreSvc = "/example.bookstore.v1.BookstoreService/"

// connectClients are the protocol and codec choices of connect-go.
var connectClients = []struct {
	name string
	opts []connect.ClientOption
}{
	{"connect+json", []connect.ClientOption{connect.WithProtoJSON()}},
	{"connect+proto", nil},
	{"connect+json GET", []connect.ClientOption{connect.WithProtoJSON(), connect.WithHTTPGet(), connect.WithIdempotency(connect.IdempotencyNoSideEffects)}},
	{"connect+proto GET", []connect.ClientOption{connect.WithHTTPGet(), connect.WithIdempotency(connect.IdempotencyNoSideEffects)}},
	{"connect+proto gzip", []connect.ClientOption{connect.WithSendGzip()}},
	{"grpc-web+proto", []connect.ClientOption{connect.WithGRPCWeb()}},
	{"grpc-web+json", []connect.ClientOption{connect.WithGRPCWeb(), connect.WithProtoJSON()}},
	{"grpc-web+proto gzip", []connect.ClientOption{connect.WithGRPCWeb(), connect.WithSendGzip()}},
}

func callCtx(t *testing.T) context.Context {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	t.Cleanup(cancel)
	return ctx
}

// methodsSeen is an HTTP client that records the methods of its requests.
type methodsSeen struct {
	mu      sync.Mutex
	methods []string
}

func (m *methodsSeen) RoundTrip(r *http.Request) (*http.Response, error) {
	m.mu.Lock()
	m.methods = append(m.methods, r.Method)
	m.mu.Unlock()
	return http.DefaultTransport.RoundTrip(r)
}

func (m *methodsSeen) last() string {
	m.mu.Lock()
	defer m.mu.Unlock()
	if len(m.methods) == 0 {
		return ""
	}
	return m.methods[len(m.methods)-1]
}

func TestConnectGoUnary(t *testing.T) {
	env := servertest.Start(t, servertest.Options{})
	// The REST listener, and the gRPC listener's HTTP/1.1 connections.
	for _, base := range []string{env.URL, "http://" + env.Server.GRPCAddr} {
		t.Run(base, func(t *testing.T) { connectUnary(t, base) })
	}
}

func connectUnary(t *testing.T, base string) {
	want := &bookstorev1.Book{}
	for _, c := range connectClients {
		t.Run(c.name, func(t *testing.T) {
			seen := &methodsSeen{}
			hc := &http.Client{Transport: seen, Timeout: 10 * time.Second}
			cl := connect.NewClient[bookstorev1.GetBookRequest, bookstorev1.Book](hc, base+bookstoreSvc+"GetBook", c.opts...)
			resp, err := cl.CallUnary(callCtx(t), connect.NewRequest(&bookstorev1.GetBookRequest{Name: "shelves/1/books/1"}))
			if err != nil {
				t.Fatalf("GetBook: %v", err)
			}
			if got := resp.Msg.GetName(); got != "shelves/1/books/1" {
				t.Errorf("got book %q, want shelves/1/books/1", got)
			}
			if want.GetName() == "" {
				want = resp.Msg
			} else if !proto.Equal(resp.Msg, want) {
				t.Errorf("got %v, want %v", resp.Msg, want)
			}
			if id := resp.Header().Values("X-Request-Id"); len(id) != 1 || !isGenerated(id[0]) {
				t.Errorf("got X-Request-Id %q, want one generated ID", id)
			}
			wantMethod := http.MethodPost
			if strings.HasSuffix(c.name, "GET") {
				wantMethod = http.MethodGet
			}
			if got := seen.last(); got != wantMethod {
				t.Errorf("sent %s, want %s", got, wantMethod)
			}
		})
	}
}

func TestConnectGoErrorDetails(t *testing.T) {
	env := servertest.Start(t, servertest.Options{})
	for _, c := range connectClients {
		t.Run(c.name, func(t *testing.T) {
			cl := connect.NewClient[bookstorev1.GetBookRequest, bookstorev1.Book](servertest.Client(), env.URL+bookstoreSvc+"GetBook", c.opts...)
			_, err := cl.CallUnary(callCtx(t), connect.NewRequest(&bookstorev1.GetBookRequest{}))
			var ce *connect.Error
			if !errors.As(err, &ce) {
				t.Fatalf("got %v, want a connect error", err)
			}
			if ce.Code() != connect.CodeInvalidArgument {
				t.Errorf("got code %v, want %v", ce.Code(), connect.CodeInvalidArgument)
			}
			if len(ce.Details()) == 0 {
				t.Errorf("got no details, want the validation's")
			}
		})
	}
}

func TestConnectGoServerStream(t *testing.T) {
	env := servertest.Start(t, servertest.Options{})
	for _, base := range []string{env.URL, "http://" + env.Server.GRPCAddr} {
		for _, c := range connectClients {
			if strings.HasSuffix(c.name, "GET") {
				continue // unary only
			}
			t.Run(c.name, func(t *testing.T) {
				cl := connect.NewClient[bookstorev1.WatchBooksRequest, bookstorev1.Book](servertest.Client(), base+bookstoreSvc+"WatchBooks", c.opts...)
				st, err := cl.CallServerStream(callCtx(t), connect.NewRequest(&bookstorev1.WatchBooksRequest{Parent: "shelves/1"}))
				if err != nil {
					t.Fatalf("WatchBooks: %v", err)
				}
				defer st.Close()
				var got []string
				for st.Receive() {
					got = append(got, st.Msg().GetName())
				}
				if err := st.Err(); err != nil && !errors.Is(err, io.EOF) {
					t.Fatalf("WatchBooks: %v", err)
				}
				if want := []string{"shelves/1/books/1", "shelves/1/books/2"}; !slices.Equal(got, want) {
					t.Errorf("got %q, want %q", got, want)
				}
			})
		}
	}
}

// protoSeen records the HTTP version of the answers it got.
type protoSeen struct {
	rt    http.RoundTripper
	mu    sync.Mutex
	major int
}

func (p *protoSeen) RoundTrip(r *http.Request) (*http.Response, error) {
	resp, err := p.rt.RoundTrip(r)
	if err == nil {
		p.mu.Lock()
		p.major = resp.ProtoMajor
		p.mu.Unlock()
	}
	return resp, err
}

// TestConnectGoHTTP2: over TLS the REST listener speaks HTTP/2, and
// gRPC-Web and Connect calls work over it (unary and server stream).
func TestConnectGoHTTP2(t *testing.T) {
	s := newTLSSetup(t)
	_, addr := startRecorder(t)
	cfg := s.config(addr, false)
	cfg.Auth, cfg.Apis[0].Auth = nil, nil
	srv := startTLSGateway(t, cfg, s.dir)
	seen := &protoSeen{rt: httpsClient(s.clientTLS()).Transport}
	hc := &http.Client{Transport: seen, Timeout: 10 * time.Second}
	for _, c := range connectClients {
		if strings.HasSuffix(c.name, "GET") {
			continue
		}
		cl := connect.NewClient[bookstorev1.GetBookRequest, bookstorev1.Book](hc, "https://"+srv.HTTPAddr+bookstoreSvc+"GetBook", c.opts...)
		if _, err := cl.CallUnary(callCtx(t), connect.NewRequest(&bookstorev1.GetBookRequest{Name: "shelves/1/books/1"})); err != nil {
			t.Errorf("%s: %v", c.name, err)
		}
		if seen.major != 2 {
			t.Errorf("%s: answered over HTTP/%d, want HTTP/2", c.name, seen.major)
		}
		st, err := connect.NewClient[bookstorev1.WatchBooksRequest, bookstorev1.Book](hc, "https://"+srv.HTTPAddr+bookstoreSvc+"WatchBooks", c.opts...).
			CallServerStream(callCtx(t), connect.NewRequest(&bookstorev1.WatchBooksRequest{Parent: "shelves/1"}))
		if err != nil {
			t.Fatalf("%s: WatchBooks: %v", c.name, err)
		}
		n := 0
		for st.Receive() {
			n++
		}
		if st.Err() != nil || n != 2 {
			t.Errorf("%s: WatchBooks: got %d books, %v; want 2", c.name, n, st.Err())
		}
		st.Close()
	}
}

// TestGRPCListenerShutdown: the gRPC listener's two servers (grpc-go and
// the HTTP/1.1 one for gRPC-Web and Connect) stop cleanly, in whatever
// order: Serve returns nil.
func TestGRPCListenerShutdown(t *testing.T) {
	lis, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	gs := bookstore.NewServer().Serve(lis)
	t.Cleanup(gs.Stop)
	cfg := servertest.BookstoreConfig(lis.Addr().String())
	snap, err := snapshot.Build(&config.File{Config: cfg, Dir: "."}, snapshot.Options{})
	if err != nil {
		t.Fatal(err)
	}
	srv, err := server.New(snap, server.Listen{HTTP: "127.0.0.1:0", GRPC: "127.0.0.1:0"}, nil)
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- srv.Serve() }()
	cl := getBookClient("http://"+srv.GRPCAddr, connect.WithGRPCWeb())
	if _, err := cl.CallUnary(callCtx(t), connect.NewRequest(&bookstorev1.GetBookRequest{Name: "shelves/1/books/1"})); err != nil {
		t.Errorf("gRPC-Web on the gRPC listener: %v", err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := srv.Shutdown(ctx); err != nil {
		t.Errorf("Shutdown: %v", err)
	}
	if err := <-done; err != nil {
		t.Errorf("Serve: got %v, want nil", err)
	}
}
