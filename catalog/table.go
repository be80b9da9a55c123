package catalog

import (
	"cmp"
	"slices"
)

// RouteKind says how a method can be called.
type RouteKind string

const (
	// KindREST is a method bound to HTTP; it is also served over gRPC.
	KindREST RouteKind = "rest"
	// KindGRPCOnly is a method without an HTTP binding: no google.api.http
	// rule, and default_bindings off for its API.
	KindGRPCOnly RouteKind = "grpc-only"
)

// RouteRow is one row of the route table: an HTTP binding of a method, or
// a method reachable over gRPC only. Its JSON form is what `portico routes
// --json` prints (and what the admin API is to serve).
type RouteRow struct {
	// HTTPMethod and Path are the binding's HTTP method and path template
	// in canonical form; empty for a gRPC-only method.
	HTTPMethod string `json:"http_method,omitempty"`
	Path       string `json:"path,omitempty"`
	// GRPCMethod is the method's gRPC path, "/package.Service/Method".
	GRPCMethod string `json:"grpc_method"`
	// Integration names the backend that serves the method.
	Integration string `json:"integration"`
	// Kind is rest or grpc-only.
	Kind RouteKind `json:"kind"`
	// Streaming is the method's shape: unary, server, client or bidi.
	Streaming string `json:"streaming"`
	// Timeout is the deadline calls get before the client's own (which
	// wins when shorter): the shortest of the method's, its API's and its
	// integration's, e.g. "500ms"; empty when none.
	Timeout string `json:"timeout,omitempty"`
	// DefaultBinding marks the POST /{package.Service}/{Method} binding
	// that default_bindings gives a method without a rule.
	DefaultBinding bool `json:"default_binding,omitempty"`
	// Hosts are the host names its API is served for (apis[].hosts);
	// none: any host. (Its base_path is part of Path.)
	Hosts []string `json:"hosts,omitempty"`
}

// RouteTable lists every exposed method of c: one row per HTTP binding, and
// one row for each method without any. HTTP rows come first, by path then
// HTTP method; gRPC-only rows follow, by gRPC method.
func RouteTable(c *Catalog) []RouteRow {
	var rows []RouteRow
	for _, m := range c.MethodList() {
		row := RouteRow{GRPCMethod: m.fullMethod, Integration: m.backendName, Kind: KindGRPCOnly, Streaming: streamingShape(m)}
		d := m.Timeout()
		if tb, ok := m.backend.(TimeoutBackend); ok {
			d = tb.CallTimeout(m)
		}
		if d > 0 {
			row.Timeout = d.String()
		}
		if m.api != nil {
			row.Hosts = m.api.Hosts()
		}
		if len(m.bindings) == 0 {
			rows = append(rows, row)
			continue
		}
		for _, b := range m.bindings {
			r := row
			r.Kind, r.HTTPMethod, r.Path, r.DefaultBinding = KindREST, b.HTTPMethod, b.Template.String(), b.Default
			rows = append(rows, r)
		}
	}
	slices.SortStableFunc(rows, func(a, b RouteRow) int {
		return cmp.Or(
			cmp.Compare(kindOrder(a.Kind), kindOrder(b.Kind)),
			cmp.Compare(a.Path, b.Path),
			cmp.Compare(a.HTTPMethod, b.HTTPMethod),
			cmp.Compare(a.GRPCMethod, b.GRPCMethod),
		)
	})
	return rows
}

func kindOrder(k RouteKind) int {
	if k == KindREST {
		return 0
	}
	return 1
}

// streamingShape names a method's streaming shape.
func streamingShape(m *Method) string {
	switch c, s := m.desc.IsStreamingClient(), m.desc.IsStreamingServer(); {
	case c && s:
		return "bidi"
	case c:
		return "client"
	case s:
		return "server"
	}
	return "unary"
}
