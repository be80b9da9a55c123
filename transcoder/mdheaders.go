package transcoder

import (
	"net/http"
	"net/textproto"
	"sync"
	"sync/atomic"

	"github.com/grpc-ecosystem/grpc-gateway/v2/runtime"
)

// mdHeaderNames remembers the response header each backend header
// metadata key is written under (Grpc-Metadata-<key>, canonical), so a
// response does not build and canonicalize the name again per call.
// Keys come from backends: the cache is bounded, names past it are made
// per call as before.
var mdHeaderNames headerNameCache

type headerNameCache struct {
	names sync.Map // metadata key -> canonical header name
	size  atomic.Int64
}

func (c *headerNameCache) of(key string) string {
	if v, ok := c.names.Load(key); ok {
		return v.(string)
	}
	name := textproto.CanonicalMIMEHeaderKey(runtime.MetadataHeaderPrefix + key)
	if c.size.Load() < maxCachedHeaders {
		if _, loaded := c.names.LoadOrStore(key, name); !loaded {
			c.size.Add(1)
		}
	}
	return name
}

// writeHeaderMD writes the backend's header metadata as response headers,
// as grpc-gateway does (h.Add of Grpc-Metadata-<key> for each value).
func writeHeaderMD(h http.Header, md runtime.ServerMetadata) {
	for k, vs := range md.HeaderMD {
		if len(vs) == 0 {
			continue
		}
		name := mdHeaderNames.of(k)
		h[name] = append(h[name], vs...)
	}
}
