package call

import (
	"net"
	"net/netip"
	"testing"
)

// TestAddrPortMatchesText holds addrPort's direct reading of a TCP peer
// against parsing its text, as NewGRPC did before (both unmapped, as
// NewGRPC keeps them).
func TestAddrPortMatchesText(t *testing.T) {
	for _, a := range []*net.TCPAddr{
		{IP: net.IPv4(10, 1, 2, 3), Port: 5555},                // 16-byte form
		{IP: net.IP{192, 168, 0, 1}, Port: 80},                 // 4-byte form
		{IP: net.ParseIP("2001:db8::1"), Port: 443},            //
		{IP: net.ParseIP("fe80::1"), Port: 8080, Zone: "eth0"}, // with a zone
		{IP: net.IPv6loopback, Port: 0},
		{Port: 9}, // no address
	} {
		want, err := netip.ParseAddrPort(a.String())
		got, ok := addrPort(a)
		unmap := func(ap netip.AddrPort) netip.AddrPort { return netip.AddrPortFrom(ap.Addr().Unmap(), ap.Port()) }
		if ok != (err == nil) || (ok && unmap(got) != unmap(want)) {
			t.Errorf("addrPort(%v): got %v %v, want %v %v", a, got, ok, want, err == nil)
		}
	}
	if got, ok := addrPort(netAddr{netip.MustParseAddrPort("[::1]:7")}); !ok || got != netip.MustParseAddrPort("[::1]:7") {
		t.Errorf("addrPort of another net.Addr: got %v %v, want [::1]:7 true", got, ok)
	}
}
