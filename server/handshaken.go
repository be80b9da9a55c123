package server

import (
	"context"
	"crypto/tls"
	"errors"
	"net"

	"google.golang.org/grpc/credentials"
)

// handshaken are the gRPC door's transport credentials when its listener
// does the TLS handshake itself (sniff.go: it sorts connections by ALPN):
// grpc-go gets connections already handshaken and takes their TLS state
// as the peer's, so mTLS identities work as with grpc-go's own handshake.
// A connection that is not TLS is refused: the listener hands grpc-go
// nothing else.
type handshaken struct {
	credentials.TransportCredentials // grpc-go's TLS credentials, for Info and the client side
}

func newHandshaken(conf *tls.Config) credentials.TransportCredentials {
	return handshaken{credentials.NewTLS(conf)}
}

func (h handshaken) ServerHandshake(c net.Conn) (net.Conn, credentials.AuthInfo, error) {
	tc, ok := c.(*tls.Conn)
	if !ok {
		return nil, nil, errors.New("tls: the connection was not handshaken by the listener")
	}
	// The listener finished the handshake; this only reads its state.
	if err := tc.HandshakeContext(context.Background()); err != nil {
		return nil, nil, err
	}
	return tc, credentials.TLSInfo{
		State:          tc.ConnectionState(),
		CommonAuthInfo: credentials.CommonAuthInfo{SecurityLevel: credentials.PrivacyAndIntegrity},
	}, nil
}

func (h handshaken) Clone() credentials.TransportCredentials {
	return handshaken{h.TransportCredentials.Clone()}
}
