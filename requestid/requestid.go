// Package requestid gives every call an ID: kept from the client when it
// is well formed and the client is trusted to choose it (request_id:
// trust_incoming, or a network.trusted_proxies peer), otherwise made
// here. The doors ask for it first thing (Assign), before any policy can
// refuse the call, so a refusal carries it too; the call carries it
// (call.Info.RequestID) to the backend, the response, the access log,
// the server span and error bodies.
package requestid

import (
	"net/http"
	"net/netip"
	"strings"

	"github.com/google/uuid"
	"github.com/portico-gw/portico/call"
	configv1 "github.com/portico-gw/portico/gen/portico/config/v1"
)

// DefaultHeader is the header that carries the ID when the config names
// none.
const DefaultHeader = "X-Request-Id"

// maxLen is the longest ID kept from a client.
const maxLen = 128

// IDs assigns request IDs. Its zero value is not usable: use New.
type IDs struct {
	header   string // canonical HTTP form
	trustAll bool
	trusted  func(netip.Addr) bool
}

// New reads the request_id section; trusted reports a trusted proxy
// (nil: none is).
func New(c *configv1.RequestId, trusted func(netip.Addr) bool) *IDs {
	h := c.GetHeader()
	if h == "" {
		h = DefaultHeader
	}
	return &IDs{header: http.CanonicalHeaderKey(h), trustAll: c.GetTrustIncoming(), trusted: trusted}
}

// Header is the header that carries the ID (canonical HTTP form).
func (g *IDs) Header() string { return g.header }

// Assign gives info its ID and returns it: the client's when trusted and
// well formed, else a new one (a UUIDv7: unique, and ordered by time in
// logs).
func (g *IDs) Assign(info *call.Info) string {
	id := ""
	if g.trustAll || (g.trusted != nil && g.trusted(info.Peer.Addr())) {
		if v := info.Header(g.header); WellFormed(v) {
			id = v
		}
	}
	if id == "" {
		id = Generate()
	}
	info.SetRequestID(g.header, id)
	return id
}

// Generate returns a new random ID.
func Generate() string {
	u, err := uuid.NewV7()
	if err != nil {
		// Only the system's random source can fail; fall back to v4,
		// which panics then (nothing sensible can go on).
		return uuid.NewString()
	}
	return u.String()
}

// WellFormed reports whether a client's ID may be kept: 1 to 128 bytes
// of letters, digits and - _ . : + / = @ (nothing that could break a log
// line, a header or a URI).
func WellFormed(id string) bool {
	if id == "" || len(id) > maxLen {
		return false
	}
	for i := 0; i < len(id); i++ {
		c := id[i]
		switch {
		case 'a' <= c && c <= 'z', 'A' <= c && c <= 'Z', '0' <= c && c <= '9':
		case strings.IndexByte("-_.:+/=@", c) >= 0:
		default:
			return false
		}
	}
	return true
}

// Handler assigns the ID of every request to next and returns it in the
// response header (the REST listener's requests: REST, gRPC-Web and
// Connect), before anything else can answer. A nil IDs returns next.
func (g *IDs) Handler(next http.Handler) http.Handler {
	if g == nil {
		return next
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		info := call.FromContext(r.Context())
		if info == nil {
			info = call.NewHTTP(r)
			r = r.WithContext(call.NewHTTPContext(r.Context(), info))
		}
		w.Header().Set(g.header, g.Assign(info))
		next.ServeHTTP(w, r)
	})
}
