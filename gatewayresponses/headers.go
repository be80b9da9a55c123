package gatewayresponses

import (
	"bufio"
	"net"
	"net/http"
	"strings"
)

// refusedHeaders are the names gateway_responses.headers may not set,
// with why: the message framing, hop-by-hop fields, what the gateway
// decides per answer, and cookies (one cookie on every answer, errors
// included, is a fixation waiting to happen).
var refusedHeaders = map[string]string{
	"connection":         "hop-by-hop",
	"keep-alive":         "hop-by-hop",
	"proxy-connection":   "hop-by-hop",
	"proxy-authenticate": "hop-by-hop",
	"te":                 "hop-by-hop",
	"trailer":            "hop-by-hop",
	"transfer-encoding":  "hop-by-hop",
	"upgrade":            "hop-by-hop",
	"content-length":     "set for each answer",
	"content-type":       "set for each answer",
	"content-encoding":   "set for each answer (compression)",
	"date":               "set for each answer",
	"set-cookie":         "a cookie on every answer is not a static header",
	"www-authenticate":   "set by authentication for each refusal",
	"retry-after":        "set by the limits for each refusal",
	"vary":               "set for each answer (CORS, compression)",
}

// checkHeaderName says what is wrong with a header name, "" when nothing.
// Names must be sendable on both doors: HTTP tokens that are also gRPC
// metadata keys (letters, digits, '-', '_', '.'), not binary (-bin) nor
// gRPC's own (grpc-*), nor CORS's (access-control-*: set cors).
func checkHeaderName(name, requestIDHeader string) string {
	if name == "" {
		return "is empty"
	}
	for i := 0; i < len(name); i++ {
		c := name[i]
		if !('a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' || c == '-' || c == '_' || c == '.') {
			return "is not a header name both doors can send (letters, digits, '-', '_', '.')"
		}
	}
	lower := strings.ToLower(name)
	switch {
	case refusedHeaders[lower] != "":
		return "cannot be set here: " + refusedHeaders[lower]
	case strings.HasPrefix(lower, "grpc-"):
		return "is gRPC's own"
	case strings.HasSuffix(lower, "-bin"):
		return "is binary gRPC metadata"
	case strings.HasPrefix(lower, "access-control-"):
		return "is CORS's (set cors)"
	case strings.HasPrefix(lower, "ratelimit"):
		return "is set by the rate limits for each answer"
	case requestIDHeader != "" && lower == strings.ToLower(requestIDHeader):
		return "is the request ID's (request_id.header)"
	}
	return ""
}

// checkHeaderValue says what is wrong with a header value, "" when
// nothing: printable ASCII (what HTTP/1.1, HTTP/2 and gRPC metadata all
// carry unchanged), without surrounding spaces.
func checkHeaderValue(v string) string {
	if v == "" {
		return "is empty (leave the header out)"
	}
	if strings.TrimSpace(v) != v {
		return "has leading or trailing spaces"
	}
	for i := 0; i < len(v); i++ {
		if v[i] < 0x20 || v[i] > 0x7e {
			return "must be printable ASCII"
		}
	}
	return ""
}

// SetHeaders sets the configured headers on h, except those h already
// has: a header a policy or backend set for the call replaces the
// configured one. A nil Responses sets none.
func (r *Responses) SetHeaders(h http.Header) {
	if r == nil {
		return
	}
	for k, vs := range r.headers {
		if _, ok := h[k]; !ok {
			h[k] = vs
		}
	}
}

// Handler sets the configured headers on every answer next gives, just
// before its status line (so that what next set for the call wins). It
// returns next when no header is configured.
func (r *Responses) Handler(next http.Handler) http.Handler {
	if r == nil || len(r.headers) == 0 {
		return next
	}
	return http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		next.ServeHTTP(&headerWriter{ResponseWriter: w, r: r}, req)
	})
}

// headerWriter adds the headers at the first status line.
type headerWriter struct {
	http.ResponseWriter
	r    *Responses
	done bool
}

func (w *headerWriter) WriteHeader(code int) {
	if !w.done && (code >= 200 || code == http.StatusSwitchingProtocols) {
		w.done = true
		w.r.SetHeaders(w.ResponseWriter.Header())
	}
	w.ResponseWriter.WriteHeader(code)
}

func (w *headerWriter) Write(b []byte) (int, error) {
	if !w.done {
		w.WriteHeader(http.StatusOK)
	}
	return w.ResponseWriter.Write(b)
}

// Unwrap lets http.ResponseController reach what w wraps (deadlines,
// full duplex).
func (w *headerWriter) Unwrap() http.ResponseWriter { return w.ResponseWriter }

// Flush is for code that type-asserts http.Flusher.
func (w *headerWriter) Flush() {
	if !w.done {
		w.WriteHeader(http.StatusOK)
	}
	_ = http.NewResponseController(w.ResponseWriter).Flush()
}

// Hijack is for code that type-asserts http.Hijacker (a WebSocket
// upgrade writes its own status line).
func (w *headerWriter) Hijack() (net.Conn, *bufio.ReadWriter, error) {
	return http.NewResponseController(w.ResponseWriter).Hijack()
}
