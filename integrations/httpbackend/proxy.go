package httpbackend

import (
	"context"
	"errors"
	"net"
	"net/http"
	"net/http/httputil"
	"strings"

	"github.com/portico-gw/portico/call"
	"github.com/portico-gw/portico/integrations"
	"github.com/portico-gw/portico/integrations/guard"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
)

// ProxyOptions are what Proxy needs besides the integration.
type ProxyOptions struct {
	// StripPrefix, when set, is removed from the start of each request's
	// path before it is forwarded (a path as ParsePath reads it, with or
	// without its trailing "/").
	StripPrefix string
	// OnError answers a request that was not forwarded (see ProxyError):
	// a path ParsePath refuses (an INVALID_ARGUMENT status), or a backend
	// that did not answer.
	OnError func(http.ResponseWriter, *http.Request, error)
	// ModifyResponse, when set, adjusts each response's headers before
	// they are sent.
	ModifyResponse func(*http.Response) error
	// Header, when set, adjusts the headers sent to the backend. It runs
	// last: after the hop-by-hop headers, those the client's Connection
	// header names and the client's X-Forwarded-* are removed and the
	// gateway's X-Forwarded-* set, so what it sets reaches the backend.
	Header func(in *http.Request, out http.Header)
}

// Proxy returns a handler that proxies requests to the integration's URL
// with httputil.ReverseProxy. The request's path is read by ParsePath: a
// path it refuses goes to OnError, nothing is sent; otherwise its
// canonical form (without StripPrefix) is appended to the URL's path, byte
// for byte, so nothing is ever forwarded outside that base path. The
// query is kept, hop-by-hop headers dropped, X-Forwarded-For extended with
// the client's address and X-Forwarded-Host/Proto set from the request the
// gateway received (a client's own X-Forwarded-Host and -Proto, in any
// spelling, are not passed on, nor the headers some backends serve
// instead of the path: X-Original-URL, X-Rewrite-URL). The backend's
// answer is passed on as it is, streamed.
func (i *Integration) Proxy(o ProxyOptions) (http.Handler, error) {
	if o.OnError == nil {
		o.OnError = func(w http.ResponseWriter, r *http.Request, err error) {
			code, _ := ProxyError(r.Context(), err)
			w.WriteHeader(code)
		}
	}
	var strip Path
	if o.StripPrefix != "" {
		p, err := ParsePath(o.StripPrefix)
		if err != nil {
			return nil, err
		}
		strip = Path{Decoded: strings.TrimSuffix(p.Decoded, "/"), Escaped: strings.TrimSuffix(p.Escaped, "/")}
	}
	base := i.URL()
	basePath, baseRaw := strings.TrimSuffix(base.Path, "/"), strings.TrimSuffix(base.EscapedPath(), "/")
	rp := &httputil.ReverseProxy{
		Rewrite: func(pr *httputil.ProxyRequest) {
			pr.SetURL(base)
			// pr.In's path is canonical (ServeHTTP below): appended as
			// it is, the base path before it.
			pr.Out.URL.Path = basePath + pr.In.URL.Path
			pr.Out.URL.RawPath = baseRaw + pr.In.URL.RawPath
			// Keep what earlier proxies said, as the doors do.
			if xff := pr.In.Header.Values("X-Forwarded-For"); len(xff) > 0 {
				pr.Out.Header["X-Forwarded-For"] = append([]string(nil), xff...)
			}
			pr.SetXForwarded()
			for k := range pr.Out.Header {
				if call.Spelling(k, "x-forwarded-for") || call.Spelling(k, "x-forwarded-host") ||
					call.Spelling(k, "x-forwarded-proto") || pathOverride(k) {
					delete(pr.Out.Header, k)
				}
			}
			if o.Header != nil {
				o.Header(pr.In, pr.Out.Header)
			}
		},
		Transport:      i.lb,
		ErrorHandler:   o.OnError,
		ModifyResponse: o.ModifyResponse,
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		p, err := ParsePath(RequestPath(r.URL))
		if err != nil {
			o.OnError(w, r, err)
			return
		}
		if o.StripPrefix != "" {
			p = p.trimPrefix(strip)
		}
		leave, err := i.guard.Hold(r.Context(), false)
		if err != nil {
			o.OnError(w, r, err)
			return
		}
		u := *r.URL
		u.Path, u.RawPath = p.Decoded, p.Escaped
		a := &attempt{}
		r2 := r.WithContext(withAttempt(r.Context(), a))
		r2.URL = &u
		sw := &statusWriter{ResponseWriter: w}
		rp.ServeHTTP(sw, r2)
		outcome := proxyOutcome(r.Context(), sw.code)
		a.end(outcome)
		leave(outcome)
	}), nil
}

// statusWriter notes the status a proxied response was answered with
// (the backend's, or the one OnError wrote), for the circuit breaker.
type statusWriter struct {
	http.ResponseWriter
	code int
}

func (w *statusWriter) WriteHeader(code int) {
	if w.code == 0 {
		w.code = code
	}
	w.ResponseWriter.WriteHeader(code)
}

func (w *statusWriter) Write(b []byte) (int, error) {
	if w.code == 0 {
		w.code = http.StatusOK
	}
	return w.ResponseWriter.Write(b)
}

// Unwrap lets http.ResponseController reach the writer (flushes of a
// streamed answer).
func (w *statusWriter) Unwrap() http.ResponseWriter { return w.ResponseWriter }

// proxyOutcome is a proxied request's outcome as a breaker counts it: a
// 5xx (the backend's, or the gateway's 502/504 for no answer) is a
// failure, a request the client cancelled is not counted.
func proxyOutcome(ctx context.Context, code int) error {
	switch {
	case ctx.Err() != nil:
		return status.FromContextError(ctx.Err()).Err()
	case code >= 500:
		return integrations.Unavailable
	}
	return nil
}

// pathOverride reports whether a header names another path for the
// request: IIS's URL Rewrite and frameworks behind it (Symfony, Zend)
// serve X-Original-URL / X-Rewrite-URL instead of the request's path, so
// a client's would be served instead of the path the gateway decided on.
func pathOverride(k string) bool {
	switch call.HeaderName(k) {
	case "x-original-url", "x-rewrite-url":
		return true
	}
	return false
}

// ProxyError is the status for a proxied request the backend did not
// answer, with the HTTP status a gateway gives it: 400 for a path Proxy
// refused, 503 for a call the integration's guard refused (overload, an
// open circuit: Retry-After is on the call), 504 when the backend was too slow to answer, 502 when it could
// not be reached (no address in the message). A client that went away
// gets CANCELLED.
func ProxyError(ctx context.Context, err error) (int, *status.Status) {
	var ne net.Error
	if guard.Refused(err) {
		return http.StatusServiceUnavailable, status.Convert(err)
	}
	if st, ok := status.FromError(err); ok && st.Code() == codes.InvalidArgument {
		return http.StatusBadRequest, st
	}
	switch {
	case errors.Is(err, context.Canceled) || ctx.Err() != nil && errors.Is(ctx.Err(), context.Canceled):
		return 499, status.New(codes.Canceled, "client closed the request")
	case errors.Is(err, context.DeadlineExceeded) || errors.As(err, &ne) && ne.Timeout():
		return http.StatusGatewayTimeout, status.New(codes.DeadlineExceeded, "backend timeout")
	}
	return http.StatusBadGateway, status.Convert(integrations.Unavailable)
}
