package telemetry

import (
	"context"
	"errors"
	"io"
	"strings"
	"sync"
	"time"

	"go.opentelemetry.io/otel/attribute"
	otelcodes "go.opentelemetry.io/otel/codes"
	semconv "go.opentelemetry.io/otel/semconv/v1.43.0"
	"go.opentelemetry.io/otel/trace"
	"google.golang.org/genproto/googleapis/rpc/code"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/metadata"
	"google.golang.org/grpc/status"
)

// BackendDialOptions are the interceptors of the integrations' gRPC
// clients (the server adds them to their dial options). They hold no
// state: they find the calling gateway's telemetry through the call's
// context (a backend call's context derives from the door's), so a
// connection shared by several snapshots needs nothing of its own, and a
// call made from outside a door costs one context lookup. For a call from
// a door they make the client span, send the trace context to the backend
// (traceparent/tracestate: the client span's, or the caller's when no
// spans are recorded), and add the backend's time to the call's record
// and to portico_backend_duration_seconds.
//
// Interceptors rather than otelgrpc's client stats handler: a stats
// handler on a connection makes grpc-go build and deliver seven events per
// call, and otelgrpc does its attribute work on each; this is the gateway's
// hot path, and one interceptor call per backend call is what it needs.
func BackendDialOptions() []grpc.DialOption {
	return []grpc.DialOption{
		grpc.WithChainUnaryInterceptor(unaryBackend),
		grpc.WithChainStreamInterceptor(streamBackend),
	}
}

func unaryBackend(ctx context.Context, method string, req, reply any, cc *grpc.ClientConn, invoker grpc.UnaryInvoker, opts ...grpc.CallOption) error {
	rec := recordFrom(ctx)
	if rec == nil {
		return invoker(ctx, method, req, reply, cc, opts...)
	}
	ctx, span := rec.t.startBackend(ctx, method)
	start := time.Now()
	err := invoker(ctx, method, req, reply, cc, opts...)
	rec.endBackend(ctx, span, cc, method, start, err)
	return err
}

func streamBackend(ctx context.Context, desc *grpc.StreamDesc, cc *grpc.ClientConn, method string, streamer grpc.Streamer, opts ...grpc.CallOption) (grpc.ClientStream, error) {
	rec := recordFrom(ctx)
	if rec == nil {
		return streamer(ctx, desc, cc, method, opts...)
	}
	ctx, span := rec.t.startBackend(ctx, method)
	start := time.Now()
	cs, err := streamer(ctx, desc, cc, method, opts...)
	if err != nil {
		rec.endBackend(ctx, span, cc, method, start, err)
		return nil, err
	}
	return traceStream(ctx, cs, func(err error) { rec.endBackend(ctx, span, cc, method, start, err) }), nil
}

// traceStream wraps a backend stream so that end is called once, when the
// stream ends: at its last RecvMsg (io.EOF is success) or, for a stream
// nobody reads to its end, when the caller's context ends (the integration
// cancels it when the call is over). It watches the caller's context, not
// the stream's: grpc-go cancels the stream's own context as it finishes,
// before RecvMsg returns io.EOF, and a watcher on it raced the last
// RecvMsg and reported a stream that ended well as cancelled.
func traceStream(ctx context.Context, cs grpc.ClientStream, end func(error)) *tracedStream {
	ts := &tracedStream{ClientStream: cs, end: end}
	ts.stop = context.AfterFunc(ctx, func() { ts.finish(ctx.Err()) })
	return ts
}

// tracedStream ends the backend call's record when the stream ends (see
// traceStream).
type tracedStream struct {
	grpc.ClientStream
	once sync.Once
	end  func(error)
	stop func() bool
}

func (s *tracedStream) RecvMsg(m any) error {
	err := s.ClientStream.RecvMsg(m)
	if err != nil {
		if errors.Is(err, io.EOF) {
			s.finish(nil)
		} else {
			s.finish(err)
		}
	}
	return err
}

func (s *tracedStream) finish(err error) {
	s.once.Do(func() {
		s.stop()
		s.end(err)
	})
}

// startBackend starts the client span and puts the trace context in the
// outgoing metadata, replacing any the caller's metadata carried.
func (t *Telemetry) startBackend(ctx context.Context, method string) (context.Context, trace.Span) {
	span := trace.SpanFromContext(ctx)
	if t.traces(span) {
		ctx, span = t.tracer.Start(ctx, strings.TrimPrefix(method, "/"), trace.WithSpanKind(trace.SpanKindClient))
	}
	if !span.SpanContext().IsValid() {
		return ctx, span
	}
	md, _ := metadata.FromOutgoingContext(ctx) // a copy
	if md == nil {
		md = metadata.MD{}
	}
	t.prop.Inject(ctx, outgoingCarrier(md))
	return metadata.NewOutgoingContext(ctx, md), span
}

// outgoingCarrier writes the trace context into outgoing metadata.
type outgoingCarrier metadata.MD

func (c outgoingCarrier) Get(key string) string {
	if vs := metadata.MD(c).Get(key); len(vs) > 0 {
		return vs[0]
	}
	return ""
}
func (c outgoingCarrier) Set(key, value string) { metadata.MD(c).Set(key, value) }
func (c outgoingCarrier) Keys() []string {
	keys := make([]string, 0, len(c))
	for k := range c {
		keys = append(keys, k)
	}
	return keys
}

// endBackend ends a backend call: its span, its time in the call's
// record, and the backend metric.
func (r *record) endBackend(ctx context.Context, span trace.Span, cc *grpc.ClientConn, method string, start time.Time, err error) {
	d := time.Since(start)
	r.backend.Add(int64(d))
	c := status.Code(err)
	if span.IsRecording() && r.t.tracer != nil {
		span.SetAttributes(
			semconv.RPCSystemNameGRPC,
			semconv.RPCMethod(strings.TrimPrefix(method, "/")),
			rpcGRPCStatusCode.Int(int(c)),
			semconv.ServerAddress(cc.Target()))
		if c != codes.OK {
			span.SetStatus(otelcodes.Error, status.Convert(err).Message())
		}
		span.End()
	}
	m := r.t.m
	if m == nil {
		return
	}
	var integration string
	if mt := r.info.Method; mt != nil {
		integration = mt.BackendName()
	}
	st := code.Code(c).String()
	m.backend.Record(ctx, d.Seconds(), m.backendAttrs.get(attrKey{integration, method, st, "", ""}, func() attribute.Set {
		return attribute.NewSet(
			attribute.String("integration", integration),
			attribute.String("method", method),
			attribute.String("status", st))
	}).record...)
}
