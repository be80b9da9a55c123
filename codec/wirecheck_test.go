package codec_test

import (
	"testing"

	"github.com/portico-gw/portico/codec"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/reflect/protodesc"
	"google.golang.org/protobuf/reflect/protoreflect"
	"google.golang.org/protobuf/types/descriptorpb"
	"google.golang.org/protobuf/types/dynamicpb"
	"google.golang.org/protobuf/types/known/structpb"
)

// checkDescs are the messages Check is held to proto.Unmarshal on: a
// proto3 message with every wire shape (maps with string, int and message
// values, packed and unpacked repeated scalars, strings, bytes, nesting,
// a oneof), and Struct / Value, whose maps made protobuf-go panic.
func checkDescs(t testing.TB) []protoreflect.MessageDescriptor {
	t.Helper()
	opt := descriptorpb.FieldDescriptorProto_LABEL_OPTIONAL.Enum()
	rep := descriptorpb.FieldDescriptorProto_LABEL_REPEATED.Enum()
	f := func(name string, num int32, typ descriptorpb.FieldDescriptorProto_Type, label *descriptorpb.FieldDescriptorProto_Label, typeName string) *descriptorpb.FieldDescriptorProto {
		fd := &descriptorpb.FieldDescriptorProto{Name: proto.String(name), JsonName: proto.String(name), Number: proto.Int32(num), Type: typ.Enum(), Label: label}
		if typeName != "" {
			fd.TypeName = proto.String(typeName)
		}
		return fd
	}
	entry := func(name string, val descriptorpb.FieldDescriptorProto_Type, valType string) *descriptorpb.DescriptorProto {
		return &descriptorpb.DescriptorProto{
			Name:    proto.String(name),
			Options: &descriptorpb.MessageOptions{MapEntry: proto.Bool(true)},
			Field:   []*descriptorpb.FieldDescriptorProto{f("key", 1, descriptorpb.FieldDescriptorProto_TYPE_STRING, opt, ""), f("value", 2, val, opt, valType)},
		}
	}
	fdp := &descriptorpb.FileDescriptorProto{
		Name: proto.String("check.proto"), Package: proto.String("check"), Syntax: proto.String("proto3"),
		MessageType: []*descriptorpb.DescriptorProto{{
			Name: proto.String("M"),
			Field: []*descriptorpb.FieldDescriptorProto{
				f("s", 1, descriptorpb.FieldDescriptorProto_TYPE_STRING, opt, ""),
				f("b", 2, descriptorpb.FieldDescriptorProto_TYPE_BYTES, opt, ""),
				f("i", 3, descriptorpb.FieldDescriptorProto_TYPE_INT64, opt, ""),
				f("packed", 4, descriptorpb.FieldDescriptorProto_TYPE_SINT32, rep, ""),
				f("fixed", 5, descriptorpb.FieldDescriptorProto_TYPE_FIXED64, rep, ""),
				f("child", 6, descriptorpb.FieldDescriptorProto_TYPE_MESSAGE, opt, ".check.M"),
				f("children", 7, descriptorpb.FieldDescriptorProto_TYPE_MESSAGE, rep, ".check.M"),
				f("labels", 8, descriptorpb.FieldDescriptorProto_TYPE_MESSAGE, rep, ".check.M.LabelsEntry"),
				f("kids", 9, descriptorpb.FieldDescriptorProto_TYPE_MESSAGE, rep, ".check.M.KidsEntry"),
				f("names", 10, descriptorpb.FieldDescriptorProto_TYPE_STRING, rep, ""),
				f("d", 11, descriptorpb.FieldDescriptorProto_TYPE_DOUBLE, opt, ""),
			},
			NestedType: []*descriptorpb.DescriptorProto{
				entry("LabelsEntry", descriptorpb.FieldDescriptorProto_TYPE_STRING, ""),
				entry("KidsEntry", descriptorpb.FieldDescriptorProto_TYPE_MESSAGE, ".check.M"),
			},
		}},
	}
	fd, err := protodesc.NewFile(fdp, nil)
	if err != nil {
		t.Fatal(err)
	}
	return []protoreflect.MessageDescriptor{
		fd.Messages().Get(0),
		(&structpb.Struct{}).ProtoReflect().Descriptor(),
		(&structpb.Value{}).ProtoReflect().Descriptor(),
	}
}

