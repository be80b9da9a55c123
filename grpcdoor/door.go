// Package grpcdoor is the gRPC door, a peer of the REST door
// (transcoder): every exposed method is served by one handler that
// receives the request as raw bytes, runs the method's gates, decodes the
// request itself (guarded: no input can panic the process) and runs it
// through the same pipeline as the REST door; a method no interceptor
// needs is forwarded as wire bytes. Health (grpc.health.v1) and server
// reflection, limited to the exposed services and following the current
// snapshot, are served beside it.
package grpcdoor

import (
	"context"
	"log/slog"
	"strings"
	"sync/atomic"

	"github.com/portico-gw/portico/call"
	"github.com/portico-gw/portico/codec"
	// grpc-encoding gzip and zstd, both ways, registered explicitly.
	_ "github.com/portico-gw/portico/compression"
	"github.com/portico-gw/portico/integrations"
	"github.com/portico-gw/portico/limits"
	"github.com/portico-gw/portico/pipeline"
	"github.com/portico-gw/portico/snapshot"
	"github.com/portico-gw/portico/webprotocols"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	healthpb "google.golang.org/grpc/health/grpc_health_v1"
	"google.golang.org/grpc/keepalive"
	"google.golang.org/grpc/metadata"
	"google.golang.org/grpc/reflection"
	reflectionv1 "google.golang.org/grpc/reflection/grpc_reflection_v1"
	reflectionv1alpha "google.golang.org/grpc/reflection/grpc_reflection_v1alpha"
	"google.golang.org/grpc/stats"
	"google.golang.org/grpc/status"
)

// Snapshots is where the door finds the snapshot a call runs on: the
// server's current one, which a reload replaces.
type Snapshots interface {
	// Enter returns the snapshot being served with a call counted in
	// flight on it (snapshot.Snapshot.Enter); the door calls its Leave
	// when the call is done.
	Enter() *snapshot.Snapshot
	// Current returns the snapshot being served.
	Current() *snapshot.Snapshot
}

// Options are the door's listener-level settings: they hold until the
// process restarts.
type Options struct {
	// Limits are the listener's limits (streams, sizes, keepalive) and
	// the bound on calls in flight.
	Limits limits.Limits
	// Budget bounds the bytes of large requests being decoded at once.
	Budget *limits.Budget
	// Stop is cancelled, with cause call.ErrShuttingDown, when the
	// shutdown grace period ends: calls still running end with
	// UNAVAILABLE then. Nil: never.
	Stop context.Context
	// Logger receives panics caught in calls.
	Logger *slog.Logger
	// Health serves grpc.health.v1.
	Health healthpb.HealthServer
	// ServerOptions are added to the door's (TLS).
	ServerOptions []grpc.ServerOption
	// Stats see every call (telemetry.ServerHandler): grpc-go's and those
	// Serve takes from the REST listener's direct path.
	Stats []stats.Handler
}

// streamWorkers is the size of the door's pool of call goroutines.
const streamWorkers = 64

// Door is the gRPC door.
type Door struct {
	src      Snapshots
	o        Options
	server   *grpc.Server
	inFlight atomic.Int64
}

// New makes the gRPC door over src's snapshots.
func New(src Snapshots, o Options) *Door {
	if o.Logger == nil {
		o.Logger = slog.Default()
	}
	if o.Stop == nil {
		o.Stop = context.Background()
	}
	d := &Door{src: src, o: o}
	lim := o.Limits
	opts := []grpc.ServerOption{
		grpc.ForceServerCodecV2(codec.Codec{RecursionLimit: lim.RecursionLimit()}),
		grpc.UnknownServiceHandler(d.handle),
		// Calls run on a pool of goroutines whose stacks stay grown, not
		// on a new goroutine each that grows its stack again: ≈ 8 % of
		// the door's CPU (docs/performance.md). Calls beyond the pool get
		// a goroutine of their own, as without it.
		grpc.NumStreamWorkers(streamWorkers),
		grpc.MaxRecvMsgSize(int(lim.MaxBodyBytes)),
		grpc.MaxConcurrentStreams(lim.MaxConcurrentStreams),
		grpc.MaxHeaderListSize(uint32(lim.MaxHeaderBytes)),
		grpc.KeepaliveParams(keepalive.ServerParameters{
			MaxConnectionIdle: lim.IdleTimeout,
			Time:              lim.KeepaliveTime,
			Timeout:           lim.KeepaliveTimeout,
		}),
		grpc.KeepaliveEnforcementPolicy(keepalive.EnforcementPolicy{
			MinTime:             lim.MinPingInterval,
			PermitWithoutStream: true,
		}),
	}
	if lim.ReadHeaderTimeout > 0 {
		opts = append(opts, grpc.ConnectionTimeout(lim.ReadHeaderTimeout))
	}
	for _, sh := range o.Stats {
		opts = append(opts, grpc.StatsHandler(sh))
	}
	opts = append(opts, o.ServerOptions...)
	srv := grpc.NewServer(opts...)
	if o.Health != nil {
		healthpb.RegisterHealthServer(srv, o.Health)
	}
	ropts := reflection.ServerOptions{
		Services:           exposed{srv: srv, src: src},
		DescriptorResolver: currentFiles{src},
		ExtensionResolver:  noExtensions{},
	}
	reflectionv1.RegisterServerReflectionServer(srv, reflection.NewServerV1(ropts))
	reflectionv1alpha.RegisterServerReflectionServer(srv, reflection.NewServer(ropts))
	d.server = srv
	return d
}

// Server is the door's grpc.Server (to Serve, ServeHTTP, stop).
func (d *Door) Server() *grpc.Server { return d.server }

