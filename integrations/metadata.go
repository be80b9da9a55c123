package integrations

import (
	"strings"

	"google.golang.org/grpc/metadata"
)

// Forwardable drops, in place, the metadata keys that describe the
// client's own connection to the gateway rather than the call:
// pseudo-headers, transport headers and grpc-internal keys (the backend
// client sets its own). It returns md.
func Forwardable(md metadata.MD) metadata.MD {
	for k := range md {
		if transportKey(k) {
			delete(md, k)
		}
	}
	return md
}

func transportKey(k string) bool {
	switch {
	case strings.HasPrefix(k, ":"), strings.HasPrefix(k, "grpc-"),
		k == "content-type", k == "user-agent", k == "te", k == "connection",
		k == "keep-alive", k == "proxy-connection", k == "transfer-encoding",
		k == "upgrade", k == "host":
		return true
	}
	return false
}

// HopHeader reports whether an HTTP header (any case) is about the
// connection or the body's framing rather than the call: it is never
// copied from one HTTP message to another (a backend's answer, an
// authorizer's headers), since whoever writes the message sets it.
func HopHeader(k string) bool {
	switch strings.ToLower(k) {
	case "connection", "keep-alive", "proxy-connection", "proxy-authenticate", "proxy-authorization",
		"te", "trailer", "transfer-encoding", "upgrade", "host", "content-length", "content-type", "content-encoding":
		return true
	}
	return false
}

// ReservedPrefix starts the metadata names Portico sets for backends
// (x-portico-principal, ...). A client can never send them, in any
// spelling (see HeaderName): both doors drop them from what the client
// sent.
const ReservedPrefix = "x-portico-"

// HeaderName is a header or metadata name as backends may compare names:
// lower case, with "_" read as "-". CGI-style servers and many frameworks
// (PHP, Rack, WSGI, nginx's $http_ variables) read X_Portico_Principal
// and x-portico-principal as the same HTTP_X_PORTICO_PRINCIPAL, so two
// names with the same HeaderName are one header to them. It returns k
// itself when k is already in that form.
func HeaderName(k string) string {
	for i := 0; i < len(k); i++ {
		if c := k[i]; c == '_' || 'A' <= c && c <= 'Z' {
			return strings.ReplaceAll(strings.ToLower(k), "_", "-")
		}
	}
	return k
}

// Reserved reports whether a name a client sent (header or metadata key,
// any spelling) is one Portico sets for backends: a ReservedPrefix name,
// or one reserved reports (nil: none) for the name's HeaderName.
func Reserved(k string, reserved func(string) bool) bool {
	n := HeaderName(k)
	return strings.HasPrefix(n, ReservedPrefix) || reserved != nil && reserved(n)
}

// Spelling reports whether a name a client sent is another spelling of
// name (a HeaderName), not name itself in any letter case: X_Forwarded_Host
// for x-forwarded-host. The gateway sets name; such a spelling would reach
// a backend as a second copy of it.
func Spelling(k, name string) bool {
	return strings.IndexByte(k, '_') >= 0 && HeaderName(k) == name
}
