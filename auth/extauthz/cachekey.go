package extauthz

import (
	"crypto/sha256"
	"encoding/binary"
	"hash"
	"sync"

	"github.com/portico-gw/portico/call"
)

// cacheKey is the SHA-256 of the attributes the operator named: the
// cache holds no credential in clear.
type cacheKey [sha256.Size]byte

var hashers = sync.Pool{New: func() any { return sha256.New() }}

// key hashes each named attribute, length-prefixed so that no two
// different attribute lists hash alike.
func (c *Client) key(info *call.Info, principal string) cacheKey {
	h := hashers.Get().(hash.Hash)
	defer hashers.Put(h)
	h.Reset()
	var n [4]byte
	put := func(s string) {
		binary.BigEndian.PutUint32(n[:], uint32(len(s)))
		h.Write(n[:])
		h.Write([]byte(s))
	}
	for _, attr := range c.cfg.CacheKey {
		switch attr {
		case AttrMethod:
			if info.Method != nil {
				put(info.Method.FullMethod)
			} else {
				put(info.Path)
			}
		case AttrPath:
			if info.HTTP != nil {
				put(info.HTTP.URL.RequestURI())
			} else {
				put(info.Path)
			}
		case AttrPrincipal:
			put(principal)
		case AttrClientIP:
			put(info.ClientIP.String())
		default:
			vs := info.Values(attr)
			binary.BigEndian.PutUint32(n[:], uint32(len(vs)))
			h.Write(n[:])
			for _, v := range vs {
				put(v)
			}
		}
	}
	var k cacheKey
	h.Sum(k[:0])
	return k
}
