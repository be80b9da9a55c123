package extauthz

import (
	"crypto/sha256"
	"encoding/binary"
	"hash"
	"sync"
	"unsafe"

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
		// Hashed in place, without a copy per attribute on the hot path:
		// the hash neither keeps nor changes its input.
		h.Write(unsafe.Slice(unsafe.StringData(s), len(s)))
	}
	for i, attr := range c.cfg.CacheKey {
		switch attr {
		case AttrMethod:
			if info.Method != nil {
				put(info.Method.FullMethod())
			} else {
				put(info.Path)
			}
		case AttrPath:
			if info.HTTP != nil {
				put(info.HTTP.URL.RequestURI())
			} else {
				put(info.Path)
			}
		case AttrHTTPMethod:
			put(info.HTTPMethod)
		case AttrHost:
			put(info.Authority)
		case AttrPrincipal:
			put(principal)
		case AttrClientIP:
			put(info.ClientIP.String())
		default:
			var vs []string
			if info.HTTP != nil {
				vs = info.HTTP.Header[c.canon[i]]
			} else {
				vs = info.MD[attr]
			}
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
