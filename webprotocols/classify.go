package webprotocols

import (
	"net/http"
	"strings"
)

// Protocol is the RPC protocol of a request of the REST listener.
type Protocol uint8

const (
	// REST is every request that is neither Connect nor gRPC-Web: the
	// REST door's, as before.
	REST Protocol = iota
	// Connect is the Connect protocol (unary POST and GET, streams).
	Connect
	// GRPCWeb is gRPC-Web, binary or base64 text.
	GRPCWeb
)

// String is the protocol's name in telemetry ("rest", "connect",
// "grpc_web").
func (p Protocol) String() string {
	switch p {
	case Connect:
		return "connect"
	case GRPCWeb:
		return "grpc_web"
	}
	return "rest"
}

// Classify says which protocol r speaks. The rule (docs/protocols.md):
// Connect when the Content-Type is application/connect+*, or the request
// carries Connect-Protocol-Version: 1, or it is a GET with connect=v1 in
// its query; gRPC-Web when the Content-Type is application/grpc-web*;
// anything else is REST — a POST /pkg.Service/Method with
// application/json and no Connect-Protocol-Version included.
func Classify(r *http.Request) Protocol {
	ct := r.Header.Get("Content-Type")
	switch {
	case hasPrefixFold(ct, "application/grpc-web"):
		return GRPCWeb
	case hasPrefixFold(ct, "application/connect+"):
		return Connect
	case r.Header.Get("Connect-Protocol-Version") == "1":
		return Connect
	case r.Method == http.MethodGet && strings.Contains(r.URL.RawQuery, "connect=v1") && r.URL.Query().Get("connect") == "v1":
		return Connect
	}
	return REST
}

// hasPrefixFold is strings.HasPrefix, ignoring ASCII case (media types
// are case-insensitive).
func hasPrefixFold(s, prefix string) bool {
	return len(s) >= len(prefix) && strings.EqualFold(s[:len(prefix)], prefix)
}

// AllowedHeaders are the request headers gRPC-Web and Connect clients
// send, which a page on another origin may send once cors allows it
// (lower-cased, as rs/cors compares them).
func AllowedHeaders() []string {
	return []string{"connect-protocol-version", "connect-timeout-ms", "connect-content-encoding", "connect-accept-encoding",
		"x-grpc-web", "x-user-agent", "grpc-timeout", "grpc-encoding", "grpc-accept-encoding"}
}

// ExposedHeaders are the response headers a page's gRPC-Web or Connect
// client reads (the status, for gRPC-Web when the trailers come as
// headers).
func ExposedHeaders() []string {
	return []string{"Grpc-Status", "Grpc-Message", "Grpc-Status-Details-Bin", "Grpc-Encoding", "Connect-Content-Encoding"}
}
