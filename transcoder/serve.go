package transcoder

import (
	"net/http"
	"strings"

	"github.com/grpc-ecosystem/grpc-gateway/v2/runtime"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
)

// ServeHTTP serves one REST call.
func (t *Transcoder) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	path := r.URL.EscapedPath()
	if len(path) > t.opts.MaxPathBytes {
		t.writeError(r.Context(), w, r, &runtime.HTTPStatusError{
			HTTPStatus: http.StatusRequestURITooLong,
			Err:        status.Error(codes.InvalidArgument, "request path too long"),
		})
		return
	}
	if !strings.HasPrefix(path, "/") {
		t.writeError(r.Context(), w, r, &runtime.HTTPStatusError{
			HTTPStatus: http.StatusBadRequest,
			Err:        status.Error(codes.InvalidArgument, http.StatusText(http.StatusBadRequest)),
		})
		return
	}
	match, allowed, found := t.router.Lookup(r.Method, path)
	if !found {
		if len(allowed) > 0 {
			w.Header().Set("Allow", strings.Join(allowed, ", "))
			t.writeError(r.Context(), w, r, &runtime.HTTPStatusError{
				HTTPStatus: http.StatusMethodNotAllowed,
				Err:        status.Error(codes.Unimplemented, http.StatusText(http.StatusMethodNotAllowed)),
			})
			return
		}
		t.writeError(r.Context(), w, r, status.Error(codes.NotFound, http.StatusText(http.StatusNotFound)))
		return
	}
	rt := match.Value
	if r.Body != nil {
		r.Body = http.MaxBytesReader(w, r.Body, t.opts.MaxBodyBytes)
	}

	ctx, cancel, err := t.headers.incoming(r.Context(), r)
	if err != nil {
		t.writeError(r.Context(), w, r, err)
		return
	}
	defer cancel()

	if rt.m.Desc.IsStreamingClient() {
		t.serveStream(ctx, w, r, rt, nil)
		return
	}
	req, err := t.decodeRequest(r, rt, match.Vars)
	if err != nil {
		t.writeError(ctx, w, r, err)
		return
	}
	if rt.m.Desc.IsStreamingServer() {
		t.serveStream(ctx, w, r, rt, req)
		return
	}

	tr := &transport{method: rt.m.FullMethod}
	resp, err := t.pipeline.Unary(grpc.NewContextWithServerTransportStream(ctx, tr), rt.m, req)
	md := runtime.ServerMetadata{HeaderMD: httpSafe(tr.header), TrailerMD: httpSafe(tr.trailer)}
	ctx = runtime.NewServerMetadataContext(ctx, md)
	if err != nil {
		t.writeError(ctx, w, r, err)
		return
	}
	t.writeResponse(ctx, w, r, rt, md, resp)
}
