package transcoder

import (
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
	t.header = metadata.Join(t.header, md)
	return nil
}

func (t *transport) SendHeader(md metadata.MD) error { return t.SetHeader(md) }

func (t *transport) SetTrailer(md metadata.MD) error {
	t.trailer = metadata.Join(t.trailer, md)
	return nil
}
