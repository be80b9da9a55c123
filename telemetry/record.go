package telemetry

import (
	"context"
	"log/slog"
	"strings"
	"sync/atomic"
	"time"

	"github.com/portico-gw/portico/call"
	"go.opentelemetry.io/otel/attribute"
	otelcodes "go.opentelemetry.io/otel/codes"
	semconv "go.opentelemetry.io/otel/semconv/v1.43.0"
	"go.opentelemetry.io/otel/trace"
	"google.golang.org/genproto/googleapis/rpc/code"
	"google.golang.org/grpc/codes"
)

// record is what telemetry keeps about one call while it runs. The doors
// fill info; the backend handler adds the time spent in backends.
type record struct {
	t     *Telemetry
	info  *call.Info
	start time.Time
	// backend is the time spent in backend calls, in nanoseconds.
	backend atomic.Int64
	// in and out count request and response bytes (gRPC: message bytes
	// on the wire, from the stats handler, possibly on two goroutines).
	in, out atomic.Int64
	// otel: otelgrpc made the gRPC door's span for this call.
	otel bool
}

type recordKey struct{}

func withRecord(ctx context.Context, r *record) context.Context {
	return context.WithValue(ctx, recordKey{}, r)
}

func recordFrom(ctx context.Context) *record {
	r, _ := ctx.Value(recordKey{}).(*record)
	return r
}

// outcome is how a call ended, in each door's terms.
type outcome struct {
	// httpStatus is the REST door's status (0 on the gRPC door).
	httpStatus int
	// grpcCode is the gRPC door's code.
	grpcCode codes.Code
}

// labels are the bounded names of a call: the API (service), the gRPC
// method and the route template, all empty for a call that matched no
// method (its raw path would be unbounded).
func (r *record) labels() (api, method, route string) {
	info := r.info
	if m := info.Method; m != nil {
		api = string(m.Desc().Parent().FullName())
		method = m.FullMethod()
	}
	switch info.Door {
	case call.REST:
		// Set by the transcoder (a route template) or by an edge that
		// answered (a plain-HTTP route prefix, the docs paths): bounded by
		// the config.
		route = info.Route
	case call.GRPC:
		if method != "" {
			route = method
		} else if ownMethod(info.Path) {
			// The door's own services (health, reflection).
			api, method, route = serviceOf(info.Path), info.Path, info.Path
		}
	}
	return api, method, route
}

// ownMethod reports the gRPC door's own services' methods, which are not
// in the catalog but are a fixed set.
func ownMethod(path string) bool {
	return strings.HasPrefix(path, "/grpc.health.v1.Health/") ||
		strings.HasPrefix(path, "/grpc.reflection.v1.ServerReflection/") ||
		strings.HasPrefix(path, "/grpc.reflection.v1alpha.ServerReflection/")
}

func serviceOf(path string) string {
	path = strings.TrimPrefix(path, "/")
	if i := strings.IndexByte(path, '/'); i >= 0 {
		return path[:i]
	}
	return path
}

// finish records the call: span name and attributes, metrics, the access
// log line. It runs once, when the call is over.
func (r *record) finish(ctx context.Context, span trace.Span, o outcome) {
	end := time.Now()
	elapsed := end.Sub(r.start)
	info := r.info
	api, method, route := r.labels()
	door := info.Door.String()
	var status string
	if info.Door == call.REST {
		status = statusLabel(o.httpStatus)
	} else {
		status = code.Code(o.grpcCode).String()
	}

	if span.IsRecording() {
		r.annotate(span, o, route)
	}
	if info.Delegated {
		// The gRPC door's record counts and logs it.
		return
	}
	if m := r.t.m; m != nil {
		m.request.Record(ctx, elapsed.Seconds(), m.requestAttrs.get(attrKey{door, api, method, route, status}, func() attribute.Set {
			return attribute.NewSet(
				attribute.String("door", door),
				attribute.String("api", api),
				attribute.String("method", method),
				attribute.String("route", route),
				attribute.String("status", status))
		}).record...)
		if info.Refusal != "" {
			m.refusals.Add(ctx, 1, m.refusalAttrs.get(attrKey{door, info.Refusal, api, method, ""}, func() attribute.Set {
				return attribute.NewSet(
					attribute.String("door", door),
					attribute.String("reason", info.Refusal),
					attribute.String("api", api),
					attribute.String("method", method))
			}).add...)
		}
	}
	if r.t.access != nil {
		r.log(ctx, span, o, elapsed, route, method)
	}
}

