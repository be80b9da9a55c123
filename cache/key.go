package cache

import (
	"crypto/sha256"
	"encoding/hex"
	"net/url"
	"strings"

	"github.com/portico-gw/portico/call"
	"google.golang.org/protobuf/proto"
)

// rule is one method's cache settings, checked.
type rule struct {
	// prefix starts every key of the method: "/package.Service/Method|".
	prefix string
	ttl    int64 // nanoseconds
	swr    int64
	// principal puts the caller's principal in the key (unless shared).
	principal bool
	// headers are the request headers in the key, lower-cased, in config
	// order.
	headers []string
}

var deterministic = proto.MarshalOptions{Deterministic: true}

// key is the entry's key for this call: the method, the parts the rule
// names, then the SHA-256 of the request message's deterministic bytes.
// Parts are written name=value| with the value query-escaped, so no value
// can fake another part; the admin API purges by a prefix of it.
func (r *rule) key(info *call.Info, req proto.Message) (string, error) {
	b, err := deterministic.Marshal(req)
	if err != nil {
		return "", err
	}
	sum := sha256.Sum256(b)
	var k strings.Builder
	k.Grow(len(r.prefix) + 96)
	k.WriteString(r.prefix)
	if r.principal {
		p := ""
		if info != nil && info.Identity != nil {
			p = info.Identity.Principal
		}
		k.WriteString("principal=")
		k.WriteString(url.QueryEscape(p))
		k.WriteByte('|')
	}
	for _, h := range r.headers {
		k.WriteString("header:")
		k.WriteString(h)
		k.WriteByte('=')
		if info != nil {
			k.WriteString(url.QueryEscape(strings.Join(info.Values(h), ",")))
		}
		k.WriteByte('|')
	}
	k.WriteString(hex.EncodeToString(sum[:]))
	return k.String(), nil
}
