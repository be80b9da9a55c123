package webprotocols

import (
	"context"
	"math"
	"net"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/portico-gw/portico/call"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/credentials"
	"google.golang.org/grpc/metadata"
	"google.golang.org/grpc/peer"
	"google.golang.org/grpc/status"
)

// incoming returns r's context as grpc-go's HTTP transport would make it
// for the gRPC door, from the headers vanguard would forward: the
// incoming metadata (grpc-go's rules: lower-case keys, reserved names
// dropped, -bin values decoded), the peer and the deadline
// (Connect-Timeout-Ms or grpc-timeout), and the metadata. cancel releases
// the deadline.
func incoming(r *http.Request, p Protocol) (_ context.Context, _ metadata.MD, cancel context.CancelFunc, _ error) {
	ctx := r.Context()
	timeout, set, err := requestTimeout(r, p)
	if err != nil {
		return ctx, nil, nil, err
	}
	md := make(metadata.MD, len(r.Header)+2)
	md["content-type"] = grpcContentType
	// Every value in one backing array, each key's values a window of it
	// capped at its end (an append copies rather than overwrite the next
	// key's): one allocation for the values, not one per key.
	n := 1
	for _, vs := range r.Header {
		n += len(vs)
	}
	buf := make([]string, 0, n)
	if r.Host != "" {
		buf = append(buf, r.Host)
		md[":authority"] = buf[0:1:1]
	}
	for k, vs := range r.Header {
		if protocolHeader(k) {
			continue // the common case, decided without lower-casing
		}
		k = strings.ToLower(k)
		if !forwarded(k) {
			continue
		}
		from := len(buf)
		for _, v := range vs {
			if strings.HasSuffix(k, "-bin") {
				b, err := call.DecodeBinHeader(v)
				if err != nil {
					return ctx, nil, nil, status.Errorf(codes.InvalidArgument, "malformed binary metadata %q in header %q: %v", v, k, err)
				}
				v = string(b)
			}
			buf = append(buf, v)
		}
		if len(buf) == from {
			continue
		}
		if prev, ok := md[k]; ok { // two spellings of one name
			md[k] = append(prev, buf[from:]...)
			continue
		}
		md[k] = buf[from:len(buf):len(buf)]
	}
	ctx = metadata.NewIncomingContext(ctx, md)
	ctx = peer.NewContext(ctx, peerOf(r))
	if set {
		ctx, cancel = context.WithTimeout(ctx, timeout)
		return ctx, md, cancel, nil
	}
	return ctx, md, func() {}, nil
}

// grpcContentType is the content type a gRPC call's metadata holds
// (shared: a window with no room left, which an append copies).
var grpcContentType = []string{"application/grpc+proto"}[:1:1]

// forwarded reports whether a request header (lower-cased) becomes
// metadata: not grpc-go's reserved names (user-agent apart), nor the
// protocol's own headers, which vanguard consumes.
func forwarded(k string) bool {
	switch k {
	case "content-type", "grpc-message-type", "grpc-encoding", "grpc-message", "grpc-status", "grpc-timeout", "te",
		"grpc-accept-encoding", "content-encoding", "accept-encoding", "content-length",
		"connect-protocol-version", "connect-timeout-ms", "connect-content-encoding", "connect-accept-encoding":
		return false
	}
	return k != "" && k[0] != ':'
}

// protocolHeader reports, for the canonical names net/http gives the
// headers a web protocol client sends on every call, those forwarded
// reports false for.
func protocolHeader(k string) bool {
	switch k {
	case "Content-Type", "Content-Length", "Accept-Encoding", "Content-Encoding", "Te",
		"Connect-Protocol-Version", "Connect-Timeout-Ms", "Grpc-Timeout", "Grpc-Encoding", "Grpc-Accept-Encoding":
		return true
	}
	return false
}

// requestTimeout reads the call's timeout: Connect-Timeout-Ms (Connect,
// milliseconds, at most the largest duration) or grpc-timeout (gRPC-Web).
func requestTimeout(r *http.Request, p Protocol) (time.Duration, bool, error) {
	if p == Connect {
		v := r.Header.Get("Connect-Timeout-Ms")
		if v == "" {
			return 0, false, nil
		}
		ms, err := strconv.ParseInt(v, 10, 64)
		if err != nil || ms < 0 {
			return 0, false, status.Errorf(codes.InvalidArgument, "invalid Connect-Timeout-Ms: %q", v)
		}
		if ms > math.MaxInt64/int64(time.Millisecond) {
			return time.Duration(math.MaxInt64), true, nil
		}
		return time.Duration(ms) * time.Millisecond, true, nil
	}
	v := r.Header.Get("Grpc-Timeout")
	if v == "" {
		return 0, false, nil
	}
	d, err := call.DecodeTimeout(v)
	if err != nil {
		return 0, false, status.Errorf(codes.InvalidArgument, "invalid grpc-timeout: %q", v)
	}
	return d, true, nil
}

// peerOf is the client as grpc-go's HTTP transport names it.
func peerOf(r *http.Request) *peer.Peer {
	p := &peer.Peer{Addr: remoteAddr(r.RemoteAddr)}
	if la, ok := r.Context().Value(http.LocalAddrContextKey).(net.Addr); ok {
		p.LocalAddr = la
	}
	if r.TLS != nil {
		p.AuthInfo = credentials.TLSInfo{State: *r.TLS, CommonAuthInfo: credentials.CommonAuthInfo{SecurityLevel: credentials.PrivacyAndIntegrity}}
	}
	return p
}

// remoteAddr is an http.Request's RemoteAddr as a net.Addr.
type remoteAddr string

func (remoteAddr) Network() string  { return "tcp" }
func (a remoteAddr) String() string { return string(a) }
