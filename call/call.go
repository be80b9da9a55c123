// Package call is the typed call both doors hand to the pipeline: the
// method, the door it came through, the peer, the client's full request
// headers, and what policies learn on the way (the client address behind
// trusted proxies, the caller's identity, headers for the response). A
// door makes one Info per call and puts it in the context, so every
// policy sees the same thing whichever door the call came through.
package call

import (
	"context"
	"crypto/tls"
	"errors"
	"net/http"
	"net/netip"
	"strings"

	"github.com/portico-gw/portico/catalog"
	"google.golang.org/grpc/metadata"
)

// Door names the door a call came through.
type Door uint8

const (
	// REST is the REST/JSON door.
	REST Door = iota + 1
	// GRPC is the gRPC door.
	GRPC
)

func (d Door) String() string {
	switch d {
	case REST:
		return "rest"
	case GRPC:
		return "grpc"
	}
	return "unknown"
}

// Info describes one call. The door fills the request side before the
// pipeline runs; policies add what they learn (ClientIP, Identity,
// response headers). It is not safe for concurrent writes: policies run
// one after the other.
type Info struct {
	// Door is where the call came in.
	Door Door
	// Method is the exposed method called; nil until the call is routed
	// (and for calls that match no method).
	Method *catalog.Method
	// PlainRoute is the plain HTTP route called (routes[]), when the call
	// is one; Method is nil then.
	PlainRoute *catalog.PlainRoute
	// Route is the route template (REST) or the gRPC method path (a plain
	// route's prefix).
	Route string
	// HTTPMethod is the request's HTTP method (POST on the gRPC door).
	HTTPMethod string
	// Path is the request path as sent (REST) or the gRPC method path.
	Path string
	// HTTP is the REST request (nil on the gRPC door). Policies read its
	// headers through Header and Values, which work on both doors.
	HTTP *http.Request
	// MD is the metadata the gRPC client sent, unfiltered (nil on the REST
	// door).
	MD metadata.MD
	// Peer is the address of the immediate peer (a proxy, perhaps).
	Peer netip.AddrPort
	// ClientIP is the client's address: the peer's, or the rightmost
	// untrusted address of X-Forwarded-For / Forwarded when the peer is a
	// trusted proxy (the network policy sets it).
	ClientIP netip.Addr
	// Authority is the Host header or :authority.
	Authority string
	// TLS is the connection's TLS state, nil for plaintext.
	TLS *tls.ConnectionState
	// Identity is who called, once a policy has authenticated the call.
	Identity *Identity
	// Protocol is the client's protocol when it is not the door's own:
	// "connect" or "grpc_web" for a gRPC door call translated from them
	// (webprotocols); empty otherwise.
	Protocol string
	// Delegated says the REST listener handed the call to the gRPC door
	// (gRPC-Web, Connect), which observes it: telemetry counts and logs
	// it there, once.
	Delegated bool
	// Refusal names the policy that refused the call ("network", "auth",
	// "rate_limit", "validation", ...), for metrics and logs; empty when
	// none did.
	Refusal string

	requestID       string
	requestIDHeader string

	respHeader http.Header
	backendSet map[string][]string // by call.HeaderName-style folded name; nil value: removed
	withheld   Withheld            // credentials policies consumed
	admit      func(context.Context, int64) (func(), error)
}

// SetAdmission gives the call its door's budget for large requests (the
// door calls it).
func (c *Info) SetAdmission(f func(ctx context.Context, n int64) (release func(), err error)) {
	c.admit = f
}

// Admit asks the door for room to decode and serve n request bytes; the
// caller must call release when the request is done with. Without a
// budget it admits at once. An error is the status the call ends with.
func (c *Info) Admit(ctx context.Context, n int64) (release func(), err error) {
	if c == nil || c.admit == nil {
		return func() {}, nil
	}
	return c.admit(ctx, n)
}

// SetRequestID gives the call its ID, carried under header (HTTP) or its
// lower-cased form (gRPC metadata) to the backend and back to the client.
func (c *Info) SetRequestID(header, id string) {
	c.requestIDHeader, c.requestID = header, id
}

