package transcoder

import (
	"context"
	"net"
	"net/http"
	"net/textproto"
	"strings"
	"sync"
	"sync/atomic"

	"github.com/grpc-ecosystem/grpc-gateway/v2/runtime"
	"github.com/portico-gw/portico/call"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/metadata"
	"google.golang.org/grpc/status"
)

// headerMap turns an HTTP request's headers into the call's incoming gRPC
// metadata with the result of grpc-gateway's
// runtime.AnnotateIncomingContext (TestIncomingMatchesGRPCGateway holds
// the two side by side) but for one deliberate difference — x-forwarded-host
// is always the request's Host, never a client's X-Forwarded-Host — and
// cheaper: the decision for each header name
// (forwarded or not, under which lower-cased key, binary or not) is made
// once and cached, and the metadata map is built directly. It is the REST
// door's hot path, so this is written here rather than reused.
type headerMap struct {
	match runtime.HeaderMatcherFunc
	// reserved reports metadata keys a client may never set; nil: only
	// those with call.ReservedPrefix.
	reserved func(string) bool
	cache    sync.Map // canonical header name -> headerRule
	size     atomic.Int64
}

// maxCachedHeaders bounds the cache: header names come from clients.
const maxCachedHeaders = 4096

type headerRule struct {
	key string // metadata key, lower-cased; "" means not forwarded
	bin bool   // a -Bin header: base64 on the wire, bytes in metadata
}

func (hm *headerMap) rule(canon string) headerRule {
	if v, ok := hm.cache.Load(canon); ok {
		return v.(headerRule)
	}
	var r headerRule
	// The gateway sets x-forwarded-for/-host and the reserved names: a
	// client's, in any spelling a backend reads as the same name
	// (X_Forwarded_Host, X_Portico_Principal; grpcgateway-<name> goes to
	// an http integration as <name>), are not forwarded.
	if h, ok := hm.match(canon); ok && validMetadataKey(h) {
		switch n := strings.TrimPrefix(call.HeaderName(h), "grpcgateway-"); {
		case n == "x-forwarded-for", n == "x-forwarded-host", call.Reserved(n, hm.reserved):
		default:
			r = headerRule{key: strings.ToLower(h), bin: strings.HasSuffix(canon, "-Bin")}
		}
	}
	if hm.size.Load() < maxCachedHeaders {
		if _, loaded := hm.cache.LoadOrStore(canon, r); !loaded {
			hm.size.Add(1)
		}
	}
	return r
}

// incoming returns ctx with the request's metadata and the Grpc-Timeout
// deadline; cancel releases the deadline's timer.
func (hm *headerMap) incoming(ctx context.Context, r *http.Request) (_ context.Context, cancel context.CancelFunc, _ error) {
	cancel = func() {}
	if tm := r.Header.Get("Grpc-Timeout"); tm != "" {
		d, err := call.DecodeTimeout(tm)
		if err != nil {
			return nil, nil, status.Errorf(codes.InvalidArgument, "invalid grpc-timeout: %s", tm)
		}
		if d != 0 {
			ctx, cancel = context.WithTimeout(ctx, d)
		}
	}
	md := make(metadata.MD, len(r.Header)+2)
	// Every value goes into one backing array, each key's values a
	// capacity-capped window of it (an append to a key copies rather than
	// overwrite a neighbour): one allocation for all the values instead of
	// one per key.
	n := 2
	for _, vals := range r.Header {
		n += len(vals)
	}
	buf := make([]string, 0, n)
	put := func(key string, from int) {
		if len(buf) == from {
			return
		}
		if prev, ok := md[key]; ok {
			md[key] = append(prev, buf[from:]...)
			return
		}
		md[key] = buf[from:len(buf):len(buf)]
	}
	// Authorization passes unprefixed too, always first (grpc-gateway's
	// backwards-compatible rule).
	from := len(buf)
	for _, v := range r.Header.Values("Authorization") {
		if validMetadataText(v) {
			buf = append(buf, v)
		}
	}
	put("authorization", from)
	for key, vals := range r.Header {
		canon := textproto.CanonicalMIMEHeaderKey(key)
		if canon == "X-Forwarded-For" || canon == "X-Forwarded-Host" {
			continue
		}
		rule := hm.rule(canon)
		if rule.key == "" {
			continue
		}
		from := len(buf)
		for _, v := range vals {
			if rule.bin {
				b, err := call.DecodeBinHeader(v)
				if err != nil {
					cancel()
					return nil, nil, status.Errorf(codes.InvalidArgument, "invalid binary header %s: %s", canon, err)
				}
				v = string(b)
			} else if !validMetadataText(v) {
				continue
			}
			buf = append(buf, v)
		}
		put(rule.key, from)
	}
	// The host the client called, never a client's X-Forwarded-Host
	// (grpc-gateway passes that on): the backend cannot tell who set it.
	if r.Host != "" && validMetadataText(r.Host) {
		from := len(buf)
		buf = append(buf, r.Host)
		put("x-forwarded-host", from)
	}
	if xff, ok := forwardedFor(r); ok {
		from := len(buf)
		buf = append(buf, xff)
		put("x-forwarded-for", from)
	}
	if len(md) == 0 {
		return ctx, cancel, nil
	}
	return metadata.NewIncomingContext(ctx, md), cancel, nil
}

// forwardedFor is the X-Forwarded-For a backend gets: the client's
// (valid) values and the peer's address, joined with ", "; ok is false
// when there is neither. A single part is used as it is (no allocation).
func forwardedFor(r *http.Request) (xff string, ok bool) {
	var b strings.Builder
	parts := 0
	add := func(v string) {
		switch parts {
		case 0:
			xff = v
		case 1:
			b.WriteString(xff)
			fallthrough
		default:
			b.WriteString(", ")
			b.WriteString(v)
		}
		parts++
	}
	for _, v := range r.Header.Values("X-Forwarded-For") {
		if validMetadataText(v) {
			add(v)
		}
	}
	if ip, _, err := net.SplitHostPort(r.RemoteAddr); r.RemoteAddr != "" && err == nil && validMetadataText(ip) {
		add(ip)
	}
	if parts > 1 {
		xff = b.String()
	}
	return xff, parts > 0
}

// validMetadataKey: a gRPC header name (0-9 a-z A-Z _ - .).
func validMetadataKey(k string) bool {
	for i := 0; i < len(k); i++ {
		c := k[i]
		if !('a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' || c == '.' || c == '-' || c == '_') {
			return false
		}
	}
	return true
}

// validMetadataText: printable ASCII, as gRPC allows in a text value.
func validMetadataText(v string) bool {
	for i := 0; i < len(v); i++ {
		if v[i] < 0x20 || v[i] > 0x7e {
			return false
		}
	}
	return true
}
