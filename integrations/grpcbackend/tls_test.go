package grpcbackend

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"math/big"
	"net"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"

	bookstorev1 "github.com/portico-gw/portico/gen/example/bookstore/v1"
	configv1 "github.com/portico-gw/portico/gen/portico/config/v1"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/credentials"
	"google.golang.org/grpc/status"
)

// testCA signs certificates for TLS tests.
type testCA struct {
	cert *x509.Certificate
	key  *ecdsa.PrivateKey
	pem  []byte
}

func newTestCA(t *testing.T) *testCA {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tpl := &x509.Certificate{
		SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "test CA"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour),
		IsCA: true, BasicConstraintsValid: true, KeyUsage: x509.KeyUsageCertSign,
	}
	der, err := x509.CreateCertificate(rand.Reader, tpl, tpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	cert, _ := x509.ParseCertificate(der)
	return &testCA{cert: cert, key: key, pem: pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der})}
}

// issue returns a certificate and key (PEM) for cn; server certificates
// name dns.
func (ca *testCA) issue(t *testing.T, cn string, server bool, dns ...string) (certPEM, keyPEM []byte) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	serial, _ := rand.Int(rand.Reader, big.NewInt(1<<62))
	tpl := &x509.Certificate{
		SerialNumber: serial, Subject: pkix.Name{CommonName: cn}, DNSNames: dns,
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour),
		KeyUsage: x509.KeyUsageDigitalSignature, ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth},
	}
	if server {
		tpl.ExtKeyUsage = []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth}
	}
	der, err := x509.CreateCertificate(rand.Reader, tpl, ca.cert, &key.PublicKey, ca.key)
	if err != nil {
		t.Fatal(err)
	}
	kb, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		t.Fatal(err)
	}
	return pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: kb})
}

func writeFile(t *testing.T, path string, data []byte) {
	t.Helper()
	// Write beside and rename, as certificate tools do, so a reader never
	// sees half a file.
	tmp := path + ".tmp"
	if err := os.WriteFile(tmp, data, 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.Rename(tmp, path); err != nil {
		t.Fatal(err)
	}
}

// clientNames records the common names of the client certificates a
// server saw.
type clientNames struct {
	mu    sync.Mutex
	names []string
}

func (c *clientNames) add(cs tls.ConnectionState) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if len(cs.PeerCertificates) > 0 {
		c.names = append(c.names, cs.PeerCertificates[0].Subject.CommonName)
	}
}

func (c *clientNames) last() string {
	c.mu.Lock()
	defer c.mu.Unlock()
	if len(c.names) == 0 {
		return ""
	}
	return c.names[len(c.names)-1]
}

// mtlsServerCreds are a backend's credentials that require a client
// certificate signed by ca and record its name.
func mtlsServerCreds(t *testing.T, ca *testCA, seen *clientNames) grpc.ServerOption {
	t.Helper()
	certPEM, keyPEM := ca.issue(t, "backend", true, "backend.test")
	cert, err := tls.X509KeyPair(certPEM, keyPEM)
	if err != nil {
		t.Fatal(err)
	}
	pool := x509.NewCertPool()
	pool.AddCert(ca.cert)
	return grpc.Creds(credentials.NewTLS(&tls.Config{
		Certificates: []tls.Certificate{cert},
		ClientAuth:   tls.RequireAndVerifyClientCert,
		ClientCAs:    pool,
		VerifyConnection: func(cs tls.ConnectionState) error {
			seen.add(cs)
			return nil
		},
	}))
}

