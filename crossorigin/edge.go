package crossorigin

import (
	"net/http"

	"github.com/portico-gw/portico/call"
	configv1 "github.com/portico-gw/portico/gen/portico/config/v1"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
)

// ErrCrossSite answers a cross-site request the CSRF check refuses (403 /
// PERMISSION_DENIED).
var ErrCrossSite = status.Error(codes.PermissionDenied, "cross-site request refused: this request must come from the API's own origin or an allowed one")

// NewEdge is what the REST door does for browsers before routing: CORS
// (cors:, a preflight answered here, before authentication) and the CSRF
// check (403 for a cross-site request with an unsafe method, see CSRF;
// always on — it costs a header look-up, and only browsers' cross-site
// requests are refused). onError answers a refusal.
func NewEdge(c *configv1.Cors, opts CORSOptions, next http.Handler, onError func(http.ResponseWriter, *http.Request, error)) (http.Handler, error) {
	corsH, err := NewCORS(c, opts)
	if err != nil {
		return nil, err
	}
	csrf := NewCSRF(c.GetAllowedOrigins())
	var h http.Handler = http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if csrf.Refuse(r) {
			if info := call.FromContext(r.Context()); info != nil {
				info.Refusal = "csrf"
			}
			onError(w, r, ErrCrossSite)
			return
		}
		next.ServeHTTP(w, r)
	})
	if corsH != nil {
		h = corsH.Handler(h)
	}
	return h, nil
}
