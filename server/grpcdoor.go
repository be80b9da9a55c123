package server

import (
	"context"
	"errors"
	"io"
	"sort"
	"strings"
	"time"

	"github.com/portico-gw/portico/call"
	"github.com/portico-gw/portico/codec"
	"github.com/portico-gw/portico/integrations"
	"github.com/portico-gw/portico/limits"
	"github.com/portico-gw/portico/pipeline"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	healthpb "google.golang.org/grpc/health/grpc_health_v1"
	"google.golang.org/grpc/keepalive"
	"google.golang.org/grpc/metadata"
	"google.golang.org/grpc/reflection"
	reflectionv1 "google.golang.org/grpc/reflection/grpc_reflection_v1"
	reflectionv1alpha "google.golang.org/grpc/reflection/grpc_reflection_v1alpha"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/reflect/protoreflect"
)

// newGRPCDoor makes the gRPC door: every exposed method is served by one
// handler that receives the request as raw bytes, runs the method's gate,
// decodes the request itself (guarded: no input can panic the process)
// and runs it through the same pipeline as the REST door. Health
// (grpc.health.v1) and server reflection, limited to the exposed services
// and following the current snapshot, are served beside it.
func newGRPCDoor(s *Server, lim limits.Limits, extra ...grpc.ServerOption) *grpc.Server {
	opts := []grpc.ServerOption{
		grpc.ForceServerCodecV2(codec.Codec{RecursionLimit: lim.RecursionLimit()}),
		grpc.UnknownServiceHandler(s.grpcHandler),
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
	opts = append(opts, extra...)
	srv := grpc.NewServer(opts...)
	healthpb.RegisterHealthServer(srv, s.health.server)
	ropts := reflection.ServerOptions{
		Services:           exposed{srv: srv, s: s},
		DescriptorResolver: currentFiles{s},
		ExtensionResolver:  noExtensions{},
	}
	reflectionv1.RegisterServerReflectionServer(srv, reflection.NewServerV1(ropts))
	reflectionv1alpha.RegisterServerReflectionServer(srv, reflection.NewServer(ropts))
	return srv
}

// grpcHandler serves every call on the gRPC door.
func (s *Server) grpcHandler(_ any, ss grpc.ServerStream) (err error) {
	full, _ := grpc.MethodFromServerStream(ss)
	defer func() {
		if v := recover(); v != nil {
			err = pipeline.Panicked(s.log, full, v)
		}
	}()
	if s.grpcInFlight.Add(1) > s.limits.MaxInFlight {
		s.grpcInFlight.Add(-1)
		return status.Error(codes.ResourceExhausted, "too many calls in flight")
	}
	defer s.grpcInFlight.Add(-1)
	snap := s.enter()
	defer snap.inflight.leave()

	ctx, cancel := context.WithCancel(ss.Context())
	defer cancel()
	// At the end of the shutdown grace period, calls still running are
	// cut short with a status rather than dropped with their connection.
	stop := context.AfterFunc(s.stopCtx, cancel)
	defer stop()
	defer func() { err = s.grpcShutdownError(err) }()

	info := call.NewGRPC(ctx, full)
	info.SetAdmission(s.grpcBudget.Admit)
	ctx = call.NewContext(ctx, info)
	if snap.grpcEdge != nil {
		if err := snap.grpcEdge(ctx, info); err != nil {
			sendPolicyHeaders(ss, info)
			return err
		}
	}
	pm := snap.Pipeline.Method(full)
	if pm == nil {
		return status.Errorf(codes.Unimplemented, "unknown method %s", full)
	}
	info.Method = pm.Method
	ctx = metadata.NewIncomingContext(ctx, grpcIncoming(info, snap.REST.Reserved()))
	if pm.HasGate() {
		if ctx, err = pm.Gate(ctx, info); err != nil {
			sendPolicyHeaders(ss, info)
			return err
		}
	}
	ds := &doorStream{ServerStream: ss, ctx: ctx, info: info, in: pm.Desc.Input(), limit: snap.Limits.RecursionLimit()}
	defer ds.releaseHeld()
	if raw, ok := pm.Backend.(integrations.Raw); ok && pm.Opaque() {
		return ds.forwardRaw(raw, pm, snap.Limits.BodyTimeout)
	}
	if pm.Streaming() {
		sendPolicyHeaders(ss, info)
		return pm.Stream(ds)
	}
	req := pm.Input.New().Interface()
	if err := ds.recvUnary(req, snap.Limits.BodyTimeout); err != nil {
		return err
	}
	resp, err := pm.Unary(ctx, req)
	sendPolicyHeaders(ss, info)
	if err != nil {
		return err
	}
	return ss.SendMsg(resp)
}

// grpcShutdownError words a call cut short by the end of the shutdown
// grace period.
func (s *Server) grpcShutdownError(err error) error {
	if err != nil && s.stopCtx.Err() != nil && status.Code(err) == codes.Canceled {
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

// grpcIncoming is the metadata a gRPC call carries on into the pipeline
// and to the backend: what the client sent, without the names the REST
// door reserves for itself (grpcgateway-*, Portico's own x-portico-*, any
// reserved identity header, in any spelling a backend reads as the same
// name: x_portico_principal) so a gRPC client cannot forge them; with
// x-forwarded-for carrying the real peer appended and x-forwarded-host the
// authority (a client's x-forwarded-host, or another spelling of either,
// is dropped). Policies read the unfiltered metadata from the call's Info.
func grpcIncoming(info *call.Info, reserved func(string) bool) metadata.MD {
	out := make(metadata.MD, len(info.MD)+2)
	for k, vs := range info.MD {
		switch n := call.HeaderName(k); {
		case strings.HasPrefix(k, "grpcgateway-"), call.Reserved(n, reserved),
			n == "x-forwarded-for", n == "x-forwarded-host":
			continue
		}
		out[k] = vs
	}
	xff := info.MD["x-forwarded-for"]
	if info.Peer.IsValid() {
		xff = append(xff[:len(xff):len(xff)], info.Peer.Addr().String())
	}
	if len(xff) > 0 {
		out["x-forwarded-for"] = []string{strings.Join(xff, ", ")}
	}
	if info.Authority != "" {
		out["x-forwarded-host"] = []string{info.Authority}
	}
	return out
}

// binaryCostFactor estimates the memory decoding a binary message takes,
// per byte, for the door's budget: a field of a few bytes on the wire
// costs hundreds once decoded into a message known only from descriptors.
const binaryCostFactor = 8

// doorStream is the gRPC door's stream as the pipeline sees it: the
// call's context, and requests decoded from raw frames with Decode's
// guards (a malformed message is INVALID_ARGUMENT, never a panic or
// INTERNAL).
type doorStream struct {
	grpc.ServerStream
	ctx   context.Context
	info  *call.Info
	in    protoreflect.MessageDescriptor // the request type, for Check
	limit int
	held  func() // the budget taken for the message last received
}

// releaseHeld gives back the budget taken for the last message.
func (d *doorStream) releaseHeld() {
	if d.held != nil {
		d.held()
		d.held = nil
	}
}

func (d *doorStream) Context() context.Context { return d.ctx }

func (d *doorStream) RecvMsg(m any) error {
	if f, ok := m.(*codec.Frame); ok {
		// Zero-copy: the frame goes on as it came, once its encoding is
		// checked (nothing malformed reaches a backend, nothing is
		// decoded); a large one still holds room in the door's budget
		// while it is forwarded.
		if err := d.ServerStream.RecvMsg(f); err != nil {
			return err
		}
		if err := codec.Check(f.Bytes(), d.in, d.limit); err != nil {
			f.Free()
			return err
		}
		return d.admit(int64(f.Len()))
	}
	msg, ok := m.(proto.Message)
	if !ok {
		return d.ServerStream.RecvMsg(m)
	}
	var f codec.Frame
	if err := d.ServerStream.RecvMsg(&f); err != nil {
		return err
	}
	defer f.Free()
	// A large message holds its room in the door's budget until the next
	// one arrives or the call ends: it is being decoded and forwarded.
	if err := d.admit(int64(f.Len()) * binaryCostFactor); err != nil {
		return err
	}
	return codec.Decode(f.Bytes(), msg, d.limit)
}

// admit takes room in the door's budget for the message just received,
// giving back what the previous one held.
func (d *doorStream) admit(cost int64) error {
	d.releaseHeld()
	release, err := d.info.Admit(d.ctx, cost)
	if err != nil {
		return err
	}
	d.held = release
	return nil
}

// forwardRaw serves a call whose messages no interceptor needs (only
// gates, which already ran): request and response frames are forwarded as
// wire bytes, decoding nothing. The unary rules (one message, received in
// time) are the same as on the decoding path.
func (d *doorStream) forwardRaw(raw integrations.Raw, pm *pipeline.Method, timeout time.Duration) (err error) {
	if pm.Streaming() {
		sendPolicyHeaders(d.ServerStream, d.info)
		return raw.StreamRaw(d.ctx, pm.Method, d)
	}
	req := &codec.Frame{}
	defer req.Free()
	if err := d.recvUnary(req, timeout); err != nil {
		return err
	}
	resp, err := raw.UnaryRaw(d.ctx, pm.Method, req)
	sendPolicyHeaders(d.ServerStream, d.info)
	if err != nil {
		return err
	}
	defer resp.Free()
	return d.ServerStream.SendMsg(resp)
}

// recvUnary receives the one request of a unary call within timeout: a
// client that sends its message a byte at a time, or never, is let go.
// A unary call with no message, or with two, is INVALID_ARGUMENT.
func (d *doorStream) recvUnary(req any, timeout time.Duration) error {
	recv := func() error {
		if err := d.RecvMsg(req); err != nil {
			if errors.Is(err, io.EOF) {
				return status.Error(codes.InvalidArgument, "missing request message")
			}
			return err
		}
		var extra codec.Frame
		err := d.ServerStream.RecvMsg(&extra)
		extra.Free()
		switch {
		case errors.Is(err, io.EOF):
			return nil
		case err == nil:
			return status.Error(codes.InvalidArgument, "a unary call carries one request message, got more")
		default:
			return err
		}
	}
	if timeout <= 0 {
		return recv()
	}
	done := make(chan error, 1)
	go func() { done <- recv() }()
	t := time.NewTimer(timeout)
	defer t.Stop()
	select {
	case err := <-done:
		return err
	case <-t.C:
		// Returning ends the call; grpc-go then cancels the stream, which
		// ends the receive above.
		return status.Error(codes.DeadlineExceeded, "request message not received in time")
	}
}

// exposed lists, for server reflection, the exposed services of the
// current snapshot plus the services registered on the server itself
// (health, reflection).
type exposed struct {
	srv *grpc.Server
	s   *Server
}

func (e exposed) GetServiceInfo() map[string]grpc.ServiceInfo {
	out := map[string]grpc.ServiceInfo{}
	for name, info := range e.srv.GetServiceInfo() {
		out[name] = info
	}
	for _, sd := range e.s.Snapshot().Catalog.Services {
		var methods []grpc.MethodInfo
		ms := sd.Methods()
		for i := 0; i < ms.Len(); i++ {
			md := ms.Get(i)
			methods = append(methods, grpc.MethodInfo{
				Name:           string(md.Name()),
				IsClientStream: md.IsStreamingClient(),
				IsServerStream: md.IsStreamingServer(),
			})
		}
		sort.Slice(methods, func(i, j int) bool { return methods[i].Name < methods[j].Name })
		out[string(sd.FullName())] = grpc.ServiceInfo{Methods: methods}
	}
	return out
}
