package servertest

import (
	"errors"
	"io"
	"net"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"

	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/metadata"
	"google.golang.org/grpc/reflection"
	reflectionv1 "google.golang.org/grpc/reflection/grpc_reflection_v1"
	reflectionv1alpha "google.golang.org/grpc/reflection/grpc_reflection_v1alpha"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/reflect/protodesc"
	"google.golang.org/protobuf/reflect/protoreflect"
	"google.golang.org/protobuf/types/dynamicpb"
	"google.golang.org/protobuf/types/known/anypb"

	spb "google.golang.org/genproto/googleapis/rpc/status"
)

// Resolver finds descriptors by name (a *protoregistry.Files).
type Resolver interface {
	FindDescriptorByName(protoreflect.FullName) (protoreflect.Descriptor, error)
}

// Mirror is a backend for any API known only from descriptors: it decodes
// each request with dynamicpb and answers with the request when input and
// output types are the same, an empty response otherwise. A server stream
// gets two answers; a client stream is answered with its last message and
// the count in the x-received trailer; every answer names the method that
// ran in the x-backend-method header. Every call is counted and its
// metadata kept, so tests can tell what reached the backend.
type Mirror struct {
	files Resolver
	calls atomic.Int64
	last  atomic.Pointer[metadata.MD]
	// Addr is where it listens.
	Addr string
}

// StartMirror serves a Mirror of files on a loopback :0 port until the
// test ends.
func StartMirror(t testing.TB, files Resolver) *Mirror {
	return startMirror(t, files, nil)
}

// StartMirrorWithReflection is StartMirror with gRPC server reflection
// (v1 and v1alpha) describing reflected.
func StartMirrorWithReflection(t testing.TB, files Resolver, reflected reflection.ExtensionResolver, descs protodesc.Resolver) *Mirror {
	return startMirror(t, files, func(gs *grpc.Server) {
		opts := reflection.ServerOptions{Services: gs, DescriptorResolver: descs, ExtensionResolver: reflected}
		reflectionv1.RegisterServerReflectionServer(gs, reflection.NewServerV1(opts))
		reflectionv1alpha.RegisterServerReflectionServer(gs, reflection.NewServer(opts))
	})
}

func startMirror(t testing.TB, files Resolver, register func(*grpc.Server)) *Mirror {
	t.Helper()
	lis, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	m := &Mirror{files: files, Addr: lis.Addr().String()}
	gs := grpc.NewServer(grpc.UnknownServiceHandler(m.handle))
	if register != nil {
		register(gs)
	}
	go gs.Serve(lis)
	t.Cleanup(gs.Stop)
	return m
}

// FailKey: a unary call carrying this metadata key fails with
// FAILED_PRECONDITION, the key's value as its message and the request
// message as its one detail (a type the backend may know only from
// descriptors).
const FailKey = "x-mirror-fail"

func failWith(msg string, detail proto.Message) error {
	a, err := anypb.New(detail)
	if err != nil {
		return err
	}
	return status.FromProto(&spb.Status{Code: int32(codes.FailedPrecondition), Message: msg, Details: []*anypb.Any{a}}).Err()
}

// Calls is how many calls reached the backend.
func (m *Mirror) Calls() int64 { return m.calls.Load() }

// LastMetadata is the metadata of the last call that reached the backend.
func (m *Mirror) LastMetadata() metadata.MD {
	if md := m.last.Load(); md != nil {
		return *md
	}
	return nil
}

func (m *Mirror) handle(_ any, ss grpc.ServerStream) error {
	m.calls.Add(1)
	md, _ := metadata.FromIncomingContext(ss.Context())
	md = md.Copy()
	m.last.Store(&md)
	full, _ := grpc.MethodFromServerStream(ss)
	d, err := m.files.FindDescriptorByName(protoreflect.FullName(strings.Replace(strings.TrimPrefix(full, "/"), "/", ".", 1)))
	if err != nil {
		return status.Errorf(codes.Unimplemented, "unknown method %s", full)
	}
	desc, ok := d.(protoreflect.MethodDescriptor)
	if !ok {
		return status.Errorf(codes.Unimplemented, "%s is not a method", full)
	}
	if err := ss.SetHeader(metadata.Pairs("x-backend-method", full)); err != nil {
		return err
	}
	reply := func(in proto.Message) proto.Message {
		if desc.Input().FullName() == desc.Output().FullName() {
			return in
		}
		return dynamicpb.NewMessage(desc.Output())
	}
	recv := func() (proto.Message, error) {
		in := dynamicpb.NewMessage(desc.Input())
		return in, ss.RecvMsg(in)
	}
	switch {
	case !desc.IsStreamingClient():
		in, err := recv()
		if err != nil {
			return err
		}
		if v := md.Get(FailKey); len(v) > 0 {
			return failWith(v[0], in)
		}
		if !desc.IsStreamingServer() {
			return ss.SendMsg(reply(in))
		}
		for range 2 {
			if err := ss.SendMsg(reply(in)); err != nil {
				return err
			}
		}
		return nil
	case desc.IsStreamingServer(): // bidi
		for {
			in, err := recv()
			if errors.Is(err, io.EOF) {
				return nil
			}
			if err != nil {
				return err
			}
			if err := ss.SendMsg(reply(in)); err != nil {
				return err
			}
		}
	default: // client streaming
		last, n := proto.Message(dynamicpb.NewMessage(desc.Input())), 0
		for {
			in, err := recv()
			if errors.Is(err, io.EOF) {
				break
			}
			if err != nil {
				return err
			}
			last, n = in, n+1
		}
		ss.SetTrailer(metadata.Pairs("x-received", strconv.Itoa(n)))
		return ss.SendMsg(reply(last))
	}
}
