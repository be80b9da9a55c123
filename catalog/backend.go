package catalog

import (
	"context"

	"google.golang.org/grpc"
	"google.golang.org/protobuf/proto"
)

// Backend serves calls: an integration. Both doors reach it through the
// same pipeline. It reports the backend's response headers and trailers
// with grpc.SetHeader/grpc.SetTrailer on ctx (unary) or on the stream
// (streaming), so each door returns them in its own terms.
type Backend interface {
	// Unary calls m with req and returns the response message.
	Unary(ctx context.Context, m *Method, req proto.Message) (proto.Message, error)
	// Stream proxies a streaming call: messages received from ss go to the
	// backend, the backend's messages are sent on ss.
	Stream(ctx context.Context, m *Method, ss grpc.ServerStream) error
}
