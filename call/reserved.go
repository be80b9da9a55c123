package call

import "strings"

// The reserved-name rule, the same on both doors and at every forwarding
// site: the names Portico sets for backends (the caller's identity, an
// authorizer's headers) can never come from a client, in any spelling a
// backend reads as the same name.

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
