package httpbackend

import (
	"context"
	"errors"
	"net"
	"net/http"
	"net/http/httputil"
	"strings"

	"github.com/portico-gw/portico/integrations"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
)

// Proxy returns a handler that proxies requests under prefix to the
// integration's URL with httputil.ReverseProxy: the path (without prefix
// when strip is set) is appended to the URL's path, the query kept,
// hop-by-hop headers dropped, X-Forwarded-For extended with the client's
// address and X-Forwarded-Host/Proto set. The backend's answer is passed
// on as it is, streamed. onError answers a request the backend did not
// answer (see ProxyError); modify, when set, adjusts each response's
// headers before they are sent.
func (i *Integration) Proxy(prefix string, strip bool, onError func(http.ResponseWriter, *http.Request, error), modify func(*http.Response) error) http.Handler {
	base := i.URL()
	return &httputil.ReverseProxy{
		Rewrite: func(pr *httputil.ProxyRequest) {
			if strip {
				pr.Out.URL.Path = stripPrefix(pr.Out.URL.Path, prefix)
				if pr.Out.URL.RawPath != "" {
					pr.Out.URL.RawPath = stripPrefix(pr.Out.URL.RawPath, prefix)
				}
			}
			pr.SetURL(base)
			// Keep what earlier proxies said, as the doors do.
			if xff := pr.In.Header.Values("X-Forwarded-For"); len(xff) > 0 {
				pr.Out.Header["X-Forwarded-For"] = append([]string(nil), xff...)
			}
			pr.SetXForwarded()
		},
		Transport:      i.rt,
		ErrorHandler:   onError,
		ModifyResponse: modify,
	}
}

// stripPrefix removes prefix from p, keeping a leading "/".
func stripPrefix(p, prefix string) string {
	rest := strings.TrimPrefix(p, strings.TrimSuffix(prefix, "/"))
	if !strings.HasPrefix(rest, "/") {
		rest = "/" + rest
	}
	return rest
}

// ProxyError is the status for a proxied request the backend did not
// answer, with the HTTP status a gateway gives it: 504 when the backend
// was too slow to answer, 502 when it could not be reached (no address
// in the message). A client that went away gets CANCELLED.
func ProxyError(ctx context.Context, err error) (int, *status.Status) {
	var ne net.Error
	switch {
	case errors.Is(err, context.Canceled) || ctx.Err() != nil && errors.Is(ctx.Err(), context.Canceled):
		return 499, status.New(codes.Canceled, "client closed the request")
	case errors.Is(err, context.DeadlineExceeded) || errors.As(err, &ne) && ne.Timeout():
		return http.StatusGatewayTimeout, status.New(codes.DeadlineExceeded, "backend timeout")
	}
	return http.StatusBadGateway, status.Convert(integrations.Unavailable)
}
