package requestid

import (
	"net/http"
	"net/http/httptest"
	"net/netip"
	"strings"
	"testing"

	"github.com/google/uuid"
	"github.com/portico-gw/portico/call"
	configv1 "github.com/portico-gw/portico/gen/portico/config/v1"
)

func TestWellFormed(t *testing.T) {
	for _, c := range []struct {
		id   string
		want bool
	}{
		{"abc-123", true},
		{"0190b6f4-7a4c-7cc2-9f5e-2b1d6c1f0a11", true},
		{"a/b+c=d@e:f.g_h", true},
		{strings.Repeat("x", 128), true},
		{strings.Repeat("x", 129), false},
		{"", false},
		{"has space", false},
		{"new\nline", false},
		{`quote"`, false},
		{"é", false},
		{"semi;colon", false},
	} {
		if got := WellFormed(c.id); got != c.want {
			t.Errorf("WellFormed(%q) = %v, want %v", c.id, got, c.want)
		}
	}
}

func request(peer, id string) *call.Info {
	r := httptest.NewRequest("GET", "/", nil)
	r.RemoteAddr = peer
	if id != "" {
		r.Header.Set("X-Request-Id", id)
	}
	return call.NewHTTP(r)
}

func TestAssign(t *testing.T) {
	proxy := netip.MustParseAddr("10.0.0.1")
	trusted := func(a netip.Addr) bool { return a == proxy }
	for _, c := range []struct {
		name     string
		trustAll bool
		peer, id string
		keep     bool
	}{
		{"untrusted client's ID replaced", false, "192.0.2.1:1234", "client-id", false},
		{"trusted proxy's ID kept", false, "10.0.0.1:1234", "proxy-id", true},
		{"trusted proxy's malformed ID replaced", false, "10.0.0.1:1234", "bad id", false},
		{"trust_incoming keeps a client's", true, "192.0.2.1:1234", "client-id", true},
		{"trust_incoming still refuses a malformed one", true, "192.0.2.1:1234", strings.Repeat("y", 200), false},
		{"none sent", true, "192.0.2.1:1234", "", false},
	} {
		t.Run(c.name, func(t *testing.T) {
			g := New(&configv1.RequestId{TrustIncoming: c.trustAll}, trusted)
			info := request(c.peer, c.id)
			got := g.Assign(info)
			if info.RequestID() != got || info.RequestIDHeader() != "X-Request-Id" {
				t.Fatalf("info has %q under %q, want %q under X-Request-Id", info.RequestID(), info.RequestIDHeader(), got)
			}
			if c.keep {
				if got != c.id {
					t.Errorf("got %q, want the client's %q", got, c.id)
				}
				return
			}
			if got == c.id {
				t.Errorf("got the client's %q, want a new one", got)
			}
			if u, err := uuid.Parse(got); err != nil || u.Version() != 7 {
				t.Errorf("got %q (version %v, %v), want a UUIDv7", got, u.Version(), err)
			}
		})
	}
}

func TestAssignUnique(t *testing.T) {
	g := New(nil, nil)
	seen := map[string]bool{}
	for range 1000 {
		id := g.Assign(request("192.0.2.1:1", ""))
		if seen[id] {
			t.Fatalf("ID %q given twice", id)
		}
		seen[id] = true
	}
}

func TestHandlerHeader(t *testing.T) {
	g := New(&configv1.RequestId{Header: "x-correlation-id", TrustIncoming: true}, nil)
	var seen string
	h := g.Handler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		seen = call.FromContext(r.Context()).RequestID()
	}))
	r := httptest.NewRequest("GET", "/", nil)
	r.Header.Set("X-Correlation-Id", "abc")
	w := httptest.NewRecorder()
	h.ServeHTTP(w, r)
	if got := w.Header().Get("X-Correlation-Id"); got != "abc" || seen != "abc" {
		t.Errorf("response header %q, call's ID %q, want abc for both", got, seen)
	}
}
