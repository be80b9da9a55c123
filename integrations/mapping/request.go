// Package mapping shapes what crosses the gateway toward a backend, by
// declaration: the integration request mapping (apis[].request) decides
// which of the caller's headers reach the backend and adds static
// metadata. It works on the call as either door describes it (call.Info),
// so a REST call and a gRPC call with the same headers give the backend
// the same metadata.
package mapping

import (
	"context"
	"encoding/base64"
	"fmt"
	"sort"
	"strings"

	"github.com/portico-gw/portico/call"
	configv1 "github.com/portico-gw/portico/gen/portico/config/v1"
	"google.golang.org/grpc"
	"google.golang.org/grpc/metadata"
)

// Request is a built request mapping.
type Request struct {
	forward  []string // lower-case names, sorted
	set      metadata.MD
	reserved func(string) bool
}

// NewRequest checks c and builds it. reserved reports the metadata names
// Portico sets for backends (the caller's identity); nil: only those
// starting with call.ReservedPrefix.
//
// The backend then receives, instead of everything the client sent: the
// headers forward_headers lists (HTTP headers on the REST door, metadata
// on the gRPC door, under their lower-cased names), the metadata
// set_metadata gives, and what the gateway's own policies set for it (the
// caller's identity). Hop-by-hop and transport headers and Portico's own
// identity headers are never forwarded from the client: listing one is a
// config error.
func NewRequest(c *configv1.RequestMapping, reserved func(string) bool) (*Request, error) {
	r := &Request{reserved: reserved, set: metadata.MD{}}
	seen := map[string]bool{}
	for k, h := range c.GetForwardHeaders() {
		name := strings.ToLower(h)
		if why := r.never(name); why != "" {
			return nil, fmt.Errorf("forward_headers[%d]: %q is never forwarded (%s)", k, h, why)
		}
		if !seen[name] {
			seen[name] = true
			r.forward = append(r.forward, name)
		}
	}
	sort.Strings(r.forward)
	keys := make([]string, 0, len(c.GetSetMetadata()))
	for k := range c.GetSetMetadata() {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		v := c.GetSetMetadata()[k]
		name := strings.ToLower(k)
		if !validKey(name) {
			return nil, fmt.Errorf("set_metadata: %q is not a metadata name (letters, digits, '-', '_', '.')", k)
		}
		if why := r.never(name); why != "" {
			return nil, fmt.Errorf("set_metadata: %q cannot be set (%s)", k, why)
		}
		if strings.HasSuffix(name, "-bin") {
			b, err := base64.StdEncoding.DecodeString(v)
			if err != nil {
				return nil, fmt.Errorf("set_metadata: %q: a -bin value is base64: %v", k, err)
			}
			v = string(b)
		} else if !printable(v) {
			return nil, fmt.Errorf("set_metadata: %q: the value must be printable ASCII", k)
		}
		r.set[name] = append(r.set[name], v)
	}
	return r, nil
}

// never says why a header may not cross from the client to a backend, or
// "".
func (r *Request) never(name string) string {
	switch name {
	case "connection", "keep-alive", "proxy-connection", "transfer-encoding", "upgrade", "te", "trailer",
		"proxy-authenticate", "proxy-authorization":
		return "a hop-by-hop header"
	case "host", "content-type", "content-length", "user-agent":
		return "the transport's own header"
	}
	switch {
	case strings.HasPrefix(name, "grpc-"), strings.HasPrefix(name, ":"):
		return "the transport's own header"
	case r.isReserved(name):
		return "Portico sets it for the caller's identity"
	}
	return ""
}

func (r *Request) isReserved(name string) bool {
	return call.Reserved(name, r.reserved) // in any spelling: x_portico_principal too
}

// Apply returns ctx with the incoming metadata the backend gets.
func (r *Request) Apply(ctx context.Context) context.Context {
	in, _ := metadata.FromIncomingContext(ctx)
	out := make(metadata.MD, len(r.forward)+len(r.set)+2)
	// What the gateway's policies set for the backend: names no client
	// can send (both doors drop them from what clients send).
	for k, vs := range in {
		if r.isReserved(k) {
			out[k] = vs
		}
	}
	info := call.FromContext(ctx)
	for _, name := range r.forward {
		var vs []string
		set, bySet := info.BackendHeader(name)
		switch {
		case bySet:
			// A policy decided on this name (an authorizer's addition or
			// removal): its decision, never the client's value.
			vs = set
		case name == "x-forwarded-for" || name == "x-forwarded-host" || info == nil:
			// The door's own: the real peer appended to what proxies said.
			vs = in[name]
		case info.HTTP != nil: // a call that came over HTTP: its headers
			vs = restValues(info, name)
		default:
			vs = info.Values(name)
		}
		if len(vs) > 0 {
			out[name] = vs
		}
	}
	for k, vs := range r.set {
		out[k] = vs
	}
	return metadata.NewIncomingContext(ctx, out)
}

// restValues reads an HTTP header as metadata: a -bin header's values
// are base64-decoded, other values must be printable ASCII (as the REST
// door treats headers it forwards).
func restValues(info *call.Info, name string) []string {
	raw := info.Values(name)
	if len(raw) == 0 {
		return nil
	}
	out := make([]string, 0, len(raw))
	bin := strings.HasSuffix(name, "-bin")
	for _, v := range raw {
		if bin {
			b, err := base64.StdEncoding.DecodeString(v)
			if err != nil {
				if b, err = base64.RawStdEncoding.DecodeString(v); err != nil {
					continue
				}
			}
			out = append(out, string(b))
			continue
		}
		if printable(v) {
			out = append(out, v)
		}
	}
	return out
}

// Unary is the mapping as a unary interceptor.
func (r *Request) Unary(ctx context.Context, req any, _ *grpc.UnaryServerInfo, h grpc.UnaryHandler) (any, error) {
	return h(r.Apply(ctx), req)
}

// Stream is the mapping as a stream interceptor.
func (r *Request) Stream(srv any, ss grpc.ServerStream, _ *grpc.StreamServerInfo, h grpc.StreamHandler) error {
	return h(srv, &mappedStream{ServerStream: ss, ctx: r.Apply(ss.Context())})
}

type mappedStream struct {
	grpc.ServerStream
	ctx context.Context
}

func (s *mappedStream) Context() context.Context { return s.ctx }

func validKey(k string) bool {
	if k == "" {
		return false
	}
	for i := 0; i < len(k); i++ {
		c := k[i]
		if !('a' <= c && c <= 'z' || '0' <= c && c <= '9' || c == '-' || c == '_' || c == '.') {
			return false
		}
	}
	return true
}

func printable(v string) bool {
	for i := 0; i < len(v); i++ {
		if v[i] < 0x20 || v[i] > 0x7e {
			return false
		}
	}
	return true
}
