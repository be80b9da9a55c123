package server_test

import (
	"context"
	"crypto/tls"
	"net/http"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/portico-gw/portico/auth/authtest"
	bookstorev1 "github.com/portico-gw/portico/gen/example/bookstore/v1"
	configv1 "github.com/portico-gw/portico/gen/portico/config/v1"
	"github.com/portico-gw/portico/server/servertest"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
)

// tlsSetup writes a server certificate and a client CA to dir.
type tlsSetup struct {
	dir                             string
	serverCA, client                *authtest.CA
	certFile, keyFile, clientCAFile string
}

func newTLSSetup(t *testing.T) *tlsSetup {
	t.Helper()
	s := &tlsSetup{dir: t.TempDir(), serverCA: authtest.NewCA(t, "server CA"), client: authtest.NewCA(t, "client CA")}
	leaf := s.serverCA.ServerLeaf(t)
	s.certFile = authtest.WriteFile(t, s.dir, "server.pem", leaf.CertPEM)
	s.keyFile = authtest.WriteFile(t, s.dir, "server-key.pem", leaf.KeyPEM)
	s.clientCAFile = authtest.WriteFile(t, s.dir, "clients-ca.pem", s.client.PEM)
	return s
}

// mtlsConfig: TLS on both doors, client certificates verified, the
// bookstore API authenticated by the internal (mtls) provider.
func (s *tlsSetup) config(backend string, require bool) *configv1.Config {
	c := servertest.BookstoreConfig(backend)
	c.Listen.Admin = ""
	c.Tls = &configv1.Tls{CertFile: "server.pem", KeyFile: "server-key.pem", ClientCaFile: "clients-ca.pem", RequireClientCert: require}
	c.Auth = &configv1.Auth{Providers: []*configv1.AuthProvider{{Name: "internal", Kind: &configv1.AuthProvider_Mtls{Mtls: &configv1.MtlsProvider{}}}}}
	c.Apis[0].Auth = &configv1.ApiAuth{Providers: []string{"internal"}}
	return c
}

func (s *tlsSetup) clientTLS(certs ...tls.Certificate) *tls.Config {
	return &tls.Config{RootCAs: s.serverCA.Pool(), ServerName: "127.0.0.1", Certificates: certs}
}

func httpsClient(conf *tls.Config) *http.Client {
	return &http.Client{Timeout: 10 * time.Second, Transport: &http.Transport{TLSClientConfig: conf, ForceAttemptHTTP2: true}}
}

// TestAuthMTLS: TLS on both doors; the principal is the verified client
// certificate's URI SAN, else DNS SAN, else CN; no certificate is 401; a
// certificate from another CA fails the handshake.
func TestAuthMTLS(t *testing.T) {
	s := newTLSSetup(t)
	rec, addr := startRecorder(t)
	srv := startTLSGateway(t, s.config(addr, false), s.dir)

	for _, tc := range []struct {
		name string
		leaf authtest.LeafOptions
		want string
	}{
		{"SPIFFE ID", authtest.LeafOptions{CommonName: "cn", DNSNames: []string{"svc.internal"}, URIs: []string{"spiffe://corp/ns/default/sa/orders"}}, "spiffe://corp/ns/default/sa/orders"},
		{"DNS SAN", authtest.LeafOptions{CommonName: "cn", DNSNames: []string{"svc.internal"}}, "svc.internal"},
		{"CN", authtest.LeafOptions{CommonName: "billing"}, "billing"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			tc.leaf.Client = true
			cert := s.client.Issue(t, tc.leaf).TLS
			resp, err := httpsClient(s.clientTLS(cert)).Get("https://" + srv.HTTPAddr + getBookPath)
			if err != nil {
				t.Fatal(err)
			}
			resp.Body.Close()
			if resp.StatusCode != http.StatusOK {
				t.Errorf("REST: got %d, want 200", resp.StatusCode)
			}
			if got := rec.lastMD().Get("x-portico-principal"); len(got) != 1 || got[0] != tc.want {
				t.Errorf("REST principal: got %q, want [%q]", got, tc.want)
			}
			conn := tlsConn(t, srv.GRPCAddr, s.clientTLS(cert))
			if st, _ := grpcGetBook(t, conn, "shelves/1/books/1", nil); st.Code() != codes.OK {
				t.Errorf("gRPC: got %v, want OK", st.Err())
			}
			if got := rec.lastMD().Get("x-portico-principal"); len(got) != 1 || got[0] != tc.want {
				t.Errorf("gRPC principal: got %q, want [%q]", got, tc.want)
			}
		})
	}

	t.Run("no client certificate", func(t *testing.T) {
		resp, err := httpsClient(s.clientTLS()).Get("https://" + srv.HTTPAddr + getBookPath)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusUnauthorized {
			t.Errorf("REST: got %d, want 401", resp.StatusCode)
		}
		if st, _ := grpcGetBook(t, tlsConn(t, srv.GRPCAddr, s.clientTLS()), "shelves/1/books/1", nil); st.Code() != codes.Unauthenticated {
			t.Errorf("gRPC: got %v, want Unauthenticated", st.Code())
		}
	})

	t.Run("certificate from another CA", func(t *testing.T) {
		stranger := authtest.NewCA(t, "stranger").Issue(t, authtest.LeafOptions{CommonName: "mallory", Client: true}).TLS
		// Sent whatever CAs the server asks for (crypto/tls would
		// otherwise keep a certificate the server cannot accept).
		conf := s.clientTLS()
		conf.GetClientCertificate = func(*tls.CertificateRequestInfo) (*tls.Certificate, error) { return &stranger, nil }
		if _, err := httpsClient(conf).Get("https://" + srv.HTTPAddr + getBookPath); err == nil {
			t.Error("REST: handshake with an unknown CA's certificate succeeded, want a failure")
		}
		st, _ := grpcGetBook(t, tlsConn(t, srv.GRPCAddr, conf), "shelves/1/books/1", nil)
		if st.Code() != codes.Unavailable {
			t.Errorf("gRPC: got %v, want Unavailable (handshake refused)", st.Code())
		}
	})
}

