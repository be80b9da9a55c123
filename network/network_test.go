package network

import (
	"net/http"
	"net/netip"
	"strings"
	"testing"
)

func headers(kv ...string) func(string) []string {
	h := http.Header{}
	for i := 0; i < len(kv); i += 2 {
		h.Add(kv[i], kv[i+1])
	}
	return h.Values
}

func TestClientIP(t *testing.T) {
	p, err := NewProxies("network.trusted_proxies", []string{"10.0.0.0/8", "2001:db8:ffff::/48", "192.0.2.10"})
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name    string
		peer    string
		headers []string
		want    string
	}{
		{"untrusted peer, spoofed header ignored", "203.0.113.5", []string{"X-Forwarded-For", "1.2.3.4"}, "203.0.113.5"},
		{"untrusted peer, spoofed Forwarded ignored", "203.0.113.5", []string{"Forwarded", "for=1.2.3.4"}, "203.0.113.5"},
		{"trusted peer without header", "10.1.2.3", nil, "10.1.2.3"},
		{"trusted peer", "10.1.2.3", []string{"X-Forwarded-For", "198.51.100.7"}, "198.51.100.7"},
		{"rightmost untrusted wins over a spoofed left part", "10.1.2.3", []string{"X-Forwarded-For", "1.2.3.4, 198.51.100.7, 10.9.9.9"}, "198.51.100.7"},
		{"several header lines are one list", "10.1.2.3", []string{"X-Forwarded-For", "1.2.3.4, 198.51.100.7", "X-Forwarded-For", "10.9.9.9"}, "198.51.100.7"},
		{"all trusted: the leftmost", "10.1.2.3", []string{"X-Forwarded-For", "10.0.0.1, 192.0.2.10"}, "10.0.0.1"},
		{"address with port", "10.1.2.3", []string{"X-Forwarded-For", "198.51.100.7:4711"}, "198.51.100.7"},
		{"IPv6 with port", "10.1.2.3", []string{"X-Forwarded-For", "[2001:db8::17]:4711"}, "2001:db8::17"},
		{"IPv4-mapped peer", "::ffff:10.1.2.3", []string{"X-Forwarded-For", "198.51.100.7"}, "198.51.100.7"},
		{"garbage ends the walk at the proxy that wrote it", "10.1.2.3", []string{"X-Forwarded-For", "198.51.100.7, unknown, 10.2.2.2"}, "10.2.2.2"},
		{"Forwarded", "10.1.2.3", []string{"Forwarded", `for=1.2.3.4, for="[2001:db8:cafe::17]:4711";proto=https, for=10.5.5.5;by=10.0.0.1`}, "2001:db8:cafe::17"},
		{"Forwarded quoted comma", "10.1.2.3", []string{"Forwarded", `for="198.51.100.9";x="a,b"`}, "198.51.100.9"},
		{"Forwarded obfuscated", "10.1.2.3", []string{"Forwarded", `for=_hidden, for=10.6.6.6`}, "10.6.6.6"},
		{"X-Forwarded-For is preferred over Forwarded", "10.1.2.3", []string{"Forwarded", "for=1.1.1.1", "X-Forwarded-For", "198.51.100.7"}, "198.51.100.7"},
		{"IPv6 trusted proxy", "2001:db8:ffff::1", []string{"X-Forwarded-For", "198.51.100.7"}, "198.51.100.7"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got := p.ClientIP(netip.MustParseAddr(tc.peer), headers(tc.headers...))
			if got != netip.MustParseAddr(tc.want) {
				t.Errorf("got %v, want %s", got, tc.want)
			}
		})
	}
	var none *Proxies
	if got := none.ClientIP(netip.MustParseAddr("10.1.2.3"), headers("X-Forwarded-For", "1.2.3.4")); got.String() != "10.1.2.3" {
		t.Errorf("no trusted proxies: got %v, want the peer", got)
	}
}

func TestRules(t *testing.T) {
	r, errs := NewRules("network", []string{"192.0.2.0/24", "2001:db8::/32"}, []string{"192.0.2.66", "::ffff:192.0.2.128/121"})
	if errs != nil {
		t.Fatal(errs)
	}
	for _, tc := range []struct {
		ip   string
		want bool
	}{
		{"192.0.2.1", true},
		{"192.0.2.66", false},  // denied address inside the allowed range
		{"192.0.2.130", false}, // denied by a mapped CIDR
		{"::ffff:192.0.2.1", true},
		{"2001:db8::1", true},
		{"198.51.100.1", false}, // outside the allow list
		{"fe80::1%eth0", false},
	} {
		if got := r.Allowed(netip.MustParseAddr(tc.ip)); got != tc.want {
			t.Errorf("Allowed(%s): got %v, want %v", tc.ip, got, tc.want)
		}
	}
	if r.Allowed(netip.Addr{}) {
		t.Error("unknown address with an allow list: allowed")
	}
	deny, _ := NewRules("x", nil, []string{"203.0.113.0/24"})
	if !deny.Allowed(netip.MustParseAddr("198.51.100.1")) || deny.Allowed(netip.MustParseAddr("203.0.113.9")) {
		t.Error("deny-only rules: wrong answer")
	}
	if !deny.Allowed(netip.Addr{}) {
		t.Error("deny-only rules, unknown address: refused")
	}
	if none, errs := NewRules("x", nil, nil); none != nil || errs != nil {
		t.Errorf("no rules: got %v, %v; want nil, nil", none, errs)
	}
}

func TestRulesErrors(t *testing.T) {
	_, errs := NewRules("apis[1].network", []string{"10.0.0.0/8", "10.0.0.0/33"}, []string{"nope", "fe80::/10%eth0"})
	if len(errs) != 3 {
		t.Fatalf("got %d errors (%v), want 3", len(errs), errs)
	}
	for i, want := range []string{"apis[1].network.allow[1]", "apis[1].network.deny[0]", "apis[1].network.deny[1]"} {
		if errs[i].Field != want {
			t.Errorf("error %d: got field %q, want %q", i, errs[i].Field, want)
		}
	}
}

func FuzzClientIP(f *testing.F) {
	f.Add("1.2.3.4, 10.0.0.1", `for="[2001:db8::1]:80";proto=http`)
	f.Add(`"a,b", ,,`, `for=";`)
	p, err := NewProxies("p", []string{"10.0.0.0/8"})
	if err != nil {
		f.Fatal(err)
	}
	peer := netip.MustParseAddr("10.0.0.9")
	f.Fuzz(func(t *testing.T, xff, fwd string) {
		for _, h := range [][]string{{"X-Forwarded-For", xff}, {"Forwarded", fwd}} {
			got := p.ClientIP(peer, headers(h...))
			if !got.IsValid() {
				t.Fatalf("%q: got an invalid address", h)
			}
			// The answer is the peer or an address from the header (an
			// IPv4 address reads the same in both; IPv6 text varies).
			if got != peer && got.Is4() && !strings.Contains(h[1], got.String()) {
				t.Fatalf("%q: got %v, which the header does not hold", h, got)
			}
		}
	})
}
