package grpcbackend

import (
	"context"
	"fmt"

	"github.com/jhump/protoreflect/v2/grpcreflect"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/reflect/protodesc"
	"google.golang.org/protobuf/reflect/protoreflect"
	"google.golang.org/protobuf/types/descriptorpb"
)

// Discover fetches, from the backend's own gRPC server reflection (v1,
// falling back to v1alpha), the files that define services, with every
// file they import, dependencies first. A backend that does not serve
// reflection, is down, or does not know a service is an error that says
// which.
func (i *Integration) Discover(ctx context.Context, services []string) ([]*descriptorpb.FileDescriptorProto, error) {
	conn, err := i.discoverConn()
	if err != nil {
		return nil, fmt.Errorf("discover: %v", err)
	}
	defer conn.Close()
	client := grpcreflect.NewClientAuto(ctx, conn)
	defer client.Reset()
	seen := map[string]bool{}
	var out []*descriptorpb.FileDescriptorProto
	var add func(fd protoreflect.FileDescriptor)
	add = func(fd protoreflect.FileDescriptor) {
		if seen[fd.Path()] {
			return
		}
		seen[fd.Path()] = true
		imps := fd.Imports()
		for j := 0; j < imps.Len(); j++ {
			add(imps.Get(j).FileDescriptor)
		}
		out = append(out, protodesc.ToFileDescriptorProto(fd))
	}
	for _, svc := range services {
		fd, err := client.FileContainingSymbol(protoreflect.FullName(svc))
		if err != nil {
			return nil, discoverError(svc, err)
		}
		if name := protoreflect.FullName(svc); fd.Package() != name.Parent() || fd.Services().ByName(name.Name()) == nil {
			return nil, fmt.Errorf("discover: %s is not a service of the backend", svc)
		}
		add(fd)
	}
	return out, nil
}

// discoverError says why a service could not be discovered.
func discoverError(svc string, err error) error {
	switch status.Code(err) {
	case codes.Unimplemented:
		return fmt.Errorf("discover: the backend does not serve gRPC server reflection (grpc.reflection.v1 or v1alpha)")
	case codes.Unavailable, codes.DeadlineExceeded:
		return fmt.Errorf("discover: cannot reach the backend: %v", status.Convert(err).Message())
	}
	if grpcreflect.IsElementNotFoundError(err) || status.Code(err) == codes.NotFound {
		return fmt.Errorf("discover: the backend's reflection does not know service %s", svc)
	}
	return fmt.Errorf("discover: service %s: %v", svc, err)
}
