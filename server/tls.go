package server

import (
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"sync"
	"time"

	"github.com/portico-gw/portico/config"
)

// doorTLS is the TLS config of the REST and gRPC doors (tls:), with
// certificates and the client CA bundle reloaded when their files change;
// nil when the config sets no TLS. The closer stops watching the files.
//
// The certificate is reloaded on the handshake after its files change
// (their size or modification time): no watcher goroutine, and a
// rotation by cert-manager or certbot is picked up by the next client.
// A pair that does not load (a half-written file) is logged and the
// previous certificate kept. The client CA bundle is reloaded the same
// way (see clientCAs). The config offers "h2" and "http/1.1" (the REST
// door's protocols; grpc-go keeps "h2" for its door).
// CheckTLS checks the doors' TLS files as New reads them when it starts:
// what serve would refuse, portico validate reports, at tls.
func CheckTLS(cfg *config.File) config.Errors {
	_, closer, err := doorTLS(cfg, slog.New(slog.DiscardHandler))
	if err != nil {
		return config.Errors{{Field: "tls", Message: err.Error()}}
	}
	if closer != nil {
		_ = closer.Close()
	}
	return nil
}

func doorTLS(cfg *config.File, log *slog.Logger) (*tls.Config, io.Closer, error) {
	t := cfg.Config.GetTls()
	if t == nil {
		return nil, nil, nil
	}
	kp, err := newKeyPairReloader(cfg.Resolve(t.GetCertFile()), cfg.Resolve(t.GetKeyFile()), log)
	if err != nil {
		return nil, nil, err
	}
	conf := &tls.Config{
		MinVersion:     tls.VersionTLS12,
		GetCertificate: kp.getCertificate,
		NextProtos:     []string{"h2", "http/1.1"},
	}
	if ca := t.GetClientCaFile(); ca != "" {
		cas, err := newClientCAs(cfg.Resolve(ca), log)
		if err != nil {
			return nil, nil, fmt.Errorf("client_ca_file: %v", err)
		}
		conf.ClientCAs = cas.pool
		conf.ClientAuth = tls.VerifyClientCertIfGiven
		if t.GetRequireClientCert() {
			conf.ClientAuth = tls.RequireAndVerifyClientCert
		}
		cas.attach(conf)
	} else if t.GetRequireClientCert() {
		return nil, nil, errors.New("require_client_cert needs client_ca_file")
	}
	return conf, nil, nil
}

// clientCAs is the client CA bundle, reloaded on the handshake after its
// file changes (size or modification time), so a CA rotation needs no
// restart. A file that does not parse is logged and the previous bundle
// kept.
type clientCAs struct {
	file string
	log  *slog.Logger

	mu      sync.Mutex
	pool    *x509.CertPool
	loaded  fileStamp // of the bundle in pool
	refused fileStamp // of a bundle that did not parse
	derived *tls.Config
}

func newClientCAs(file string, log *slog.Logger) (*clientCAs, error) {
	c := &clientCAs{file: file, log: log}
	st, err := stampOf(c.file)
	if err != nil {
		return nil, err
	}
	pool, err := readCAs(file)
	if err != nil {
		return nil, err
	}
	c.pool, c.loaded = pool, st
	return c, nil
}

func readCAs(file string) (*x509.CertPool, error) {
	pem, err := os.ReadFile(file)
	if err != nil {
		return nil, err
	}
	pool := x509.NewCertPool()
	if !pool.AppendCertsFromPEM(pem) {
		return nil, fmt.Errorf("%s: no PEM certificate in it", file)
	}
	return pool, nil
}

// attach makes conf's handshakes verify client certificates against the
// current bundle: conf itself while the file is unchanged, else a copy of
// it with the new bundle (made once per change). Copies of conf made
// after attach (the doors') carry the same function; grpc-go adds its
// ALPN defaults to what it returns.
func (c *clientCAs) attach(conf *tls.Config) {
	base := conf.Clone()
	initial := c.pool
	conf.GetConfigForClient = func(*tls.ClientHelloInfo) (*tls.Config, error) {
		st, err := stampOf(c.file)
		c.mu.Lock()
		defer c.mu.Unlock()
		if err == nil && st != c.loaded && st != c.refused {
			if pool, err := readCAs(c.file); err != nil {
				c.refused = st
				c.log.Warn("tls: the changed client CA file does not load; keeping the previous bundle", "client_ca_file", c.file, "err", err)
			} else {
				c.pool, c.loaded, c.derived = pool, st, nil
				c.log.Info("tls: client CA bundle reloaded", "client_ca_file", c.file)
			}
		}
		if c.pool == initial {
			return nil, nil // conf as it is
		}
		if c.derived == nil {
			c.derived = base.Clone()
			c.derived.ClientCAs = c.pool
		}
		return c.derived, nil
	}
}

// keyPairReloader serves a certificate from files, reloading it when
// they change.
type keyPairReloader struct {
	certFile, keyFile string
	log               *slog.Logger

	mu      sync.Mutex
	cert    *tls.Certificate
	loaded  pairStamp // stamps of the pair being served
	refused pairStamp // stamps of a pair that failed to load
}

// fileStamp tells whether a file changed: its size and modification
// time.
type fileStamp struct {
	size  int64
	mtime time.Time
}

func stampOf(path string) (fileStamp, error) {
	fi, err := os.Stat(path)
	if err != nil {
		return fileStamp{}, err
	}
	return fileStamp{size: fi.Size(), mtime: fi.ModTime()}, nil
}

// pairStamp tells whether a certificate or its key changed.
type pairStamp struct{ cert, key fileStamp }

func newKeyPairReloader(certFile, keyFile string, log *slog.Logger) (*keyPairReloader, error) {
	r := &keyPairReloader{certFile: certFile, keyFile: keyFile, log: log}
	st, err := r.stamp()
	if err != nil {
		return nil, err
	}
	cert, err := tls.LoadX509KeyPair(certFile, keyFile)
	if err != nil {
		return nil, err
	}
	r.cert, r.loaded = &cert, st
	return r, nil
}

func (r *keyPairReloader) stamp() (pairStamp, error) {
	c, err := stampOf(r.certFile)
	if err != nil {
		return pairStamp{}, err
	}
	k, err := stampOf(r.keyFile)
	return pairStamp{c, k}, err
}

func (r *keyPairReloader) getCertificate(*tls.ClientHelloInfo) (*tls.Certificate, error) {
	st, err := r.stamp()
	r.mu.Lock()
	defer r.mu.Unlock()
	if err != nil || st == r.loaded || st == r.refused {
		return r.cert, nil
	}
	cert, err := tls.LoadX509KeyPair(r.certFile, r.keyFile)
	if err != nil {
		r.refused = st
		r.log.Warn("tls: the changed certificate files do not load; keeping the previous certificate", "cert_file", r.certFile, "err", err)
		return r.cert, nil
	}
	r.cert, r.loaded = &cert, st
	r.log.Info("tls: certificate reloaded", "cert_file", r.certFile)
	return r.cert, nil
}
