package server

import (
	"sort"

	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/health"
	healthpb "google.golang.org/grpc/health/grpc_health_v1"
	"google.golang.org/grpc/reflection"
	reflectionv1 "google.golang.org/grpc/reflection/grpc_reflection_v1"
	reflectionv1alpha "google.golang.org/grpc/reflection/grpc_reflection_v1alpha"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/reflect/protoregistry"
)

// newGRPCDoor makes the gRPC door: every exposed method is served by one
// handler that decodes the request with the method's own message type and
// runs it through the same pipeline as the REST door. Health
// (grpc.health.v1) and server reflection, limited to the exposed services,
// are served beside it.
func newGRPCDoor(current func() *Snapshot, opts ...grpc.ServerOption) *grpc.Server {
	handler := func(_ any, ss grpc.ServerStream) error {
		full, _ := grpc.MethodFromServerStream(ss)
		snap := current()
		m := snap.Catalog.Methods[full]
		if m == nil {
			return status.Errorf(codes.Unimplemented, "unknown method %s", full)
		}
		if m.Streaming() {
			return snap.Pipeline.Stream(m, ss)
		}
		req := m.Input.New().Interface()
		if err := ss.RecvMsg(req); err != nil {
			return err
		}
		resp, err := snap.Pipeline.Unary(ss.Context(), m, req)
		if err != nil {
			return err
		}
		return ss.SendMsg(resp)
	}
	opts = append(opts, grpc.UnknownServiceHandler(handler))
	srv := grpc.NewServer(opts...)

	hs := health.NewServer()
	healthpb.RegisterHealthServer(srv, hs)
	snap := current()
	for _, sd := range snap.Catalog.Services {
		hs.SetServingStatus(string(sd.FullName()), healthpb.HealthCheckResponse_SERVING)
	}
	hs.SetServingStatus("", healthpb.HealthCheckResponse_SERVING)

	ropts := reflection.ServerOptions{
		Services:           exposed{srv: srv, current: current},
		DescriptorResolver: snap.Catalog.Files,
		ExtensionResolver:  protoregistry.GlobalTypes,
	}
	reflectionv1.RegisterServerReflectionServer(srv, reflection.NewServerV1(ropts))
	reflectionv1alpha.RegisterServerReflectionServer(srv, reflection.NewServer(ropts))
	return srv
}

// exposed lists, for server reflection, the exposed services plus the
// services registered on the server itself (health, reflection).
type exposed struct {
	srv     *grpc.Server
	current func() *Snapshot
}

func (e exposed) GetServiceInfo() map[string]grpc.ServiceInfo {
	out := map[string]grpc.ServiceInfo{}
	for name, info := range e.srv.GetServiceInfo() {
		out[name] = info
	}
	for _, sd := range e.current().Catalog.Services {
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
