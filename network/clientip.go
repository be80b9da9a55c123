package network

import (
	"net/netip"
	"strings"

	"github.com/portico-gw/portico/config"
)

// Proxies are the trusted proxies: their X-Forwarded-For and Forwarded
// headers say who the client is. Anyone else's are ignored.
type Proxies struct {
	set *Set
}

// NewProxies reads trusted_proxies (CIDRs or addresses) at field; nil
// when there are none.
func NewProxies(field string, entries []string) (*Proxies, config.Errors) {
	if len(entries) == 0 {
		return nil, nil
	}
	s, errs := NewSet(field, entries)
	if len(errs) > 0 {
		return nil, errs
	}
	return &Proxies{set: s}, nil
}

// Trusted reports whether a is a trusted proxy. Safe on nil (none is).
func (p *Proxies) Trusted(a netip.Addr) bool {
	return p != nil && p.set.Contains(a.Unmap())
}

// ClientIP returns the client's address: peer when it is not a trusted
// proxy; otherwise the rightmost address of the forwarding chain that is
// not a trusted proxy (each proxy appends the address it received the
// request from, so only the entries right of the first untrusted one are
// known to be true). The chain is read from X-Forwarded-For, or from
// Forwarded's for= parameters when there is no X-Forwarded-For. An entry
// that is not an address ("unknown", an obfuscated identifier, garbage)
// ends the walk at the proxy that wrote it. values returns a request
// header's values (call.Info.Values: HTTP headers or gRPC metadata).
func (p *Proxies) ClientIP(peer netip.Addr, values func(string) []string) netip.Addr {
	peer = peer.Unmap()
	if p == nil || !p.set.Contains(peer) {
		return peer
	}
	client := peer
	walk := func(hop string) bool {
		a, ok := parseHop(hop)
		if !ok {
			return false
		}
		client = a
		return p.set.Contains(a)
	}
	if xff := values("X-Forwarded-For"); len(xff) > 0 {
		eachRight(xff, ',', func(hop string) bool { return walk(hop) })
		return client
	}
	if fwd := values("Forwarded"); len(fwd) > 0 {
		eachRight(fwd, ',', func(elem string) bool {
			hop, ok := forwardedFor(elem)
			return ok && walk(hop)
		})
	}
	return client
}

// eachRight calls f on the sep-separated entries of the header lines,
// from the last to the first (lines in order, as one list: RFC 9110
// §5.3), while f returns true. Quoted strings may hold sep.
func eachRight(lines []string, sep byte, f func(string) bool) {
	for i := len(lines) - 1; i >= 0; i-- {
		parts := splitQuoted(lines[i], sep)
		for j := len(parts) - 1; j >= 0; j-- {
			e := strings.TrimSpace(parts[j])
			if e == "" {
				continue
			}
			if !f(e) {
				return
			}
		}
	}
}

// splitQuoted splits s at sep outside double-quoted strings.
func splitQuoted(s string, sep byte) []string {
	var out []string
	start, quoted := 0, false
	for i := 0; i < len(s); i++ {
		switch c := s[i]; {
		case c == '\\' && quoted:
			i++
		case c == '"':
			quoted = !quoted
		case c == sep && !quoted:
			out = append(out, s[start:i])
			start = i + 1
		}
	}
	return append(out, s[start:])
}

// forwardedFor returns the for= value of one Forwarded element
// (RFC 7239: `for=192.0.2.60;proto=http;by=203.0.113.43`), unquoted.
func forwardedFor(elem string) (string, bool) {
	for _, pair := range splitQuoted(elem, ';') {
		k, v, ok := strings.Cut(strings.TrimSpace(pair), "=")
		if !ok || !strings.EqualFold(strings.TrimSpace(k), "for") {
			continue
		}
		v = strings.TrimSpace(v)
		if len(v) >= 2 && v[0] == '"' && v[len(v)-1] == '"' {
			v = strings.ReplaceAll(v[1:len(v)-1], `\`, "")
		}
		return v, true
	}
	return "", false
}

// parseHop reads one hop's address: "192.0.2.7", "192.0.2.7:4711",
// "2001:db8::1", "[2001:db8::1]", "[2001:db8::1]:4711".
func parseHop(s string) (netip.Addr, bool) {
	if a, err := netip.ParseAddr(s); err == nil {
		return a.Unmap().WithZone(""), true
	}
	if ap, err := netip.ParseAddrPort(s); err == nil {
		return ap.Addr().Unmap().WithZone(""), true
	}
	if len(s) > 2 && s[0] == '[' && s[len(s)-1] == ']' {
		if a, err := netip.ParseAddr(s[1 : len(s)-1]); err == nil && a.Is6() {
			return a.Unmap().WithZone(""), true
		}
	}
	return netip.Addr{}, false
}
