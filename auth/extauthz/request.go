package extauthz

import (
	"strings"
	"time"

	corev3 "github.com/envoyproxy/go-control-plane/envoy/config/core/v3"
	authv3 "github.com/envoyproxy/go-control-plane/envoy/service/auth/v3"
	"github.com/portico-gw/portico/call"
	"google.golang.org/protobuf/types/known/timestamppb"
)

// Context extensions Portico sets on every CheckRequest, so one policy
// can treat both doors alike.
const (
	ExtGRPCMethod = "grpc_method" // "/package.Service/Method"
	ExtDoor       = "door"        // "rest" or "grpc"
	ExtPrincipal  = "principal"   // the principal authenticated so far
)

// checkRequest describes a call as Envoy would (HTTP-like attributes)
// for either door: REST calls as they came; gRPC calls as the HTTP/2
// POST they are, with their metadata as headers.
func checkRequest(info *call.Info, principal string, now time.Time) *authv3.CheckRequest {
	h := &authv3.AttributeContext_HttpRequest{
		Method: info.HTTPMethod,
		Path:   info.Path,
		Host:   info.Authority,
		Scheme: "http",
	}
	if info.TLS != nil {
		h.Scheme = "https"
	}
	headers := map[string]string{}
	if r := info.HTTP; r != nil {
		h.Protocol = r.Proto
		if r.URL.RawQuery != "" {
			h.Query = r.URL.RawQuery
			h.Path = r.URL.Path + "?" + r.URL.RawQuery
		}
		for k, vs := range r.Header {
			headers[strings.ToLower(k)] = strings.Join(vs, ",")
		}
	} else {
		h.Protocol = "HTTP/2"
		for k, vs := range info.MD {
			if strings.HasSuffix(k, "-bin") {
				continue // binary values are not header text
			}
			headers[k] = strings.Join(vs, ",")
		}
	}
	headers[":method"] = h.Method
	headers[":path"] = h.Path
	if h.Host != "" {
		headers[":authority"] = h.Host
	}
	h.Headers = headers

	ext := map[string]string{ExtDoor: info.Door.String()}
	if info.Method != nil {
		ext[ExtGRPCMethod] = info.Method.FullMethod()
	}
	if principal != "" {
		ext[ExtPrincipal] = principal
	}
	attrs := &authv3.AttributeContext{
		Source: &authv3.AttributeContext_Peer{Principal: principal},
		Request: &authv3.AttributeContext_Request{
			Time: timestamppb.New(now),
			Http: h,
		},
		ContextExtensions: ext,
	}
	if ip := info.ClientIP; ip.IsValid() {
		port := uint32(0)
		if info.Peer.Addr() == ip {
			port = uint32(info.Peer.Port())
		}
		attrs.Source.Address = &corev3.Address{Address: &corev3.Address_SocketAddress{SocketAddress: &corev3.SocketAddress{
			Address:       ip.String(),
			PortSpecifier: &corev3.SocketAddress_PortValue{PortValue: port},
		}}}
	}
	return &authv3.CheckRequest{Attributes: attrs}
}
