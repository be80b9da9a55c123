package server_test

import (
	"context"
	"crypto/tls"
	"io"
	"net"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/portico-gw/portico/auth/authtest"
	"github.com/portico-gw/portico/config"
	"github.com/portico-gw/portico/examples/bookstore"
	bookstorev1 "github.com/portico-gw/portico/gen/example/bookstore/v1"
	configv1 "github.com/portico-gw/portico/gen/portico/config/v1"
	"github.com/portico-gw/portico/server"
	"github.com/portico-gw/portico/server/servertest"
	"github.com/portico-gw/portico/snapshot"
	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials"
	"google.golang.org/grpc/metadata"
	"google.golang.org/grpc/status"
)

// recorder is a bookstore that remembers the metadata of the last call
// it received.
type recorder struct {
	*bookstore.Server
	mu      sync.Mutex
	last    metadata.MD
	lastReq any // the last unary request message
}

func (r *recorder) lastRequest() any {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.lastReq
}

func (r *recorder) lastMD() metadata.MD {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.last
}

func (r *recorder) record(ctx context.Context) {
	md, _ := metadata.FromIncomingContext(ctx)
	r.mu.Lock()
	r.last = md.Copy()
	r.mu.Unlock()
}

// startRecorder starts a recording bookstore on a :0 port.
func startRecorder(t *testing.T) (*recorder, string) {
	t.Helper()
	lis, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	r := &recorder{Server: bookstore.NewServer()}
	gs := r.Serve(lis,
		grpc.UnaryInterceptor(func(ctx context.Context, req any, _ *grpc.UnaryServerInfo, h grpc.UnaryHandler) (any, error) {
			r.record(ctx)
			r.mu.Lock()
			r.lastReq = req
			r.mu.Unlock()
			return h(ctx, req)
		}),
		grpc.StreamInterceptor(func(srv any, ss grpc.ServerStream, _ *grpc.StreamServerInfo, h grpc.StreamHandler) error {
			r.record(ss.Context())
			return h(srv, ss)
		}))
	t.Cleanup(gs.Stop)
	return r, lis.Addr().String()
}

// authEnv is a gateway with auth in front of a recording bookstore.
type authEnv struct {
	*servertest.Env
	rec *recorder
	iss *authtest.Issuer
}

// jwtProvider is the "corp" provider of the tests: the issuer's JWKS
// over HTTP, audience portico, sub forwarded as x-user-id.
func jwtProvider(iss *authtest.Issuer) *configv1.AuthProvider {
	return &configv1.AuthProvider{Name: "corp", Kind: &configv1.AuthProvider_Jwt{Jwt: &configv1.JwtProvider{
		Issuer:        iss.URL,
		Audiences:     []string{"portico"},
		JwksUri:       iss.JWKSURL(),
		ForwardClaims: map[string]string{"sub": "x-user-id", "tenant": "x-tenant"},
	}}}
}

// startAuth starts an issuer, a recording bookstore and a gateway whose
// bookstore API needs the corp provider; edit adjusts the config.
func startAuth(t *testing.T, edit func(c *configv1.Config, iss *authtest.Issuer)) *authEnv {
	t.Helper()
	iss := authtest.NewIssuer(t)
	rec, addr := startRecorder(t)
	env := servertest.StartGateway(t, addr, servertest.Options{Config: func(c *configv1.Config) {
		c.Auth = &configv1.Auth{Providers: []*configv1.AuthProvider{jwtProvider(iss)}}
		c.Apis[0].Auth = &configv1.ApiAuth{Providers: []string{"corp"}}
		if edit != nil {
			edit(c, iss)
		}
	}})
	return &authEnv{Env: env, rec: rec, iss: iss}
}

// answer is what a door answered.
type answer struct {
	code   int    // HTTP status (REST) or gRPC code number
	msg    string // the error message (REST: the JSON body's "message")
	header http.Header
	body   string
}

// restCall calls GET path on the REST door with headers.
func restCall(t *testing.T, base, method, path string, headers map[string]string, body string) answer {
	t.Helper()
	req, err := http.NewRequest(method, base+path, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	for k, v := range headers {
		req.Header.Set(k, v)
	}
	resp, err := servertest.Client().Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return answer{code: resp.StatusCode, header: resp.Header, body: string(b)}
}

// grpcGetBook calls GetBook on the gRPC door with metadata; it returns
// the status and the response headers.
func grpcGetBook(t *testing.T, conn *grpc.ClientConn, name string, md map[string]string) (*status.Status, metadata.MD) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	ctx = metadata.NewOutgoingContext(ctx, metadata.New(md))
	var hdr metadata.MD
	_, err := bookstorev1.NewBookstoreServiceClient(conn).GetBook(ctx, &bookstorev1.GetBookRequest{Name: name}, grpc.Header(&hdr))
	return status.Convert(err), hdr
}

// bearer is an Authorization header value.
func bearer(tok string) map[string]string { return map[string]string{"Authorization": "Bearer " + tok} }

// grpcBearer is the same as gRPC metadata.
func grpcBearer(tok string) map[string]string {
	return map[string]string{"authorization": "Bearer " + tok}
}

// startTLSGateway builds and serves cfg with TLS (the config's tls
// section); it returns the server and a gRPC connection made with
// clientTLS.
func startTLSGateway(t *testing.T, cfg *configv1.Config, dir string) *server.Server {
	t.Helper()
	snap, err := snapshot.Build(&config.File{Config: cfg, Dir: dir}, snapshot.Options{})
	if err != nil {
		t.Fatalf("snapshot.Build: %v", err)
	}
	l := cfg.GetListen()
	srv, err := server.New(snap, server.Listen{HTTP: l.GetHttp(), GRPC: l.GetGrpc()}, nil)
	if err != nil {
		_ = snap.Close()
		t.Fatalf("server.New: %v", err)
	}
	done := make(chan error, 1)
	go func() { done <- srv.Serve() }()
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		_ = srv.Shutdown(ctx)
		<-done
	})
	return srv
}

// tlsConn dials the gRPC door over TLS.
func tlsConn(t *testing.T, addr string, conf *tls.Config) *grpc.ClientConn {
	t.Helper()
	conn, err := grpc.NewClient(addr, grpc.WithTransportCredentials(credentials.NewTLS(conf)))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close() })
	return conn
}
