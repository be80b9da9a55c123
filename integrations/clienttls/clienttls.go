// Package clienttls is TLS from Portico to its backends (ClientTls in the
// config), shared by the grpc and http integrations: a CA bundle, an
// optional client certificate for mutual TLS and the name expected in the
// backend's certificate, read from PEM files when built (a bad file is a
// config error) and read again when a file changes.
//
// Written here rather than taken from grpc-go's certprovider/pemfile: that
// provider polls the files on a timer from a goroutine of its own and
// requires the key to sit in the certificate's folder (Debian keeps keys
// in /etc/ssl/private, certificates in /etc/ssl/certs). Here the files'
// size and modification time are looked at when a connection is made —
// rare, since backend connections are long-lived — so a change is picked
// up by the very next handshake, with no goroutine. The handshake itself
// and the verification of the backend's certificate are crypto/tls's and
// grpc-go's own.
package clienttls

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"net"
	"os"
	"sync"
	"time"

	configv1 "github.com/portico-gw/portico/gen/portico/config/v1"
	"google.golang.org/grpc/credentials"
)

// Source holds the current key material of one ClientTls block.
type Source struct {
	caFile, certFile, keyFile string
	serverName                string

	mu    sync.Mutex
	roots *x509.CertPool // nil: the system roots
	cert  *tls.Certificate
	seen  [3]stamp // caFile, certFile, keyFile as last read
}

// stamp identifies a version of a file.
type stamp struct {
	size int64
	mod  time.Time
}

// New reads the files c names (made absolute by resolve) and returns a
// Source, or the reason they cannot be used.
func New(c *configv1.ClientTls, resolve func(string) string) (*Source, error) {
	if resolve == nil {
		resolve = func(p string) string { return p }
	}
	s := &Source{serverName: c.GetServerName()}
	if c.GetCaFile() != "" {
		s.caFile = resolve(c.GetCaFile())
	}
	if (c.GetCertFile() == "") != (c.GetKeyFile() == "") {
		return nil, errors.New("tls: cert_file and key_file go together (set both for mutual TLS, or neither)")
	}
	if c.GetCertFile() != "" {
		s.certFile, s.keyFile = resolve(c.GetCertFile()), resolve(c.GetKeyFile())
	}
	if err := s.reload(true); err != nil {
		return nil, err
	}
	return s, nil
}

// ServerName is the name expected in the backend's certificate; "" means
// the host of the address dialed.
func (s *Source) ServerName() string { return s.serverName }

// Config returns a TLS client config with the current roots and client
// certificate. Files that changed since they were last read are read
// again; a file that cannot be read or parsed keeps the last good
// material (the error is returned only when there is none).
func (s *Source) Config() *tls.Config {
	_ = s.reload(false)
	s.mu.Lock()
	defer s.mu.Unlock()
	cfg := &tls.Config{
		MinVersion: tls.VersionTLS12,
		RootCAs:    s.roots,
		ServerName: s.serverName,
	}
	if s.cert != nil {
		cfg.Certificates = []tls.Certificate{*s.cert}
	}
	return cfg
}

// reload reads the files whose size or modification time changed. With
// strict, any problem is an error (the first read, at build); otherwise
// the last good material stays.
func (s *Source) reload(strict bool) error {
	files := [3]string{s.caFile, s.certFile, s.keyFile}
	var now [3]stamp
	for i, f := range files {
		if f == "" {
			continue
		}
		fi, err := os.Stat(f)
		if err != nil {
			if strict {
				return fmt.Errorf("tls: %v", err)
			}
			return err
		}
		now[i] = stamp{size: fi.Size(), mod: fi.ModTime()}
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if !strict && now == s.seen {
		return nil
	}
	var roots *x509.CertPool
	if s.caFile != "" {
		pem, err := os.ReadFile(s.caFile)
		if err != nil {
			return fmt.Errorf("tls: ca_file: %v", err)
		}
		roots = x509.NewCertPool()
		if !roots.AppendCertsFromPEM(pem) {
			return fmt.Errorf("tls: ca_file %s: no PEM certificate in it", s.caFile)
		}
	}
	var cert *tls.Certificate
	if s.certFile != "" {
		c, err := tls.LoadX509KeyPair(s.certFile, s.keyFile)
		if err != nil {
			return fmt.Errorf("tls: cert_file/key_file: %v", err)
		}
		cert = &c
	}
	s.roots, s.cert, s.seen = roots, cert, now
	return nil
}

// Credentials returns gRPC transport credentials that take the current
// material at each handshake.
func (s *Source) Credentials() credentials.TransportCredentials { return grpcCreds{s} }

// grpcCreds hands each handshake to grpc-go's own TLS credentials, made
// from the material current at that moment.
type grpcCreds struct{ s *Source }

func (c grpcCreds) ClientHandshake(ctx context.Context, authority string, raw net.Conn) (net.Conn, credentials.AuthInfo, error) {
	return credentials.NewTLS(c.s.Config()).ClientHandshake(ctx, authority, raw)
}

func (c grpcCreds) ServerHandshake(net.Conn) (net.Conn, credentials.AuthInfo, error) {
	return nil, nil, errors.New("clienttls: client credentials used on a server")
}

func (c grpcCreds) Info() credentials.ProtocolInfo {
	return credentials.ProtocolInfo{SecurityProtocol: "tls", SecurityVersion: "1.2", ServerName: c.s.serverName}
}

func (c grpcCreds) Clone() credentials.TransportCredentials { return c }

// OverrideServerName is deprecated in grpc-go and unused: server_name is
// set in the config.
func (c grpcCreds) OverrideServerName(string) error { return nil }

// DialTLS returns a function for http.Transport.DialTLSContext: it dials
// with d and does the TLS handshake with the current material, offering
// HTTP/2 and HTTP/1.1.
func (s *Source) DialTLS(d *net.Dialer) func(ctx context.Context, network, addr string) (net.Conn, error) {
	return func(ctx context.Context, network, addr string) (net.Conn, error) {
		raw, err := d.DialContext(ctx, network, addr)
		if err != nil {
			return nil, err
		}
		cfg := s.Config()
		cfg.NextProtos = []string{"h2", "http/1.1"}
		if cfg.ServerName == "" {
			host, _, err := net.SplitHostPort(addr)
			if err != nil {
				host = addr
			}
			cfg.ServerName = host
		}
		tc := tls.Client(raw, cfg)
		if err := tc.HandshakeContext(ctx); err != nil {
			raw.Close()
			return nil, err
		}
		return tc, nil
	}
}
