package extauthz

import (
	"net/http"
	"strings"

	corev3 "github.com/envoyproxy/go-control-plane/envoy/config/core/v3"
	authv3 "github.com/envoyproxy/go-control-plane/envoy/service/auth/v3"
	"google.golang.org/grpc/codes"

	"github.com/portico-gw/portico/integrations"
)

// decide reads a CheckResponse: an OK status allows (its OK response's
// headers go to the backend, its response_headers_to_add to the client
// with the backend's answer), anything else denies (its denied
// response's status and headers go to the client; Envoy's default
// status is 403).
func decide(resp *authv3.CheckResponse) *Decision {
	code := codes.Code(resp.GetStatus().GetCode())
	if code == codes.OK {
		d := &Decision{Allowed: true, Reason: "allowed by the authorizer"}
		ok := resp.GetOkResponse()
		for _, hv := range ok.GetHeaders() {
			k, v, good := header(hv)
			if !good {
				continue
			}
			if k == PrincipalHeader {
				d.Principal = v
			}
			d.Headers = append(d.Headers, [2]string{k, v})
		}
		for _, k := range ok.GetHeadersToRemove() {
			d.Remove = append(d.Remove, strings.ToLower(k))
		}
		for _, hv := range ok.GetResponseHeadersToAdd() {
			if k, v, good := header(hv); good && !integrations.HopHeader(k) && !strings.HasPrefix(k, "grpc-") {
				d.ResponseHeaders = append(d.ResponseHeaders, [2]string{k, v})
			}
		}
		return d
	}
	d := &Decision{Code: code, Reason: "denied by the authorizer"}
	if msg := resp.GetStatus().GetMessage(); msg != "" {
		d.Reason += ": " + msg
	}
	denied := resp.GetDeniedResponse()
	if s := int(denied.GetStatus().GetCode()); s >= 400 && s <= 599 {
		d.HTTPStatus = s
	}
	for _, hv := range denied.GetHeaders() {
		if k, v, good := header(hv); good {
			d.DeniedHeaders = append(d.DeniedHeaders, [2]string{k, v})
		}
	}
	switch {
	case d.HTTPStatus == http.StatusUnauthorized:
		d.Code = codes.Unauthenticated
	case d.HTTPStatus == http.StatusTooManyRequests:
		d.Code = codes.ResourceExhausted
	case d.Code == codes.Unauthenticated, d.Code == codes.ResourceExhausted:
	default:
		d.Code = codes.PermissionDenied
	}
	if d.HTTPStatus == 0 {
		switch d.Code {
		case codes.Unauthenticated:
			d.HTTPStatus = http.StatusUnauthorized
		case codes.ResourceExhausted:
			d.HTTPStatus = http.StatusTooManyRequests
		default:
			d.HTTPStatus = http.StatusForbidden
		}
	}
	return d
}

// header reads one header option: a lower-cased valid name and a
// printable value.
func header(hv *corev3.HeaderValueOption) (string, string, bool) {
	k := strings.ToLower(hv.GetHeader().GetKey())
	v := hv.GetHeader().GetValue()
	if v == "" && len(hv.GetHeader().GetRawValue()) > 0 {
		v = string(hv.GetHeader().GetRawValue())
	}
	if !validHeaderName(k) || strings.HasPrefix(k, ":") {
		return "", "", false
	}
	for i := 0; i < len(v); i++ {
		if v[i] < 0x20 || v[i] > 0x7e {
			return "", "", false
		}
	}
	return k, v, true
}