// annotate names the span after the route (REST: "GET /v1/{name=...}",
// gRPC: otelgrpc's "package.Service/Method") and sets what is known only
// once the call is done.
func (r *record) annotate(span trace.Span, o outcome, route string) {
	info := r.info
	attrs := make([]attribute.KeyValue, 0, 8)
	if info.Door == call.REST {
		name := httpMethodName(info.HTTPMethod)
		if route != "" {
			name += " " + route
			attrs = append(attrs, semconv.HTTPRoute(route))
		}
		span.SetName(name)
		attrs = append(attrs, semconv.HTTPResponseStatusCode(o.httpStatus))
		if o.httpStatus >= 500 {
			span.SetStatus(otelcodes.Error, "")
		}
		if info.Method != nil {
			attrs = append(attrs, semconv.RPCMethod(info.Method.FullMethod()))
		}
	} else {
		if info.Method == nil && !ownMethod(info.Path) {
			// otelgrpc named it after the raw path a client sent.
			span.SetName("unknown method")
		}
		attrs = append(attrs, rpcGRPCStatusCode.Int(int(o.grpcCode)))
	}
	if info.ClientIP.IsValid() {
		attrs = append(attrs, semconv.ClientAddress(info.ClientIP.String()))
	}
	if id := info.Identity; id != nil && id.Principal != "" {
		attrs = append(attrs, semconv.EnduserID(id.Principal))
	}
	if info.Refusal != "" {
		attrs = append(attrs, refusalKey.String(info.Refusal))
	}
	if id := info.RequestID(); id != "" {
		attrs = append(attrs, requestIDKey.String(id))
	}
	if info.Protocol != "" {
		attrs = append(attrs, protocolKey.String(info.Protocol))
	}
	span.SetAttributes(attrs...)
}

var (
	// rpcGRPCStatusCode is the gRPC status code attribute of the semantic
	// conventions before 1.40 (otelgrpc sets the newer string form,
	// rpc.response.status_code, too).
	rpcGRPCStatusCode = attribute.Key("rpc.grpc.status_code")
	refusalKey        = attribute.Key("portico.refusal")
	requestIDKey      = attribute.Key("portico.request_id")
	// protocolKey is the client's protocol when it is not the door's own
	// (connect, grpc_web).
	protocolKey = attribute.Key("portico.protocol")
)

// httpMethodName is the method for span names: a client may send any
// token, so unknown ones are _OTHER (as the semantic conventions say).
func httpMethodName(m string) string {
	switch m {
	case "GET", "HEAD", "POST", "PUT", "DELETE", "CONNECT", "OPTIONS", "TRACE", "PATCH":
		return m
	}
	return "_OTHER"
}

// log writes the access log line. It holds nothing a client sent as a
// credential: no header, no query string (API keys travel there), only
// the path, the route template and the principal a policy established.
func (r *record) log(ctx context.Context, span trace.Span, o outcome, elapsed time.Duration, route, method string) {
	info := r.info
	attrs := make([]slog.Attr, 0, 16)
	attrs = append(attrs, slog.String("door", info.Door.String()))
	if info.Door == call.REST {
		attrs = append(attrs,
			slog.String("http_method", httpMethodName(info.HTTPMethod)),
			slog.String("path", info.Path),
			slog.Int("status", o.httpStatus))
	} else {
		attrs = append(attrs, slog.String("grpc_code", code.Code(o.grpcCode).String()))
	}
	attrs = append(attrs,
		slog.String("method", method),
		slog.String("route", route),
		slog.Float64("duration_ms", ms(elapsed)),
		slog.Float64("backend_ms", ms(time.Duration(r.backend.Load()))),
		slog.Int64("bytes_in", r.in.Load()),
		slog.Int64("bytes_out", r.out.Load()))
	if info.ClientIP.IsValid() {
		attrs = append(attrs, slog.String("client_ip", info.ClientIP.String()))
	}
	if id := info.Identity; id != nil && id.Principal != "" {
		attrs = append(attrs, slog.String("principal", id.Principal))
	}
	if info.Refusal != "" {
		attrs = append(attrs, slog.String("refusal", info.Refusal))
	}
	if id := info.RequestID(); id != "" {
		attrs = append(attrs, slog.String("request_id", id))
	}
	if info.Protocol != "" {
		attrs = append(attrs, slog.String("protocol", info.Protocol))
	}
	if sc := span.SpanContext(); sc.HasTraceID() {
		attrs = append(attrs, slog.String("trace_id", sc.TraceID().String()))
	}
	r.t.access.LogAttrs(ctx, slog.LevelInfo, "access", attrs...)
}

// ms is d in milliseconds, to the microsecond.
func ms(d time.Duration) float64 {
	return float64(d.Microseconds()) / 1000
}
