package transcoder

import (
	"context"
	"encoding/base64"
	"fmt"
	"math"
	"net"
	"net/http"
	"net/textproto"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

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
		d, err := decodeTimeout(tm)
		if err != nil {
			return nil, nil, status.Errorf(codes.InvalidArgument, "invalid grpc-timeout: %s", tm)
		}
		if d != 0 {
			ctx, cancel = context.WithTimeout(ctx, d)
		}
	}
	md := make(metadata.MD, len(r.Header)+2)
	// Authorization passes unprefixed too, always first (grpc-gateway's
	// backwards-compatible rule).
	for _, v := range r.Header.Values("Authorization") {
		if validMetadataText(v) {
			md["authorization"] = append(md["authorization"], v)
		}
	}
	for key, vals := range r.Header {
		canon := textproto.CanonicalMIMEHeaderKey(key)
		if canon == "X-Forwarded-For" || canon == "X-Forwarded-Host" {
			continue
		}
		rule := hm.rule(canon)
		if rule.key == "" {
			continue
		}
		for _, v := range vals {
			if rule.bin {
				b, err := decodeBinHeader(v)
				if err != nil {
					cancel()
					return nil, nil, status.Errorf(codes.InvalidArgument, "invalid binary header %s: %s", canon, err)
				}
				v = string(b)
			} else if !validMetadataText(v) {
				continue
			}
			md[rule.key] = append(md[rule.key], v)
		}
	}
	// The host the client called, never a client's X-Forwarded-Host
	// (grpc-gateway passes that on): the backend cannot tell who set it.
	if r.Host != "" && validMetadataText(r.Host) {
		md["x-forwarded-host"] = append(md["x-forwarded-host"], r.Host)
	}
	var xff []string
	for _, v := range r.Header.Values("X-Forwarded-For") {
		if validMetadataText(v) {
			xff = append(xff, v)
		}
	}
	if ip, _, err := net.SplitHostPort(r.RemoteAddr); r.RemoteAddr != "" && err == nil && validMetadataText(ip) {
		xff = append(xff, ip)
	}
	if len(xff) > 0 {
		md["x-forwarded-for"] = append(md["x-forwarded-for"], strings.Join(xff, ", "))
	}
	if len(md) == 0 {
		return ctx, cancel, nil
	}
	return metadata.NewIncomingContext(ctx, md), cancel, nil
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

func decodeBinHeader(v string) ([]byte, error) {
	if len(v)%4 == 0 {
		return base64.StdEncoding.DecodeString(v)
	}
	return base64.RawStdEncoding.DecodeString(v)
}

// decodeTimeout reads a gRPC timeout ("100m", "5S"): digits then a unit.
func decodeTimeout(s string) (time.Duration, error) {
	if len(s) < 2 {
		return 0, fmt.Errorf("timeout string is too short: %q", s)
	}
	var unit time.Duration
	switch s[len(s)-1] {
	case 'H':
		unit = time.Hour
	case 'M':
		unit = time.Minute
	case 'S':
		unit = time.Second
	case 'm':
		unit = time.Millisecond
	case 'u':
		unit = time.Microsecond
	case 'n':
		unit = time.Nanosecond
	default:
		return 0, fmt.Errorf("timeout unit is not recognized: %q", s)
	}
	n, err := strconv.ParseUint(s[:len(s)-1], 10, 64)
	if err != nil {
		return 0, err
	}
	if n > uint64(math.MaxInt64)/uint64(unit) {
		return time.Duration(math.MaxInt64), nil
	}
	return unit * time.Duration(n), nil
}
