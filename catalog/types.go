package catalog

import (
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/reflect/protodesc"
	"google.golang.org/protobuf/reflect/protoreflect"
	"google.golang.org/protobuf/reflect/protoregistry"
	"google.golang.org/protobuf/types/dynamicpb"
)

// typeResolver picks the Go type for a message descriptor: the generated
// type when one is linked in and describes the same message (faster, and
// what ecosystem code expects), dynamicpb otherwise. One code path serves
// both: everything downstream works on protoreflect.
type typeResolver struct {
	// dynamicOnly never uses linked types.
	dynamicOnly bool
	cache       map[protoreflect.FullName]protoreflect.MessageType
	same        map[[2]protoreflect.FileDescriptor]bool // sameFile, computed once per pair
}

func newTypeResolver() *typeResolver {
	return &typeResolver{
		cache: map[protoreflect.FullName]protoreflect.MessageType{},
		same:  map[[2]protoreflect.FileDescriptor]bool{},
	}
}

func (r *typeResolver) messageType(md protoreflect.MessageDescriptor) (protoreflect.MessageType, error) {
	if mt, ok := r.cache[md.FullName()]; ok {
		return mt, nil
	}
	mt := protoreflect.MessageType(dynamicpb.NewMessageType(md))
	if linked, err := protoregistry.GlobalTypes.FindMessageByName(md.FullName()); err == nil && !r.dynamicOnly {
		if linked.Descriptor() == md || r.sameFile(linked.Descriptor().ParentFile(), md.ParentFile()) {
			mt = linked
		}
	}
	r.cache[md.FullName()] = mt
	return mt, nil
}

func (r *typeResolver) sameFile(a, b protoreflect.FileDescriptor) bool {
	key := [2]protoreflect.FileDescriptor{a, b}
	same, ok := r.same[key]
	if !ok {
		same = sameFile(a, b)
		r.same[key] = same
	}
	return same
}

// sameFile reports whether two file descriptors describe the same schema.
// Comparing the whole file keeps nested and referenced types consistent.
func sameFile(a, b protoreflect.FileDescriptor) bool {
	if a == b {
		return true
	}
	if a.Path() != b.Path() {
		return false
	}
	pa := protodesc.ToFileDescriptorProto(a)
	pb := protodesc.ToFileDescriptorProto(b)
	pa.SourceCodeInfo, pb.SourceCodeInfo = nil, nil
	return proto.Equal(pa, pb)
}
