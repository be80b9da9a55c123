package server_test

// The finding about a file the gateway must read again while it runs
// (one test per finding, named for it).

import (
	"crypto/tls"
	"net/http"
	"testing"

	"github.com/portico-gw/portico/auth/authtest"
	"google.golang.org/grpc/codes"
)

// TestRegressClientCAReadOnce (noticed in stop 12): a new client CA bundle is used from the next
// handshake on, on both doors, and the REST door still speaks HTTP/2; a
// bundle that does not parse keeps the previous one. (The bundle was read
// once, at start.)
func TestRegressClientCAReadOnce(t *testing.T) {
	s := newTLSSetup(t)
	rec, addr := startRecorder(t)
	srv := startTLSGateway(t, s.config(addr, true), s.dir)
	next := authtest.NewCA(t, "next client CA")
	cert := next.Issue(t, authtest.LeafOptions{CommonName: "rotated", Client: true}).TLS
	conf := s.clientTLS()
	conf.GetClientCertificate = func(*tls.CertificateRequestInfo) (*tls.Certificate, error) { return &cert, nil }

	if _, err := httpsClient(conf).Get("https://" + srv.HTTPAddr + getBookPath); err == nil {
		t.Fatal("REST: a certificate of the next CA was accepted before the bundle named it")
	}
	writeAtomic(t, s.clientCAFile, append(append([]byte{}, s.client.PEM...), next.PEM...))
	check := func(when string) {
		t.Helper()
		resp, err := httpsClient(conf).Get("https://" + srv.HTTPAddr + getBookPath)
		if err != nil {
			t.Fatalf("REST %s: %v", when, err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusOK || resp.ProtoMajor != 2 {
			t.Errorf("REST %s: got %d over HTTP/%d, want 200 over HTTP/2", when, resp.StatusCode, resp.ProtoMajor)
		}
		if got := rec.lastMD().Get("x-portico-principal"); len(got) != 1 || got[0] != "rotated" {
			t.Errorf("REST %s: principal %q, want [rotated]", when, got)
		}
		if st, _ := grpcGetBook(t, tlsConn(t, srv.GRPCAddr, conf), "shelves/1/books/1", nil); st.Code() != codes.OK {
			t.Errorf("gRPC %s: got %v, want OK", when, st.Err())
		}
	}
	check("after the bundle named the next CA")
	writeAtomic(t, s.clientCAFile, []byte("not a certificate"))
	check("after a bundle that does not parse")
}
