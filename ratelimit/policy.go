package ratelimit

import (
	"crypto/sha256"
	"encoding/base64"
	"fmt"
	"net/http"
	"strconv"
	"strings"

	"github.com/portico-gw/portico/call"
	configv1 "github.com/portico-gw/portico/gen/portico/config/v1"
)

// KeyKind says what a policy counts calls by.
type KeyKind uint8

const (
	// ByClientIP counts per client address (behind trusted proxies, the
	// address they report).
	ByClientIP KeyKind = iota + 1
	// ByPrincipal counts per authenticated caller.
	ByPrincipal
	// ByAPIKey counts per API key.
	ByAPIKey
	// ByHeader counts per value of a request header (metadata on gRPC).
	ByHeader
	// ByMethod counts per method, across callers.
	ByMethod
)

// Policy is a named token bucket applied per key.
type Policy struct {
	Name   string
	Key    KeyKind
	Header string // ByHeader: the header's canonical name
	Bucket Bucket

	keyPrefix string // "rl:<name>:"
	policyRef string // `"<name>";q=N;w=S`
}

// NewPolicy checks a config policy.
func NewPolicy(p *configv1.RateLimitPolicy) (*Policy, error) {
	out := &Policy{Name: p.GetName()}
	switch k := p.GetKey(); {
	case k == "client_ip" || k == "":
		out.Key = ByClientIP
	case k == "principal":
		out.Key = ByPrincipal
	case k == "api_key":
		out.Key = ByAPIKey
	case k == "method":
		out.Key = ByMethod
	case strings.HasPrefix(k, "header:") && len(k) > len("header:"):
		out.Key = ByHeader
		out.Header = http.CanonicalHeaderKey(strings.TrimPrefix(k, "header:"))
	default:
		return nil, fmt.Errorf("key %q: want client_ip, principal, api_key, method or header:NAME", k)
	}
	if p.GetRate() == "" {
		return nil, fmt.Errorf("rate: required (N/s, N/m or N/h)")
	}
	r, err := ParseRate(p.GetRate())
	if err != nil {
		return nil, err
	}
	if out.Bucket, err = NewBucket(r, int64(p.GetBurst())); err != nil {
		return nil, err
	}
	out.keyPrefix = "rl:" + out.Name + ":"
	out.policyRef = policyItem(out.Name, r.N, int64(r.Per.Seconds()))
	return out, nil
}

// maxKeyValue is the longest key value used as is; longer ones (a header
// a client controls) are hashed, so a counter's size is bounded.
const maxKeyValue = 96

// key is the counter of this policy for a call to fullMethod.
func (p *Policy) key(info *call.Info, fullMethod string) string {
	var buf [128]byte
	b := append(buf[:0], p.keyPrefix...)
	switch p.Key {
	case ByClientIP:
		if info.ClientIP.IsValid() {
			b = info.ClientIP.AppendTo(b)
		}
	case ByPrincipal:
		if id := info.Identity; id != nil {
			b = appendValue(b, id.Principal)
		}
	case ByAPIKey:
		if id := info.Identity; id != nil {
			b = appendValue(b, id.APIKey)
		}
	case ByHeader:
		b = appendValue(b, info.Header(p.Header))
	case ByMethod:
		b = append(b, fullMethod...)
	}
	return string(b)
}

// appendValue appends v, or a hash of it when it is long.
func appendValue(b []byte, v string) []byte {
	if len(v) <= maxKeyValue {
		return append(b, v...)
	}
	sum := sha256.Sum256([]byte(v))
	b = append(b, '#')
	return base64.RawURLEncoding.AppendEncode(b, sum[:18])
}

// policyItem is one member of RateLimit-Policy: a quota q per window w
// seconds (draft-ietf-httpapi-ratelimit-headers).
func policyItem(name string, q, w int64) string {
	return strconv.Quote(name) + ";q=" + strconv.FormatInt(q, 10) + ";w=" + strconv.FormatInt(w, 10)
}
