package codec

import (
	"strings"
	"testing"

	"google.golang.org/protobuf/encoding/protojson"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/reflect/protodesc"
	"google.golang.org/protobuf/reflect/protoreflect"
	"google.golang.org/protobuf/types/descriptorpb"
	"google.golang.org/protobuf/types/dynamicpb"
	"google.golang.org/protobuf/types/known/structpb"
)

// TestCheckDepthMatchesDecode: CheckDepth refuses exactly the messages
// whose wire bytes Decode refuses for their nesting, for nested messages,
// lists of messages, maps of messages (Struct) and maps of scalars.
func TestCheckDepthMatchesDecode(t *testing.T) {
	shapes := map[string]func(n int) string{
		"struct": func(n int) string { return strings.Repeat(`{"a":`, n) + "1" + strings.Repeat("}", n) },
		"list":   func(n int) string { return `{"a":` + strings.Repeat("[", n) + "1" + strings.Repeat("]", n) + "}" },
	}
	nested := func(n int) proto.Message {
		m := &descriptorpb.DescriptorProto{Name: proto.String("x")}
		top := m
		for i := 0; i < n; i++ {
			c := &descriptorpb.DescriptorProto{Options: &descriptorpb.MessageOptions{UninterpretedOption: []*descriptorpb.UninterpretedOption{{}}}}
			m.NestedType = []*descriptorpb.DescriptorProto{c}
			m = c
		}
		return top
	}
	for _, limit := range []int{0, 10, 64} {
		for n := 1; n < 140; n++ {
			var msgs = map[string]proto.Message{"nested": nested(n)}
			for name, shape := range shapes {
				var s structpb.Struct
				if err := (protojson.UnmarshalOptions{RecursionLimit: 10000}).Unmarshal([]byte(shape(n)), &s); err != nil {
					t.Fatalf("%s %d: %v", name, n, err)
				}
				msgs[name] = &s
			}
			msgs["scalar map"] = mapNested(t, n)
			for name, m := range msgs {
				b, err := proto.Marshal(m)
				if err != nil {
					t.Fatal(err)
				}
				decodeErr := Decode(b, m.ProtoReflect().New().Interface(), limit)
				checkErr := CheckDepth(m.ProtoReflect(), limit)
				if (decodeErr == nil) != (checkErr == nil) {
					t.Fatalf("%s, %d levels, limit %d: Decode %v, CheckDepth %v", name, n, limit, decodeErr, checkErr)
				}
				if checkErr != nil && checkErr.Error() != decodeErr.Error() {
					t.Fatalf("%s: CheckDepth says %q, Decode %q", name, checkErr, decodeErr)
				}
			}
		}
	}
}

// mapNested is n levels of message M { map<string, string> m = 1; M child = 2; }
// with an entry in the deepest map.
func mapNested(t *testing.T, n int) proto.Message {
	t.Helper()
	label, opt := descriptorpb.FieldDescriptorProto_LABEL_OPTIONAL, descriptorpb.FieldDescriptorProto_LABEL_REPEATED
	str, msg := descriptorpb.FieldDescriptorProto_TYPE_STRING, descriptorpb.FieldDescriptorProto_TYPE_MESSAGE
	fd, err := protodesc.NewFile(&descriptorpb.FileDescriptorProto{
		Name: proto.String("depth.proto"), Package: proto.String("depth"), Syntax: proto.String("proto3"),
		MessageType: []*descriptorpb.DescriptorProto{{
			Name: proto.String("M"),
			Field: []*descriptorpb.FieldDescriptorProto{
				{Name: proto.String("m"), Number: proto.Int32(1), Label: &opt, Type: &msg, TypeName: proto.String(".depth.M.MEntry"), JsonName: proto.String("m")},
				{Name: proto.String("child"), Number: proto.Int32(2), Label: &label, Type: &msg, TypeName: proto.String(".depth.M"), JsonName: proto.String("child")},
			},
			NestedType: []*descriptorpb.DescriptorProto{{
				Name:    proto.String("MEntry"),
				Options: &descriptorpb.MessageOptions{MapEntry: proto.Bool(true)},
				Field: []*descriptorpb.FieldDescriptorProto{
					{Name: proto.String("key"), Number: proto.Int32(1), Label: &label, Type: &str, JsonName: proto.String("key")},
					{Name: proto.String("value"), Number: proto.Int32(2), Label: &label, Type: &str, JsonName: proto.String("value")},
				},
			}},
		}},
	}, nil)
	if err != nil {
		t.Fatal(err)
	}
	md := fd.Messages().Get(0)
	top := dynamicpb.NewMessage(md)
	m := top
	for i := 1; i < n; i++ {
		c := dynamicpb.NewMessage(md)
		m.Set(md.Fields().ByName("child"), protoreflect.ValueOfMessage(c))
		m = c
	}
	m.Mutable(md.Fields().ByName("m")).Map().Set(protoreflect.ValueOfString("k").MapKey(), protoreflect.ValueOfString("v"))
	return top
}

// FuzzCheckDepthMatchesDecode: for any Struct (any nesting of maps,
// lists and values) and any limit, CheckDepth refuses exactly what
// Decode refuses for its nesting.
func FuzzCheckDepthMatchesDecode(f *testing.F) {
	f.Add([]byte(`{"a":{"b":[1,[2,{"c":null}]]}}`), uint8(7))
	f.Add([]byte(`{"a":[[[[[[[[[[1]]]]]]]]]]}`), uint8(20))
	f.Add([]byte(`{"":{"":{"":{}}}}`), uint8(9))
	f.Fuzz(func(t *testing.T, j []byte, lim uint8) {
		var s structpb.Struct
		if (protojson.UnmarshalOptions{RecursionLimit: 10000}).Unmarshal(j, &s) != nil {
			return
		}
		b, err := proto.Marshal(&s)
		if err != nil {
			return
		}
		limit := int(lim)
		decodeErr := Decode(b, &structpb.Struct{}, limit)
		if decodeErr != nil && decodeErr.Error() != ErrTooDeep.Error() {
			t.Fatalf("Decode refused for another reason: %v", decodeErr)
		}
		if checkErr := CheckDepth(s.ProtoReflect(), limit); (checkErr == nil) != (decodeErr == nil) {
			t.Fatalf("limit %d, %s: Decode %v, CheckDepth %v", limit, j, decodeErr, checkErr)
		}
	})
}
