package server_test

import (
	"crypto/tls"
	"errors"
	"net"
	"net/http"
	"testing"
	"time"

	"connectrpc.com/connect"
	"github.com/portico-gw/portico/auth/authtest"
	bookstorev1 "github.com/portico-gw/portico/gen/example/bookstore/v1"
	configv1 "github.com/portico-gw/portico/gen/portico/config/v1"
	"google.golang.org/grpc/codes"
	"google.golang.org/protobuf/types/known/durationpb"
)

// http1Client speaks HTTP/1.1 over TLS only (ALPN "http/1.1"), as a
// client of the gRPC listener's web half must.
func http1Client(conf *tls.Config) *http.Client {
	conf = conf.Clone()
	conf.NextProtos = []string{"http/1.1"}
	return &http.Client{Timeout: 10 * time.Second, Transport: &http.Transport{TLSClientConfig: conf}}
}

// TestProtocolsGRPCListenerTLS: with tls: set, the gRPC listener still
// serves Connect and gRPC-Web (HTTP/1.1, chosen by ALPN) beside gRPC
// (h2), and both see the client's certificate: the mTLS principal
// reaches the backend, and without a certificate the call is
// UNAUTHENTICATED on every protocol.
func TestProtocolsGRPCListenerTLS(t *testing.T) {
	s := newTLSSetup(t)
	rec, addr := startRecorder(t)
	srv := startTLSGateway(t, s.config(addr, false), s.dir)
	cert := s.client.Issue(t, authtest.LeafOptions{CommonName: "billing", Client: true}).TLS
	base := "https://" + srv.GRPCAddr

	for _, c := range connectClients {
		t.Run(c.name, func(t *testing.T) {
			cl := connect.NewClient[bookstorev1.GetBookRequest, bookstorev1.Book](http1Client(s.clientTLS(cert)), base+bookstoreSvc+"GetBook", c.opts...)
			resp, err := cl.CallUnary(callCtx(t), connect.NewRequest(&bookstorev1.GetBookRequest{Name: "shelves/1/books/1"}))
			if err != nil {
				t.Fatalf("with a client certificate: %v", err)
			}
			if resp.Msg.GetName() != "shelves/1/books/1" {
				t.Errorf("got book %q, want shelves/1/books/1", resp.Msg.GetName())
			}
			if got := rec.lastMD().Get("x-portico-principal"); len(got) != 1 || got[0] != "billing" {
				t.Errorf("principal: got %q, want [billing]", got)
			}

			anon := connect.NewClient[bookstorev1.GetBookRequest, bookstorev1.Book](http1Client(s.clientTLS()), base+bookstoreSvc+"GetBook", c.opts...)
			_, err = anon.CallUnary(callCtx(t), connect.NewRequest(&bookstorev1.GetBookRequest{Name: "shelves/1/books/1"}))
			var ce *connect.Error
			if !errors.As(err, &ce) || ce.Code() != connect.CodeUnauthenticated {
				t.Errorf("without a client certificate: got %v, want unauthenticated", err)
			}
		})
	}

	// gRPC on the same listener, after the web calls, on a connection of
	// its own.
	if st, _ := grpcGetBook(t, tlsConn(t, srv.GRPCAddr, s.clientTLS(cert)), "shelves/1/books/1", nil); st.Code() != codes.OK {
		t.Fatalf("gRPC over TLS: got %v, want OK", st.Err())
	}
	if got := rec.lastMD().Get("x-portico-principal"); len(got) != 1 || got[0] != "billing" {
		t.Errorf("gRPC principal: got %q, want [billing]", got)
	}

	// Plaintext on the TLS listener is refused by the handshake; the
	// listener goes on serving.
	if _, err := (&http.Client{Timeout: 5 * time.Second}).Get("http://" + srv.GRPCAddr + bookstoreSvc + "GetBook"); err == nil {
		t.Error("plaintext HTTP/1.1 on the TLS gRPC listener: got an answer, want a failed handshake")
	}
	if st, _ := grpcGetBook(t, tlsConn(t, srv.GRPCAddr, s.clientTLS(cert)), "shelves/1/books/1", nil); st.Code() != codes.OK {
		t.Errorf("gRPC after a failed handshake: got %v, want OK", st.Err())
	}
}

// TestGRPCListenerTLSHandshakeTimeout: the TLS gRPC listener does the
// handshake itself, so it bounds it: a connection that sends nothing is
// closed once read_header_timeout has passed, as without TLS.
func TestGRPCListenerTLSHandshakeTimeout(t *testing.T) {
	s := newTLSSetup(t)
	_, addr := startRecorder(t)
	c := s.config(addr, false)
	c.Limits = &configv1.Limits{ReadHeaderTimeout: durationpb.New(time.Second)}
	srv := startTLSGateway(t, c, s.dir)
	conn, err := net.Dial("tcp", srv.GRPCAddr)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	start := time.Now()
	_ = conn.SetReadDeadline(start.Add(10 * time.Second))
	_, err = conn.Read(make([]byte, 1))
	if ne, ok := err.(net.Error); err == nil || (ok && ne.Timeout()) {
		t.Fatalf("a silent connection: read got %v after %v, want the gateway to close it", err, time.Since(start))
	}
	if d := time.Since(start); d < 900*time.Millisecond {
		t.Errorf("closed after %v, want read_header_timeout (1s) first", d)
	}
}
