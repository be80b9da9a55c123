package catalog

import (
	"buf.build/go/hyperpb"
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
	// parsers are the hyperpb parsers compiled so far, one per message
	// type however many methods answer with it: compiling is most of a
	// method's build time and memory.
	parsers map[protoreflect.FullName]protoreflect.MessageType
}

func newTypeResolver() *typeResolver {
	return &typeResolver{
		cache:   map[protoreflect.FullName]protoreflect.MessageType{},
		same:    map[[2]protoreflect.FileDescriptor]bool{},
		parsers: map[protoreflect.FullName]protoreflect.MessageType{},
	}
}

// responseType is the type backend responses of md are parsed with (see
// Method.Response): out when it is a generated type; for a dynamic one,
// hyperpb's parser compiled from md, once per message type.
func (r *typeResolver) responseType(md protoreflect.MessageDescriptor, out protoreflect.MessageType) protoreflect.MessageType {
	if out != dynamicpb.NewMessageType(md) {
		return out
	}
	if p, ok := r.parsers[md.FullName()]; ok {
		return p
	}
	p := hyperpb.CompileMessageDescriptor(md)
	r.parsers[md.FullName()] = p
	return p
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
