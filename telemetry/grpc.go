package telemetry

import (
	"context"
	"time"

	"github.com/portico-gw/portico/call"
	"go.opentelemetry.io/otel/trace"
	"google.golang.org/grpc/metadata"
	"google.golang.org/grpc/stats"
	"google.golang.org/grpc/status"
)

// ServerHandler is the gRPC door's stats.Handler (grpc.StatsHandler): it
// makes the call's Info (which the door fills: grpcInfo reuses it) and,
// when spans are exported, otelgrpc's server span; it records the call
// when it ends — every call, those the door refuses before its pipeline
// included.
func (t *Telemetry) ServerHandler() stats.Handler { return &serverHandler{t: t} }

type serverHandler struct{ t *Telemetry }

func (h *serverHandler) TagConn(ctx context.Context, i *stats.ConnTagInfo) context.Context {
	if h.t.grpcServer != nil {
		return h.t.grpcServer.TagConn(ctx, i)
	}
	return ctx
}

func (h *serverHandler) HandleConn(ctx context.Context, s stats.ConnStats) {
	if h.t.grpcServer != nil {
		h.t.grpcServer.HandleConn(ctx, s)
	}
}

func (h *serverHandler) TagRPC(ctx context.Context, ti *stats.RPCTagInfo) context.Context {
	info := &call.Info{Door: call.GRPC, Path: ti.FullMethodName, HTTPMethod: "POST"}
	rec := &record{t: h.t, info: info, start: time.Now()}
	ctx = withRecord(call.NewContext(ctx, info), rec)
	if h.t.grpcServer != nil && (h.t.sampleRoots || incomingCarrier{ctx}.Get("traceparent") != "") {
		rec.otel = true
		return h.t.grpcServer.TagRPC(ctx, ti)
	}
	// No spans: take the client's trace context (if any), to pass it on.
	return h.t.prop.Extract(ctx, incomingCarrier{ctx})
}

func (h *serverHandler) HandleRPC(ctx context.Context, rs stats.RPCStats) {
	rec := recordFrom(ctx)
	if rec != nil {
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
	if rec != nil && rec.otel {
		h.t.grpcServer.HandleRPC(ctx, rs)
	}
}

// incomingCarrier reads the trace context from a call's incoming
// metadata without copying all of it.
type incomingCarrier struct{ ctx context.Context }

func (c incomingCarrier) Get(key string) string {
	if vs := metadata.ValueFromIncomingContext(c.ctx, key); len(vs) > 0 {
		return vs[0]
	}
	return ""
}
func (incomingCarrier) Set(string, string) {}
func (incomingCarrier) Keys() []string     { return nil }
