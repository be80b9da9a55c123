package jsonenc

import (
	"testing"

	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/reflect/protodesc"
	"google.golang.org/protobuf/types/descriptorpb"
	"google.golang.org/protobuf/types/dynamicpb"
	"google.golang.org/protobuf/types/known/durationpb"

	"github.com/portico-gw/portico/codec"
	bookstorev1 "github.com/portico-gw/portico/gen/example/bookstore/v1"
	"google.golang.org/protobuf/encoding/protowire"
	"google.golang.org/protobuf/reflect/protoreflect"
)

// mapEntryPanic is the input that made protobuf-go panic ("type mismatch:
// cannot convert nil to map key") on the first string-keyed map field of
// md: an entry that repeats its key field as a varint.
func mapEntryPanic(md protoreflect.MessageDescriptor) []byte {
	fields := md.Fields()
	for i := 0; i < fields.Len(); i++ {
		fd := fields.Get(i)
		if fd.IsMap() && fd.MapKey().Kind() == protoreflect.StringKind {
			b := protowire.AppendTag(nil, fd.Number(), protowire.BytesType)
			return protowire.AppendBytes(b, []byte{0x0a, 0x01, 0x61, 0x08, 0x00})
		}
	}
	return nil
}

// FuzzAppend unmarshals the input as a bookstore ListBooksResponse, as a
// descriptorpb.FileDescriptorProto and as the dynamic kitchen-sink message;
// for each that unmarshals, Append and protojson must agree: both fail, or
// both succeed with identical output once protojson's is compacted.
func FuzzAppend(f *testing.F) {
	seed, _ := proto.Marshal(listResponse(3))
	f.Add(seed)
	seed, _ = proto.Marshal(protodesc.ToFileDescriptorProto(durationpb.File_google_protobuf_duration_proto))
	f.Add(seed)
	f.Add([]byte{})
	e := New()
	sink, _, _ := kitchenDescs(f)
	f.Add(mapEntryPanic(sink))
	f.Fuzz(func(t *testing.T, data []byte) {
		lbr := &bookstorev1.ListBooksResponse{}
		if proto.Unmarshal(data, lbr) == nil {
			diff(t, e, lbr)
		}
		fdp := &descriptorpb.FileDescriptorProto{}
		if (proto.UnmarshalOptions{AllowPartial: true}).Unmarshal(data, fdp) == nil {
			diff(t, e, fdp)
		}
		// Guarded: protobuf-go's slow path panics on some malformed map
		// entries of dynamic messages (the gateway decodes with the same
		// guard).
		k := dynamicpb.NewMessage(sink)
		if codec.Decode(data, k, 10000) == nil {
			diff(t, e, k)
		}
	})
}
