package jsonenc

import (
	"testing"

	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/reflect/protodesc"
	"google.golang.org/protobuf/types/descriptorpb"
	"google.golang.org/protobuf/types/dynamicpb"
	"google.golang.org/protobuf/types/known/durationpb"

	bookstorev1 "github.com/portico-gw/portico/gen/example/bookstore/v1"
)

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
	f.Fuzz(func(t *testing.T, data []byte) {
		lbr := &bookstorev1.ListBooksResponse{}
		if proto.Unmarshal(data, lbr) == nil {
			diff(t, e, lbr)
		}
		fdp := &descriptorpb.FileDescriptorProto{}
		if (proto.UnmarshalOptions{AllowPartial: true}).Unmarshal(data, fdp) == nil {
			diff(t, e, fdp)
		}
		k := dynamicpb.NewMessage(sink)
		if proto.Unmarshal(data, k) == nil {
			diff(t, e, k)
		}
	})
}
