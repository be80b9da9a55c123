package call

import (
	"context"
	"net"
	"net/http"
	"net/netip"

	"google.golang.org/grpc/credentials"
	"google.golang.org/grpc/metadata"
	"google.golang.org/grpc/peer"
)

// The two doors describe their calls the same way: these constructors
// are the only places an Info is made from a request.

// NewHTTP describes a request of the REST door (and of the edges before
// it) as a call: the door, the request, the peer from its remote
// address, the authority and the TLS state.
func NewHTTP(r *http.Request) *Info {
	info := &Info{
		Door:       REST,
		HTTPMethod: r.Method,
		Path:       r.URL.Path,
		HTTP:       r,
		Authority:  r.Host,
		TLS:        r.TLS,
	}
	if ap, err := netip.ParseAddrPort(r.RemoteAddr); err == nil {
		info.Peer = netip.AddrPortFrom(ap.Addr().Unmap(), ap.Port())
		info.ClientIP = info.Peer.Addr()
	}
	return info
}

// NewHTTPContext returns ctx carrying info and, as the gRPC door's
// contexts do, the peer: a policy or interceptor reads the client's
// address the same way on both doors.
func NewHTTPContext(ctx context.Context, info *Info) context.Context {
	ctx = NewContext(ctx, info)
	if info.Peer.IsValid() {
		ctx = peer.NewContext(ctx, &peer.Peer{Addr: netAddr{info.Peer}})
	}
	return ctx
}

// addrPort reads a peer's address: a TCP one directly (no string made
// and parsed again per call), any other from its text.
func addrPort(a net.Addr) (netip.AddrPort, bool) {
	if t, ok := a.(*net.TCPAddr); ok {
		ap := t.AddrPort()
		return ap, ap.IsValid()
	}
	ap, err := netip.ParseAddrPort(a.String())
	return ap, err == nil
}

// netAddr is a net.Addr for a TCP peer.
type netAddr struct{ ap netip.AddrPort }

func (a netAddr) Network() string { return "tcp" }
func (a netAddr) String() string  { return a.ap.String() }

// NewGRPC describes a call of the gRPC door: its full method, its
// metadata as the client sent it, the authority, the peer and its TLS
// state. An Info a stats handler already put in ctx is completed, not
// replaced.
func NewGRPC(ctx context.Context, fullMethod string) *Info {
	md, _ := metadata.FromIncomingContext(ctx)
	return NewGRPCWith(ctx, fullMethod, md)
}

// NewGRPCWith is NewGRPC with the call's incoming metadata given: a door
// that built it keeps it as it is (grpc-go's FromIncomingContext copies
// it on every call). Nothing may modify md afterwards.
func NewGRPCWith(ctx context.Context, fullMethod string, md metadata.MD) *Info {
	info := FromContext(ctx)
	if info == nil {
		info = &Info{}
	}
	info.Door = GRPC
	info.Route = fullMethod
	info.Path = fullMethod
	info.HTTPMethod = "POST"
	info.MD = md
	if vs := info.MD[":authority"]; len(vs) > 0 {
		info.Authority = vs[0]
	}
	if p, ok := peer.FromContext(ctx); ok && p.Addr != nil {
		if ap, ok := addrPort(p.Addr); ok {
			info.Peer = netip.AddrPortFrom(ap.Addr().Unmap(), ap.Port())
			info.ClientIP = info.Peer.Addr()
		}
		if ti, ok := p.AuthInfo.(credentials.TLSInfo); ok {
			cs := ti.State
			info.TLS = &cs
		}
	}
	return info
}