// RequestID is the call's ID; empty when none was given (a test calling
// a door directly).
func (c *Info) RequestID() string {
	if c == nil {
		return ""
	}
	return c.requestID
}

// RequestIDHeader is the header that carries the call's ID.
func (c *Info) RequestIDHeader() string {
	if c == nil {
		return ""
	}
	return c.requestIDHeader
}

// Identity is an authenticated caller.
type Identity struct {
	// Provider is the name of the provider that authenticated the call.
	Provider string
	// Principal identifies the caller: a token's subject, an API key's id,
	// a certificate's SPIFFE ID.
	Principal string
	// Claims are a token's claims (nil for other providers).
	Claims map[string]any
	// APIKey is the id of the API key used, if any.
	APIKey string
	// Plan is the usage plan the API key names, if any.
	Plan string
	// Metadata is what goes to the backend about the caller (e.g.
	// x-portico-principal, forwarded claims), set by the provider.
	Metadata map[string]string
}

// Header returns the first value of a request header (REST) or metadata
// key (gRPC), looked up case-insensitively.
func (c *Info) Header(name string) string {
	if c.HTTP != nil {
		return c.HTTP.Header.Get(name)
	}
	if vs := c.MD[strings.ToLower(name)]; len(vs) > 0 {
		return vs[0]
	}
	return ""
}

// Values returns every value of a request header or metadata key.
func (c *Info) Values(name string) []string {
	if c.HTTP != nil {
		return c.HTTP.Header.Values(name)
	}
	return c.MD[strings.ToLower(name)]
}

// Cookie returns the value of the request cookie name: from the REST
// request, or from the cookie metadata of a call translated from a
// browser's protocol (gRPC-Web, Connect). A native gRPC call has no
// cookies.
func (c *Info) Cookie(name string) (string, bool) {
	if c.HTTP != nil {
		ck, err := c.HTTP.Cookie(name)
		if err != nil {
			return "", false
		}
		return ck.Value, true
	}
	if c.Protocol == "" {
		return "", false
	}
	for _, line := range c.MD["cookie"] {
		cks, err := http.ParseCookie(line)
		if err != nil {
			continue
		}
		for _, ck := range cks {
			if ck.Name == name {
				return ck.Value, true
			}
		}
	}
	return "", false
}

// SetResponseHeader sets a header of the response (REST: an HTTP header as
// named; gRPC: response metadata, lower-cased). Policies use it for
// WWW-Authenticate, Retry-After, RateLimit and the like.
func (c *Info) SetResponseHeader(name, value string) {
	if c.respHeader == nil {
		c.respHeader = http.Header{}
	}
	c.respHeader.Set(name, value)
}

// ResponseHeader returns the headers policies set for the response; nil
// when none were.
func (c *Info) ResponseHeader() http.Header { return c.respHeader }

// SetBackendHeader records that a policy set a header for the backend
// (an authorizer's addition), replacing what the client sent under that
// name; values nil records that the policy removed it. A request mapping
// that forwards the name by choice forwards the policy's decision, never
// the client's value. Names are compared as backends compare them: any
// case, "_" and "-" alike.
func (c *Info) SetBackendHeader(name string, values []string) {
	if c.backendSet == nil {
		c.backendSet = map[string][]string{}
	}
	c.backendSet[HeaderName(name)] = values
}

// BackendHeader returns what a policy set for the backend under name
// (nil when it removed it) and whether a policy decided on it at all.
func (c *Info) BackendHeader(name string) ([]string, bool) {
	if c == nil {
		return nil, false
	}
	vs, ok := c.backendSet[HeaderName(name)]
	return vs, ok
}

type ctxKey struct{}

// NewContext returns ctx carrying c.
func NewContext(ctx context.Context, c *Info) context.Context {
	return context.WithValue(ctx, ctxKey{}, c)
}

// FromContext returns the call in ctx, or nil.
func FromContext(ctx context.Context) *Info {
	c, _ := ctx.Value(ctxKey{}).(*Info)
	return c
}

// ErrShuttingDown is the cause of the cancellation of calls the gateway
// cuts short when its shutdown grace period ends; doors answer them with
// UNAVAILABLE "server shutting down".
var ErrShuttingDown = errors.New("server shutting down")