// TestAuthRequireClientCert: with require_client_cert the handshake
// itself fails without a certificate, on both doors.
func TestAuthRequireClientCert(t *testing.T) {
	s := newTLSSetup(t)
	_, addr := startRecorder(t)
	srv := startTLSGateway(t, s.config(addr, true), s.dir)
	if _, err := httpsClient(s.clientTLS()).Get("https://" + srv.HTTPAddr + getBookPath); err == nil {
		t.Error("REST: got a response without a client certificate, want a handshake failure")
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	_, err := bookstorev1.NewBookstoreServiceClient(tlsConn(t, srv.GRPCAddr, s.clientTLS())).GetBook(ctx, &bookstorev1.GetBookRequest{Name: "shelves/1/books/1"})
	if status.Code(err) != codes.Unavailable {
		t.Errorf("gRPC: got %v, want Unavailable (handshake refused)", err)
	}
	cert := s.client.Issue(t, authtest.LeafOptions{CommonName: "ok", Client: true}).TLS
	if st, _ := grpcGetBook(t, tlsConn(t, srv.GRPCAddr, s.clientTLS(cert)), "shelves/1/books/1", nil); st.Code() != codes.OK {
		t.Errorf("gRPC with a certificate: got %v, want OK", st.Err())
	}
}

// TestAuthTLSReload: new certificate files are served from the next
// handshake on, on both doors; files that do not load keep the previous
// certificate.
func TestAuthTLSReload(t *testing.T) {
	s := newTLSSetup(t)
	_, addr := startRecorder(t)
	cfg := s.config(addr, false)
	cfg.Auth, cfg.Apis[0].Auth = nil, nil
	srv := startTLSGateway(t, cfg, s.dir)

	served := func(addr string, protos []string) string {
		t.Helper()
		conn, err := tls.Dial("tcp", addr, &tls.Config{RootCAs: s.serverCA.Pool(), ServerName: "127.0.0.1", NextProtos: protos})
		if err != nil {
			t.Fatalf("handshake: %v", err)
		}
		defer conn.Close()
		return conn.ConnectionState().PeerCertificates[0].SerialNumber.String()
	}
	restBefore, grpcBefore := served(srv.HTTPAddr, []string{"http/1.1"}), served(srv.GRPCAddr, []string{"h2"})
	if restBefore != grpcBefore {
		t.Fatalf("the doors serve different certificates: %s and %s", restBefore, grpcBefore)
	}
	// A half-written pair (new cert, old key) is refused; the old one stays.
	next := s.serverCA.ServerLeaf(t)
	writeAtomic(t, s.certFile, next.CertPEM)
	if got := served(srv.HTTPAddr, []string{"http/1.1"}); got != restBefore {
		t.Errorf("after a mismatched pair: got certificate %s, want the previous %s", got, restBefore)
	}
	writeAtomic(t, s.keyFile, next.KeyPEM)
	restAfter, grpcAfter := served(srv.HTTPAddr, []string{"http/1.1"}), served(srv.GRPCAddr, []string{"h2"})
	if restAfter == restBefore || grpcAfter != restAfter {
		t.Errorf("after rotation: REST serves %s, gRPC %s; want both the new certificate (not %s)", restAfter, grpcAfter, restBefore)
	}
	resp, err := httpsClient(s.clientTLS()).Get("https://" + srv.HTTPAddr + getBookPath)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Errorf("REST over the new certificate: got %d, want 200", resp.StatusCode)
	}
}

// writeAtomic replaces a file by renaming a new one over it, as
// certificate tools do, with a modification time that differs from the
// old one's even on coarse clocks.
func writeAtomic(t *testing.T, path string, data []byte) {
	t.Helper()
	old, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	tmp := filepath.Join(filepath.Dir(path), ".tmp-"+filepath.Base(path))
	if err := os.WriteFile(tmp, data, 0o600); err != nil {
		t.Fatal(err)
	}
	mt := old.ModTime().Add(time.Second)
	if err := os.Chtimes(tmp, mt, mt); err != nil {
		t.Fatal(err)
	}
	if err := os.Rename(tmp, path); err != nil {
		t.Fatal(err)
	}
}
