package auth

import (
	"context"
	"crypto/x509"

	"github.com/portico-gw/portico/call"
)

// mtlsProvider authenticates the client certificate the TLS handshake
// verified (against tls.client_ca_file).
type mtlsProvider struct{ name string }

func (p *mtlsProvider) providerName() string { return p.name }

func (p *mtlsProvider) challenge(bool) string { return `Certificate ` + realm }

// places: the certificate is the connection's, not the request's.
func (p *mtlsProvider) places() credentials { return credentials{} }

func (p *mtlsProvider) authenticate(_ context.Context, info *call.Info) (*call.Identity, error) {
	// Only a verified chain counts: with require_client_cert false the
	// handshake also lets calls without a certificate through, and
	// PeerCertificates alone would trust an unverified one.
	if info.TLS == nil || len(info.TLS.VerifiedChains) == 0 || len(info.TLS.VerifiedChains[0]) == 0 {
		return nil, errNoCredentials
	}
	cert := info.TLS.VerifiedChains[0][0]
	principal := CertificatePrincipal(cert)
	if principal == "" {
		return nil, errNoPrincipal
	}
	return &call.Identity{
		Provider:  p.name,
		Principal: principal,
		Metadata:  map[string]string{PrincipalHeader: principal},
	}, nil
}

type certError string

func (e certError) Error() string { return string(e) }

const errNoPrincipal = certError("the client certificate names no URI SAN, DNS SAN or subject CN")

// CertificatePrincipal is who a client certificate names: its URI SAN
// (a SPIFFE ID), else its DNS SAN, else its subject CN.
func CertificatePrincipal(cert *x509.Certificate) string {
	if len(cert.URIs) > 0 {
		return cert.URIs[0].String()
	}
	if len(cert.DNSNames) > 0 {
		return cert.DNSNames[0]
	}
	return cert.Subject.CommonName
}