// InFlight is the number of calls running on the door.
func (d *Door) InFlight() int64 { return d.inFlight.Load() }

// grpcHandler serves every call on the gRPC door.
func (d *Door) handle(_ any, ss grpc.ServerStream) (err error) {
	full, _ := grpc.MethodFromServerStream(ss)
	defer func() {
		if v := recover(); v != nil {
			err = pipeline.Panicked(d.o.Logger, full, v)
		}
	}()
	if d.inFlight.Add(1) > d.o.Limits.MaxInFlight {
		d.inFlight.Add(-1)
		gw := d.src.Current().Gateway()
		if md := gw.Metadata(); md != nil {
			_ = ss.SetHeader(md)
		}
		return gw.GRPCError(status.Error(codes.ResourceExhausted, "too many calls in flight"), "")
	}
	defer d.inFlight.Add(-1)
	snap := d.src.Enter()
	defer snap.Leave()
	// gateway_responses: its headers as metadata, and the message of the
	// gateway's own refusals (a backend's status is left as it is).
	gw := snap.Gateway()
	var id string
	defer func() { err = gw.GRPCError(err, id) }()
	if md := gw.Metadata(); md != nil {
		_ = ss.SetHeader(md)
	}

	ctx := ss.Context()
	direct, isDirect := ss.(*directStream)
	if !isDirect {
		// At the end of the shutdown grace period, calls still running
		// are cut short with a status rather than dropped with their
		// connection. (A direct call's context is its HTTP request's,
		// which ends with Stop already: Serve.)
		var cancel context.CancelFunc
		ctx, cancel = context.WithCancel(ctx)
		defer cancel()
		stop := context.AfterFunc(d.o.Stop, cancel)
		defer stop()
	}
	defer func() { err = d.shutdownError(err) }()

	var info *call.Info
	if isDirect {
		info = call.NewGRPCWith(ctx, full, direct.Incoming())
	} else {
		info = call.NewGRPC(ctx, full)
	}
	info.SetAdmission(d.o.Budget.Admit)
	ctx = call.NewContext(ctx, info)
	via := webprotocols.From(ctx)
	if via != nil {
		// Translated from gRPC-Web or Connect: the REST listener's edges
		// gave the call its ID and put it in the response header.
		info.SetRequestID(via.RequestIDHeader, via.RequestID)
		info.Protocol = via.Protocol.String()
		via.Reached()
	}
	err = snap.Admit(info)
	if id = info.RequestID(); id != "" && via == nil {
		_ = ss.SetHeader(metadata.MD{info.RequestIDKey(): {id}})
	}
	if err != nil {
		sendPolicyHeaders(ss, info)
		return err
	}
	pm := snap.Pipeline().Method(full)
	if pm == nil {
		return status.Errorf(codes.Unimplemented, "unknown method %s", full)
	}
	info.Method = pm.Method
	ctx = metadata.NewIncomingContext(ctx, call.Incoming(info, info.MD, snap.Reserved()))
	if pm.HasGate() {
		if ctx, err = pm.Gate(ctx, info); err != nil {
			sendPolicyHeaders(ss, info)
			return err
		}
	}
	ds := &doorStream{ServerStream: ss, ctx: ctx, info: info, in: pm.Desc().Input(), limit: snap.Limits().RecursionLimit()}
	defer ds.releaseHeld()
	if pm.Streaming() && !pm.Desc().IsStreamingClient() {
		ds.firstWithin = snap.Limits().BodyTimeout
	}
	if raw, ok := pm.Backend().(integrations.Raw); ok && pm.Opaque() {
		return ds.forwardRaw(raw, pm, snap.Limits().BodyTimeout)
	}
	if pm.Streaming() {
		sendPolicyHeaders(ss, info)
		return pm.Stream(ds)
	}
	req := pm.Input().New().Interface()
	if err := ds.recvUnary(req, snap.Limits().BodyTimeout); err != nil {
		return err
	}
	if raw, ok := pm.Backend().(integrations.Raw); ok && pm.WireResponse() && wireAnswer(ss) {
		// Nothing reads the response: it goes back as the backend sent
		// it, not decoded and encoded again.
		out, err := pm.UnaryVia(ctx, req, func(ctx context.Context, req any) (any, error) {
			return raw.UnaryRaw(ctx, pm.Method, req)
		})
		sendPolicyHeaders(ss, info)
		if err != nil {
			return err
		}
		if f, ok := out.(*codec.Frame); ok {
			defer f.Free()
		}
		return ss.SendMsg(out)
	}
	resp, err := pm.Unary(ctx, req)
	sendPolicyHeaders(ss, info)
	if err != nil {
		return err
	}
	return ss.SendMsg(resp)
}

// wireAnswer reports whether ss answers in protobuf wire bytes: a gRPC
// client's stream, or a direct call's but for Connect JSON.
func wireAnswer(ss grpc.ServerStream) bool {
	if ds, ok := ss.(*directStream); ok {
		return ds.Binary()
	}
	return true
}

// shutdownError words a call cut short by the end of the shutdown grace
// period.
func (d *Door) shutdownError(err error) error {
	if err != nil && d.o.Stop.Err() != nil && status.Code(err) == codes.Canceled {
		return status.Error(codes.Unavailable, "server shutting down")
	}
	return err
}

// sendPolicyHeaders sends the response headers policies set (as metadata,
// lower-cased) with the call's response headers.
func sendPolicyHeaders(ss grpc.ServerStream, info *call.Info) {
	h := info.ResponseHeader()
	if len(h) == 0 {
		return
	}
	md := make(metadata.MD, len(h))
	for k, vs := range h {
		md[strings.ToLower(k)] = vs
	}
	_ = ss.SetHeader(md)
}
