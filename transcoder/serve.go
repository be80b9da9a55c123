package transcoder

import (
	"net/http"
	"slices"
	"strings"

	"github.com/grpc-ecosystem/grpc-gateway/v2/runtime"
	"github.com/portico-gw/portico/call"
	"github.com/portico-gw/portico/pipeline"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
)

// ServeHTTP serves one REST call: route, gate (before the body is read),
// decode, pipeline, response. The server puts the call's Info in the
// request's context; a request without one (a test calling the door
// directly) gets one here.
func (t *Transcoder) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	defer func() {
		if v := recover(); v != nil {
			t.writeError(r.Context(), w, r, pipeline.Panicked(t.opts.Logger, r.URL.Path, v))
		}
	}()
	info := call.FromContext(r.Context())
	if info == nil {
		info = call.NewHTTP(r)
		r = r.WithContext(call.NewHTTPContext(r.Context(), info))
	}
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
	method, overridden := routeMethod(r) // X-HTTP-Method-Override (form.go)
	routes := t.routes.forHost(r.Host)
	match, allowed, found := routes.Lookup(method, path)
	if !found && len(allowed) == 0 {
		if alt, ok := withSlashesDecoded(path); ok { // grpc-gateway's reading (encodedslash.go)
			match, allowed, found = routes.Lookup(method, alt)
		}
	}
	if !found && len(allowed) > 0 && isWebSocket(r) {
		match, found = lookupWebSocket(routes, path, allowed) // a stream's route, whatever its method
	}
	if !found && len(allowed) > 0 && r.Method == http.MethodHead {
		match, found = lookupHead(routes, path)
	}
	fallback := false
	if !found && method == http.MethodPost && slices.Contains(allowed, http.MethodGet) && isFormBody(r) {
		// grpc-gateway's path-length fallback (form.go).
		if m, _, ok := routes.Lookup(http.MethodGet, path); ok {
			match, found, fallback, method = m, true, true, http.MethodGet
		}
	}
	if !found {
		if len(allowed) > 0 {
			w.Header().Set("Allow", strings.Join(withHead(routes, path, allowed), ", "))
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
	info.Method = rt.m
	info.Route = rt.b.Template.Raw
	if overridden || fallback {
		info.HTTPMethod = method // what the call is, for every policy
	}

	ctx, cancel, err := t.headers.incoming(r.Context(), r)
	if err != nil {
		t.writeError(r.Context(), w, r, err)
		return
	}
	defer cancel()
	if rt.pm.HasGate() {
		if ctx, err = rt.pm.Gate(ctx, info); err != nil {
			t.writeError(r.Context(), w, r, err)
			return
		}
	}

	if rt.m.Desc().IsStreamingClient() {
		t.serveStream(ctx, w, r, rt, nil)
		return
	}
	form := isFormBody(r) && (overridden || fallback || rt.body == bodyNone)
	req, err := t.decodeRequest(w, r, rt, match.Vars, form)
	if err != nil {
		t.writeError(ctx, w, r, err)
		return
	}
	if rt.m.Desc().IsStreamingServer() {
		t.serveStream(ctx, w, r, rt, req)
		return
	}

	tr := &transport{method: rt.m.FullMethod()}
	resp, err := rt.pm.Unary(grpc.NewContextWithServerTransportStream(ctx, tr), req)
	md := runtime.ServerMetadata{HeaderMD: httpSafe(tr.header), TrailerMD: httpSafe(tr.trailer)}
	if err != nil {
		// The error writer reads the backend's metadata from ctx, as
		// grpc-gateway's does; a response is given md directly (one
		// context layer fewer per call).
		t.writeError(runtime.NewServerMetadataContext(ctx, md), w, r, err)
		return
	}
	t.writeResponse(ctx, w, r, rt, md, resp)
}
