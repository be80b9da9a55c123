package clienttls

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"math/big"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	configv1 "github.com/portico-gw/portico/gen/portico/config/v1"
)

// selfSigned returns a certificate and key (PEM) named cn.
func selfSigned(t *testing.T, cn string) (certPEM, keyPEM []byte) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: cn},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour), IsCA: true, BasicConstraintsValid: true}
	der, err := x509.CreateCertificate(rand.Reader, tpl, tpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	kb, _ := x509.MarshalPKCS8PrivateKey(key)
	return pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: kb})
}

func write(t *testing.T, path string, data []byte) {
	t.Helper()
	if err := os.WriteFile(path+".tmp", data, 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.Rename(path+".tmp", path); err != nil {
		t.Fatal(err)
	}
}

func commonName(t *testing.T, s *Source) string {
	t.Helper()
	cfg := s.Config()
	if len(cfg.Certificates) != 1 {
		t.Fatalf("got %d certificates, want 1", len(cfg.Certificates))
	}
	leaf, err := x509.ParseCertificate(cfg.Certificates[0].Certificate[0])
	if err != nil {
		t.Fatal(err)
	}
	return leaf.Subject.CommonName
}

// TestReload: a changed file is read at the next Config; a broken one
// keeps the last good material.
func TestReload(t *testing.T) {
	dir := t.TempDir()
	cert, key := filepath.Join(dir, "c.pem"), filepath.Join(dir, "k.pem")
	c1, k1 := selfSigned(t, "one")
	write(t, cert, c1)
	write(t, key, k1)
	s, err := New(&configv1.ClientTls{CertFile: "c.pem", KeyFile: "k.pem", CaFile: "c.pem", ServerName: "b.test"},
		func(p string) string { return filepath.Join(dir, p) })
	if err != nil {
		t.Fatal(err)
	}
	if got := commonName(t, s); got != "one" {
		t.Errorf("got %q, want one", got)
	}
	if cfg := s.Config(); cfg.RootCAs == nil || cfg.ServerName != "b.test" || cfg.MinVersion < 0x0303 {
		t.Errorf("got roots %v, server name %q, min version %x; want the CA, b.test, TLS 1.2", cfg.RootCAs, cfg.ServerName, cfg.MinVersion)
	}

	c2, k2 := selfSigned(t, "two")
	write(t, cert, c2)
	write(t, key, k2)
	if got := commonName(t, s); got != "two" {
		t.Errorf("after the change: got %q, want two", got)
	}

	write(t, cert, []byte("not a certificate"))
	if got := commonName(t, s); got != "two" {
		t.Errorf("after a broken write: got %q, want the last good (two)", got)
	}
}

func TestNewErrors(t *testing.T) {
	dir := t.TempDir()
	junk := filepath.Join(dir, "junk.pem")
	write(t, junk, []byte("junk"))
	c, k := selfSigned(t, "x")
	cert, key := filepath.Join(dir, "c.pem"), filepath.Join(dir, "k.pem")
	write(t, cert, c)
	write(t, key, k)
	other, _ := selfSigned(t, "y")
	otherCert := filepath.Join(dir, "other.pem")
	write(t, otherCert, other)
	tests := []struct {
		name string
		c    *configv1.ClientTls
		want string
	}{
		{"key without cert", &configv1.ClientTls{KeyFile: key}, "go together"},
		{"missing CA", &configv1.ClientTls{CaFile: filepath.Join(dir, "none.pem")}, "no such file"},
		{"CA not PEM", &configv1.ClientTls{CaFile: junk}, "no PEM certificate"},
		{"key not matching", &configv1.ClientTls{CertFile: otherCert, KeyFile: key}, "cert_file/key_file"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := New(tt.c, nil)
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("got %v, want an error containing %q", err, tt.want)
			}
		})
	}
	// Without a CA file: the system roots (nil pool).
	s, err := New(&configv1.ClientTls{}, nil)
	if err != nil {
		t.Fatal(err)
	}
	if s.Config().RootCAs != nil {
		t.Error("no ca_file: got a root pool, want the system roots")
	}
}
