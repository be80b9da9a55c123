package transcoder

import (
	"fmt"
	"net/http"
	"testing"

	"github.com/portico-gw/portico/catalog/httprule"
)

func mustTemplate(t testing.TB, s string) *httprule.Template {
	t.Helper()
	tpl, err := httprule.Parse(s)
	if err != nil {
		t.Fatal(err)
	}
	return tpl
}

// TestHostRouters: the same route on different hosts reaches each host's
// own method; a host's own routes come before its wildcard's, and those
// before the routes of APIs without hosts; a host nobody serves finds only
// the hostless routes.
func TestHostRouters(t *testing.T) {
	h := newHostRouters()
	exact, wild, anyHost := &route{}, &route{}, &route{}
	tpl := mustTemplate(t, "/v1/items/{id}")
	for _, add := range []struct {
		hosts []string
		rt    *route
	}{{[]string{"a.example.com"}, exact}, {[]string{"*.example.com"}, wild}, {nil, anyHost}} {
		if err := h.add(add.hosts, http.MethodGet, tpl, add.rt); err != nil {
			t.Fatal(err)
		}
	}
	if err := h.add([]string{"a.example.com"}, http.MethodPost, mustTemplate(t, "/v1/only-a"), exact); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		host string
		want *route
	}{
		{"a.example.com", exact},
		{"A.example.com:8080", exact},
		{"b.example.com", wild},
		{"example.com", anyHost},
		{"b.other.com", anyHost},
	} {
		m, _, found := h.forHost(tc.host).Lookup(http.MethodGet, "/v1/items/7")
		if !found || m.Value != tc.want {
			t.Errorf("host %s: got %p (found %v), want %p", tc.host, m.Value, found, tc.want)
		}
	}
	if _, allowed, found := h.forHost("a.example.com").Lookup(http.MethodGet, "/v1/only-a"); found || len(allowed) != 1 || allowed[0] != http.MethodPost {
		t.Errorf("GET on a POST route of the host: got found %v, allowed %v; want 405 with POST", found, allowed)
	}
	if _, allowed, found := h.forHost("b.example.com").Lookup(http.MethodPost, "/v1/only-a"); found || len(allowed) != 0 {
		t.Errorf("another host's route: got found %v, allowed %v; want not found", found, allowed)
	}
}

// BenchmarkHostLookup: the host layer's cost does not grow with the
// number of hosts (map reads): compare hosts=1 with hosts=1000, and
// hosts=0 (no API has hosts: the router alone).
func BenchmarkHostLookup(b *testing.B) {
	for _, n := range []int{0, 1, 1000} {
		b.Run(fmt.Sprintf("hosts=%d", n), func(b *testing.B) {
			h := newHostRouters()
			rt := &route{}
			for i := range n {
				if err := h.add([]string{fmt.Sprintf("h%d.example.com", i), fmt.Sprintf("*.t%d.example.com", i)}, http.MethodGet, mustTemplate(b, "/v1/shelves/{shelf}/books/{book}"), rt); err != nil {
					b.Fatal(err)
				}
			}
			if n == 0 {
				if err := h.add(nil, http.MethodGet, mustTemplate(b, "/v1/shelves/{shelf}/books/{book}"), rt); err != nil {
					b.Fatal(err)
				}
			}
			host := "h0.example.com:443"
			b.ReportAllocs()
			for b.Loop() {
				if _, _, found := h.forHost(host).Lookup(http.MethodGet, "/v1/shelves/1/books/2"); !found {
					b.Fatal("not found")
				}
			}
		})
	}
}
