package responsemap

import (
	"context"
	"fmt"
	"strings"

	"github.com/portico-gw/portico/config"
	"google.golang.org/grpc"
	"google.golang.org/grpc/metadata"
)

// allowList is forward_metadata compiled: exact names, and prefixes from
// names ending in "*" ("x-ratelimit-*").
type allowList struct {
	names    map[string]struct{}
	prefixes []string
}

func newAllowList(field string, names []string) (*allowList, config.Errors) {
	al := &allowList{names: make(map[string]struct{}, len(names))}
	var errs config.Errors
	for i, n := range names {
		key := strings.ToLower(n)
		prefix := strings.HasSuffix(key, "*")
		if prefix {
			key = key[:len(key)-1]
		}
		if msg := checkName(key, prefix); msg != "" {
			errs = append(errs, &config.Error{Field: fmt.Sprintf("%s[%d]", field, i), Message: fmt.Sprintf("%q %s", n, msg)})
			continue
		}
		if prefix {
			al.prefixes = append(al.prefixes, key)
		} else {
			al.names[key] = struct{}{}
		}
	}
	return al, errs
}

// checkName says what is wrong with a metadata name, "" when nothing is.
func checkName(key string, prefix bool) string {
	if key == "" {
		if prefix {
			return `allows every name: leave forward_metadata unset instead`
		}
		return "is not a metadata name"
	}
	for i := 0; i < len(key); i++ {
		c := key[i]
		if !('a' <= c && c <= 'z' || '0' <= c && c <= '9' || c == '.' || c == '-' || c == '_') {
			return "is not a metadata name (letters, digits, '-', '_' and '.'; a trailing '*' for a prefix)"
		}
	}
	if strings.HasPrefix(key, "grpc-") {
		return "is reserved by gRPC and never forwarded"
	}
	return ""
}

func (al *allowList) allows(key string) bool {
	if _, ok := al.names[key]; ok {
		return true
	}
	for _, p := range al.prefixes {
		if strings.HasPrefix(key, p) {
			return true
		}
	}
	return false
}

// statusDetailsKey is where gRPC carries a status's details; grpc-go
// reports the backend's among its trailer metadata.
const statusDetailsKey = "grpc-status-details-bin"

// keeps reports whether backend metadata named key reaches the client.
// When internal errors are hidden, the backend's own status details never
// do: they hold the very message and details being hidden, and the door
// sends the call's final status itself.
func (m *Mapping) keeps(key string) bool {
	if m.hide && key == statusDetailsKey {
		return false
	}
	return m.allow == nil || m.allow.allows(key)
}

// Filter returns the part of md the mapping lets reach clients: md
// itself when all of it passes (no copy), nil when none does. Safe on a
// nil Mapping (everything passes).
func (m *Mapping) Filter(md metadata.MD) metadata.MD {
	if m == nil || (m.allow == nil && !m.hide) || len(md) == 0 {
		return md
	}
	drop := 0
	for k := range md {
		if !m.keeps(k) {
			drop++
		}
	}
	if drop == 0 {
		return md
	}
	if drop == len(md) {
		return nil
	}
	out := make(metadata.MD, len(md)-drop)
	for k, vs := range md {
		if m.keeps(k) {
			out[k] = vs
		}
	}
	return out
}

// filteredTransport is a unary call's transport stream as the chain below
// the response policy sees it: what the backend reports with
// grpc.SetHeader / grpc.SetTrailer reaches the door filtered.
type filteredTransport struct {
	grpc.ServerTransportStream
	m *Mapping
}

func (f *filteredTransport) SetHeader(md metadata.MD) error {
	return f.ServerTransportStream.SetHeader(f.m.Filter(md))
}

func (f *filteredTransport) SendHeader(md metadata.MD) error {
	return f.ServerTransportStream.SendHeader(f.m.Filter(md))
}

func (f *filteredTransport) SetTrailer(md metadata.MD) error {
	return f.ServerTransportStream.SetTrailer(f.m.Filter(md))
}

// filteredStream is a streaming call's stream as the chain below the
// response policy sees it: headers and trailers set on it, or with
// grpc.SetHeader / grpc.SetTrailer on its context, are filtered.
type filteredStream struct {
	grpc.ServerStream
	ctx context.Context
	m   *Mapping
}

func (f *filteredStream) Context() context.Context { return f.ctx }

func (f *filteredStream) SetHeader(md metadata.MD) error {
	return f.ServerStream.SetHeader(f.m.Filter(md))
}

func (f *filteredStream) SendHeader(md metadata.MD) error {
	return f.ServerStream.SendHeader(f.m.Filter(md))
}

func (f *filteredStream) SetTrailer(md metadata.MD) { f.ServerStream.SetTrailer(f.m.Filter(md)) }

// withFilteredTransport returns ctx whose transport stream (if any)
// filters what is set on it.
func (m *Mapping) withFilteredTransport(ctx context.Context) context.Context {
	sts := grpc.ServerTransportStreamFromContext(ctx)
	if sts == nil {
		return ctx
	}
	return grpc.NewContextWithServerTransportStream(ctx, &filteredTransport{ServerTransportStream: sts, m: m})
}