// TestMutualTLSOverUnixSocket: the backend listens on a unix socket only
// and requires a client certificate; the integration reaches it with the
// configured CA, certificate and server name, and picks up a new client
// certificate written over the old one at its next connection.
func TestMutualTLSOverUnixSocket(t *testing.T) {
	ca := newTestCA(t)
	dir := t.TempDir()
	caFile, certFile, keyFile := filepath.Join(dir, "ca.pem"), filepath.Join(dir, "client.pem"), filepath.Join(dir, "client-key.pem")
	writeFile(t, caFile, ca.pem)
	c1, k1 := ca.issue(t, "client-1", false)
	writeFile(t, certFile, c1)
	writeFile(t, keyFile, k1)

	seen := &clientNames{}
	sock := filepath.Join(t.TempDir(), "tls.sock")
	lis, err := net.Listen("unix", sock)
	if err != nil {
		t.Fatal(err)
	}
	b := serveBackend(t, lis, mtlsServerCreds(t, ca, seen))

	i, methods := build(t, &configv1.GrpcIntegration{Target: "unix://" + sock, Tls: &configv1.ClientTls{
		CaFile: caFile, CertFile: certFile, KeyFile: keyFile, ServerName: "backend.test",
	}})
	get := bookMethod(t, methods, "GetShelf")
	resp, err := i.Unary(testContext(t), get, &bookstorev1.GetShelfRequest{Shelf: 1})
	if err != nil {
		t.Fatalf("Unary over mTLS: %v", err)
	}
	if got := resp.(*bookstorev1.Shelf).GetTheme(); got != "Fiction" {
		t.Errorf("got theme %q, want Fiction", got)
	}
	if got := seen.last(); got != "client-1" {
		t.Errorf("backend saw client %q, want client-1", got)
	}

	// A new client certificate, then a new connection: the backend is
	// restarted on the same socket.
	c2, k2 := ca.issue(t, "client-2", false)
	writeFile(t, certFile, c2)
	writeFile(t, keyFile, k2)
	b.srv.Stop()
	lis2, err := net.Listen("unix", sock)
	if err != nil {
		t.Fatal(err)
	}
	serveBackend(t, lis2, mtlsServerCreds(t, ca, seen))
	// Calls fail fast while the connection is re-made (no wait for
	// ready); one then succeeds, over a connection made with the new
	// certificate.
	ctx := testContext(t)
	for {
		_, err := i.Unary(ctx, get, &bookstorev1.GetShelfRequest{Shelf: 1})
		if err == nil && seen.last() == "client-2" {
			break
		}
		if ctx.Err() != nil {
			t.Fatalf("backend sees %q (last call: %v), want client-2 after the files changed", seen.last(), err)
		}
	}
}

// TestTLSWrongServerName: a backend certificate that does not name the
// expected server is refused; the client gets the plain UNAVAILABLE.
func TestTLSWrongServerName(t *testing.T) {
	ca := newTestCA(t)
	dir := t.TempDir()
	caFile := filepath.Join(dir, "ca.pem")
	writeFile(t, caFile, ca.pem)
	certPEM, keyPEM := ca.issue(t, "backend", true, "backend.test")
	cert, err := tls.X509KeyPair(certPEM, keyPEM)
	if err != nil {
		t.Fatal(err)
	}
	b := startBackend(t, "tcp", grpc.Creds(credentials.NewTLS(&tls.Config{Certificates: []tls.Certificate{cert}})))
	i, methods := build(t, &configv1.GrpcIntegration{Target: b.addr, Tls: &configv1.ClientTls{CaFile: caFile, ServerName: "other.test"}})
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	_, err = i.Unary(ctx, bookMethod(t, methods, "GetShelf"), &bookstorev1.GetShelfRequest{Shelf: 1})
	st := status.Convert(err)
	if st.Code() != codes.Unavailable || st.Message() != "backend unavailable" {
		t.Errorf("got %v %q, want Unavailable %q", st.Code(), st.Message(), "backend unavailable")
	}
	if got := b.store.Calls(); got != 0 {
		t.Errorf("got %d backend calls, want 0", got)
	}

	// The right name works.
	i2, _ := build(t, &configv1.GrpcIntegration{Target: b.addr, Tls: &configv1.ClientTls{CaFile: caFile, ServerName: "backend.test"}})
	if _, err := i2.Unary(testContext(t), bookMethod(t, methods, "GetShelf"), &bookstorev1.GetShelfRequest{Shelf: 1}); err != nil {
		t.Errorf("right server name: %v", err)
	}
}

// TestPoolReuse: two builds with the same settings share a connection;
// a changed setting opens another.
func TestPoolReuse(t *testing.T) {
	b := startBackend(t, "tcp")
	g := &configv1.GrpcIntegration{Target: b.addr, LoadBalancing: "round_robin"}
	env := envWithPool()
	x1 := mustFactory(t, env, g)
	x2 := mustFactory(t, env, g)
	g2 := &configv1.GrpcIntegration{Target: b.addr, LoadBalancing: "pick_first"}
	x3 := mustFactory(t, env, g2)
	c1, _ := x1.conns()
	c2, _ := x2.conns()
	c3, _ := x3.conns()
	if c1[0].client != c2[0].client {
		t.Error("same settings: got two connections, want one shared")
	}
	if c1[0].client == c3[0].client {
		t.Error("another load-balancing policy: got the same connection, want a new one")
	}
}
