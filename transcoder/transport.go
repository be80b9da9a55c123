package transcoder

import (
	"encoding/base64"
	"strings"

	"google.golang.org/grpc/metadata"
)

// transport stands in for a gRPC server transport stream on the REST door,
// so the backend (and any interceptor) reports headers and trailers with
// grpc.SetHeader/grpc.SetTrailer exactly as on the gRPC door.
type transport struct {
	method          string
	header, trailer metadata.MD
}

func (t *transport) Method() string { return t.method }

func (t *transport) SetHeader(md metadata.MD) error {
	t.header = join(t.header, md)
	return nil
}

func (t *transport) SendHeader(md metadata.MD) error { return t.SetHeader(md) }

func (t *transport) SetTrailer(md metadata.MD) error {
	t.trailer = join(t.trailer, md)
	return nil
}

// join adds md to acc; the first md is kept as it is (the caller hands
// it over), which is the common case of one SetHeader per call.
func join(acc, md metadata.MD) metadata.MD {
	if acc == nil {
		return md
	}
	return metadata.Join(acc, md)
}

// httpSafe returns md with binary ("-bin") values base64-encoded, as
// gRPC carries them over HTTP/2. Raw bytes in an HTTP/1.1 header or
// trailer break the response for the client (grpc-gateway writes them raw).
func httpSafe(md metadata.MD) metadata.MD {
	var out metadata.MD
	for k, vs := range md {
		if !strings.HasSuffix(k, "-bin") {
			continue
		}
		if out == nil {
			out = md.Copy()
		}
		enc := make([]string, len(vs))
		for i, v := range vs {
			enc[i] = base64.RawStdEncoding.EncodeToString([]byte(v))
		}
		out[k] = enc
	}
	if out == nil {
		return md
	}
	return out
}
