package grpcdoor

import (
	"sort"

	"google.golang.org/grpc"
	"google.golang.org/protobuf/reflect/protoreflect"
	"google.golang.org/protobuf/reflect/protoregistry"
)

// exposed lists, for server reflection, the exposed services of the
// current snapshot plus the services registered on the server itself
// (health, reflection).
type exposed struct {
	srv *grpc.Server
	src Snapshots
}

func (e exposed) GetServiceInfo() map[string]grpc.ServiceInfo {
	out := map[string]grpc.ServiceInfo{}
	for name, info := range e.srv.GetServiceInfo() {
		out[name] = info
	}
	for _, sd := range e.src.Current().Catalog().Services() {
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

// currentFiles resolves through the snapshot being served, so reflection
// follows reloads.
type currentFiles struct{ src Snapshots }

func (c currentFiles) FindFileByPath(path string) (protoreflect.FileDescriptor, error) {
	return c.src.Current().Reflection().FindFileByPath(path)
}

func (c currentFiles) FindDescriptorByName(name protoreflect.FullName) (protoreflect.Descriptor, error) {
	return c.src.Current().Reflection().FindDescriptorByName(name)
}

// noExtensions answers reflection's extension queries: none are listed.
type noExtensions struct{}

func (noExtensions) FindExtensionByName(protoreflect.FullName) (protoreflect.ExtensionType, error) {
	return nil, protoregistry.NotFound
}

func (noExtensions) FindExtensionByNumber(protoreflect.FullName, protoreflect.FieldNumber) (protoreflect.ExtensionType, error) {
	return nil, protoregistry.NotFound
}

func (noExtensions) RangeExtensionsByMessage(protoreflect.FullName, func(protoreflect.ExtensionType) bool) {
}
