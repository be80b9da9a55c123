package telemetry

import (
	"context"
	"time"

	"github.com/portico-gw/portico/call"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/trace"
	"google.golang.org/genproto/googleapis/rpc/code"
	"google.golang.org/grpc/stats"
	"google.golang.org/grpc/status"
)

// ServerHandler is the gRPC door's stats.Handler (grpc.StatsHandler): it
// makes the call's Info (which the door fills: grpcInfo reuses it) and
// otelgrpc's server span, and records the call when it ends — every call,
// those the door refuses before its pipeline included.
func (t *Telemetry) ServerHandler() stats.Handler { return &serverHandler{t: t} }

type serverHandler struct{ t *Telemetry }

func (h *serverHandler) TagConn(ctx context.Context, i *stats.ConnTagInfo) context.Context {
	return h.t.grpcServer.TagConn(ctx, i)
}

func (h *serverHandler) HandleConn(ctx context.Context, s stats.ConnStats) {
	h.t.grpcServer.HandleConn(ctx, s)
}

func (h *serverHandler) TagRPC(ctx context.Context, ti *stats.RPCTagInfo) context.Context {
	info := &call.Info{Door: call.GRPC, Path: ti.FullMethodName, HTTPMethod: "POST"}
	rec := &record{t: h.t, info: info, start: time.Now()}
	ctx = withRecord(call.NewContext(ctx, info), rec)
	return h.t.grpcServer.TagRPC(ctx, ti)
}

func (h *serverHandler) HandleRPC(ctx context.Context, rs stats.RPCStats) {
	if rec := recordFrom(ctx); rec != nil {
		switch s := rs.(type) {
		case *stats.InPayload:
			rec.in.Add(int64(s.WireLength))
		case *stats.OutPayload:
			rec.out.Add(int64(s.WireLength))
		case *stats.End:
			// Before otelgrpc's End, which ends the span.
			rec.finish(ctx, trace.SpanFromContext(ctx), outcome{grpcCode: status.Code(s.Error)})
		}
	}
	h.t.grpcServer.HandleRPC(ctx, rs)
}

// BackendHandler is the stats.Handler of the integrations' gRPC clients
// (the server adds it to their dial options). It holds no state: it finds
// the calling gateway's telemetry through the call's context (a backend
// call's context derives from the door's), so a connection shared by
// several snapshots needs no handler of its own, and a call made from
// outside a door costs one context lookup. For a call from a door it makes
// otelgrpc's client span — which carries the trace context to the backend
// in traceparent/tracestate — and adds the backend's time to the call's
// record and to portico_backend_duration_seconds.
func BackendHandler() stats.Handler { return backendHandler{} }

type backendHandler struct{}

func (backendHandler) TagConn(ctx context.Context, _ *stats.ConnTagInfo) context.Context { return ctx }
func (backendHandler) HandleConn(context.Context, stats.ConnStats)                       {}

func (backendHandler) TagRPC(ctx context.Context, ti *stats.RPCTagInfo) context.Context {
	rec := recordFrom(ctx)
	if rec == nil {
		return ctx
	}
	return rec.t.grpcClient.TagRPC(ctx, ti)
}

func (backendHandler) HandleRPC(ctx context.Context, rs stats.RPCStats) {
	rec := recordFrom(ctx)
	if rec == nil {
		return
	}
	if end, ok := rs.(*stats.End); ok {
		d := end.EndTime.Sub(end.BeginTime)
		rec.backend.Add(int64(d))
		if m := rec.t.m; m != nil {
			var integration, method string
			if mt := rec.info.Method; mt != nil {
				integration, method = mt.BackendName, mt.FullMethod
			}
			st := code.Code(status.Code(end.Error)).String()
			m.backend.Record(ctx, d.Seconds(), m.backendAttrs.get(attrKey{integration, method, st, "", ""}, func() attribute.Set {
				return attribute.NewSet(
					attribute.String("integration", integration),
					attribute.String("method", method),
					attribute.String("status", st))
			}))
		}
	}
	rec.t.grpcClient.HandleRPC(ctx, rs)
}
