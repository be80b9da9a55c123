package transcoder

import (
	"mime"
	"net/http"
	"strings"
)

// Form bodies, as grpc-gateway's defaults take them. grpc-gateway has no
// form marshaler: forms come from its runtime.ServeMux (with its default
// options, which its example gateway keeps) and from the handlers
// protoc-gen-grpc-gateway generates, which bind http.Request.Form (the
// form's values, then the URL query's) as query parameters. The rule,
// matched here:
//
//   - A form is a body of media type application/x-www-form-urlencoded
//     (parameters such as charset ignored) on a POST, PUT or PATCH — the
//     requests whose body net/http's ParseForm reads.
//   - X-HTTP-Method-Override: on a form POST, a non-empty header routes
//     the request as its value, upper-cased (ServeMux; its
//     WithDisableHTTPMethodOverride is off by default). On any other
//     request the header is ignored.
//   - Path-length fallback: a form POST whose path has no POST route but
//     a GET route is served by the GET route (ServeMux; only POST to GET).
//   - The form's values are query parameters that came in the body: they
//     are bound before the URL query's, by the same rules and bounds
//     (repeated fields get the form's values first; a singular field given
//     in both is given twice, a 400), on every route whose query is bound
//     (not a body "*" route). A form is read so whenever the request was
//     overridden or fell back, or its route takes no body; on a route that
//     takes a body, a form that was not overridden is that body, and is
//     decoded as JSON (a 400, as in grpc-gateway). When the form is read
//     so, the route's body field, if any, stays empty (grpc-gateway's JSON
//     decoder finds the body already read), and a PATCH gets an empty
//     update_mask unless the form or query gives one.
//   - The form is read like any body: at most max_body_bytes (413),
//     within body_timeout (408), charged to the door's budget, its
//     parameters bounded like a query's, and the message validated.
//
// The call's HTTP method (call.Info.HTTPMethod, which policies and
// ext_authz see) is the method the request was routed by. Cross-site
// checks run before routing and see the POST the browser sent.

// methodOverride is grpc-gateway's method override header.
const methodOverride = "X-HTTP-Method-Override"

// isFormBody reports whether r carries a form body: a POST, PUT or PATCH
// of media type application/x-www-form-urlencoded.
func isFormBody(r *http.Request) bool {
	switch r.Method {
	case http.MethodPost, http.MethodPut, http.MethodPatch:
	default:
		return false
	}
	ct := r.Header.Get("Content-Type")
	if len(ct) < len(formType) || !strings.EqualFold(ct[:len(formType)], formType) {
		return false // most bodies: no parsing
	}
	mt, _, err := mime.ParseMediaType(ct)
	return err == nil && mt == formType
}

const formType = "application/x-www-form-urlencoded"

// routeMethod is the method r is routed by: X-HTTP-Method-Override's
// value on a form POST, else r's own. overridden reports the former.
func routeMethod(r *http.Request) (method string, overridden bool) {
	if r.Method == http.MethodPost && isFormBody(r) {
		if o := r.Header.Get(methodOverride); o != "" {
			return strings.ToUpper(o), true
		}
	}
	return r.Method, false
}
