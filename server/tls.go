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
// certificates reloaded when their files change; nil when the config sets
// no TLS. The closer stops watching the files.
//
// The certificate is reloaded on the handshake after its files change
// (their size or modification time): no watcher goroutine, and a
// rotation by cert-manager or certbot is picked up by the next client.
// A pair that does not load (a half-written file) is logged and the
// previous certificate kept. The client CA bundle is read at start.
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
	}
	if ca := t.GetClientCaFile(); ca != "" {
		pem, err := os.ReadFile(cfg.Resolve(ca))
		if err != nil {
			return nil, nil, fmt.Errorf("client_ca_file: %v", err)
		}
		pool := x509.NewCertPool()
		if !pool.AppendCertsFromPEM(pem) {
			return nil, nil, fmt.Errorf("client_ca_file %s: no PEM certificate in it", ca)
		}
		conf.ClientCAs = pool
		conf.ClientAuth = tls.VerifyClientCertIfGiven
		if t.GetRequireClientCert() {
			conf.ClientAuth = tls.RequireAndVerifyClientCert
		}
	} else if t.GetRequireClientCert() {
		return nil, nil, errors.New("require_client_cert needs client_ca_file")
	}
	return conf, nil, nil
}

// keyPairReloader serves a certificate from files, reloading it when
// they change.
type keyPairReloader struct {
	certFile, keyFile string
	log               *slog.Logger

	mu      sync.Mutex
	cert    *tls.Certificate
	loaded  fileStamp // stamps of the pair being served
	refused fileStamp // stamps of a pair that failed to load
}

// fileStamp tells whether a file changed.
type fileStamp struct {
	certSize, keySize   int64
	certMTime, keyMTime time.Time
}

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

func (r *keyPairReloader) stamp() (fileStamp, error) {
	c, err := os.Stat(r.certFile)
	if err != nil {
		return fileStamp{}, err
	}
	k, err := os.Stat(r.keyFile)
	if err != nil {
		return fileStamp{}, err
	}
	return fileStamp{certSize: c.Size(), keySize: k.Size(), certMTime: c.ModTime(), keyMTime: k.ModTime()}, nil
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
