package catalog

import "context"

type streamOpenedKey struct{}

// WithStreamOpened returns a context whose StreamOpened calls f. The REST
// door uses it to tell a streaming call that failed before the backend
// stream existed (answered with a plain error body, as grpc-gateway does)
// from one the backend ended (an {"error": …} object, as grpc-gateway does).
func WithStreamOpened(ctx context.Context, f func()) context.Context {
	return context.WithValue(ctx, streamOpenedKey{}, f)
}

// StreamOpened is called by a backend once its stream to the backend is
// open.
func StreamOpened(ctx context.Context) {
	if f, ok := ctx.Value(streamOpenedKey{}).(func()); ok {
		f()
	}
}
