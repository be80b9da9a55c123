package transcoder

import (
	"context"
	"net/http"

	"github.com/grpc-ecosystem/grpc-gateway/v2/runtime"
)

// writeError is the one place an error becomes an HTTP response: a gRPC
// status, mapped to HTTP by grpc-gateway's table and written as its JSON
// error body ({"code","message","details"}) with the call's metadata as
// Grpc-Metadata-* headers. A *runtime.HTTPStatusError overrides the HTTP
// status (405, 413, 414).
func (t *Transcoder) writeError(ctx context.Context, w http.ResponseWriter, r *http.Request, err error) {
	runtime.DefaultHTTPErrorHandler(ctx, t.mux, t.marshaler, w, r, err)
}
