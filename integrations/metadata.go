package integrations

import (
	"context"
	"strings"

	"github.com/portico-gw/portico/call"

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

// WithRequestID sets, in md (made when nil), the call's request ID under
// its header's lower-cased name, over whatever the client sent under it:
// the backend gets the ID the gateway logs. It returns md.
func WithRequestID(ctx context.Context, md metadata.MD) metadata.MD {
	info := call.FromContext(ctx)
	if info.RequestID() == "" {
		return md
	}
	if md == nil {
		md = metadata.MD{}
	}
	md[info.RequestIDKey()] = []string{info.RequestID()}
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