func TestCheck(t *testing.T) {
	descs := checkDescs(t)
	m := descs[0]
	good := dynamicpb.NewMessage(m)
	good.Set(m.Fields().ByName("s"), protoreflect.ValueOfString("héllo"))
	good.Mutable(m.Fields().ByName("packed")).List().Append(protoreflect.ValueOfInt32(-7))
	good.Mutable(m.Fields().ByName("labels")).Map().Set(protoreflect.MapKey(protoreflect.ValueOfString("k")), protoreflect.ValueOfString("v"))
	child := good.Mutable(m.Fields().ByName("child")).Message()
	child.Set(m.Fields().ByName("i"), protoreflect.ValueOfInt64(3))
	b, err := proto.Marshal(good)
	if err != nil {
		t.Fatal(err)
	}
	if err := codec.Check(b, m, 0); err != nil {
		t.Errorf("a well-formed message: %v", err)
	}
	deep := structpb.NewStringValue("x")
	for i := 0; i < 200; i++ {
		deep = structpb.NewListValue(&structpb.ListValue{Values: []*structpb.Value{deep}})
	}
	deepBytes, _ := proto.Marshal(deep)
	for name, tc := range map[string]struct {
		b  []byte
		md protoreflect.MessageDescriptor
	}{
		"truncated":                {b[:len(b)-1], m},
		"bad varint":               {[]byte{0x18, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff}, m},
		"length past the end":      {[]byte{0x0a, 0x05, 'a'}, m},
		"field number 0":           {[]byte{0x00, 0x01}, m},
		"invalid UTF-8":            {[]byte{0x0a, 0x02, 0xff, 0xfe}, m},
		"map key as a varint":      {[]byte{0x42, 0x05, 0x0a, 0x01, 0x61, 0x08, 0x00}, m},
		"Struct map key as varint": {[]byte{0x0a, 0x05, 0x0a, 0x01, 0x61, 0x08, 0x00}, descs[1]},
		"nested too deep":          {deepBytes, descs[2]},
		"malformed nested message": {[]byte{0x32, 0x02, 0x18, 0xff}, m},
		"unterminated group":       {[]byte{0x63, 0x08, 0x01}, m},
		"malformed packed varints": {[]byte{0x22, 0x02, 0x80, 0x80}, m},
	} {
		if err := codec.Check(tc.b, tc.md, 0); status.Code(err) != codes.InvalidArgument {
			t.Errorf("%s: got %v, want InvalidArgument", name, err)
		}
	}
}

// FuzzCheck: whatever the bytes, Check does not panic, and a message it
// accepts is one protobuf-go parses (into a message known only from its
// descriptor, the gateway's case).
func FuzzCheck(f *testing.F) {
	descs := checkDescs(f)
	for _, s := range [][]byte{
		{0x0a, 0x02, 'h', 'i'}, {0x42, 0x06, 0x0a, 0x01, 'k', 0x12, 0x01, 'v'}, {0x22, 0x02, 0x01, 0x02},
		{0x42, 0x05, 0x0a, 0x01, 0x61, 0x08, 0x00}, {0x4a, 0x07, 0x0a, 0x01, 'k', 0x12, 0x02, 0x18, 0x01},
		{0x63, 0x08, 0x01, 0x64}, {0x32, 0x04, 0x32, 0x02, 0x18, 0x01},
	} {
		for i := range descs {
			f.Add(uint8(i), s)
		}
	}
	f.Fuzz(func(t *testing.T, which uint8, b []byte) {
		md := descs[int(which)%len(descs)]
		if codec.Check(b, md, 0) != nil {
			return
		}
		if err := codec.Decode(b, dynamicpb.NewMessage(md), 0); err != nil {
			t.Fatalf("%s: Check accepts % x, protobuf-go does not: %v", md.FullName(), b, err)
		}
	})
}
