package jsonenc

import (
	"sync"
	"testing"

	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/reflect/protodesc"
	"google.golang.org/protobuf/reflect/protoreflect"
	"google.golang.org/protobuf/reflect/protoregistry"
	"google.golang.org/protobuf/types/descriptorpb"
	"google.golang.org/protobuf/types/dynamicpb"

	// The kitchen-sink files import the well-known types.
	_ "google.golang.org/protobuf/types/known/anypb"
	_ "google.golang.org/protobuf/types/known/durationpb"
	_ "google.golang.org/protobuf/types/known/emptypb"
	_ "google.golang.org/protobuf/types/known/fieldmaskpb"
	_ "google.golang.org/protobuf/types/known/structpb"
	_ "google.golang.org/protobuf/types/known/timestamppb"
	_ "google.golang.org/protobuf/types/known/wrapperspb"
)

// The kitchen-sink messages are built at test time from descriptors so the
// tests cover every scalar kind, every map key kind, oneofs, proto3
// optional, aliases and negative enum numbers, json_name, proto2 defaults,
// required fields, groups and extensions, none of which the example APIs
// use all of.

type fieldT = descriptorpb.FieldDescriptorProto_Type

const (
	tInt32    = descriptorpb.FieldDescriptorProto_TYPE_INT32
	tInt64    = descriptorpb.FieldDescriptorProto_TYPE_INT64
	tUint32   = descriptorpb.FieldDescriptorProto_TYPE_UINT32
	tUint64   = descriptorpb.FieldDescriptorProto_TYPE_UINT64
	tSint32   = descriptorpb.FieldDescriptorProto_TYPE_SINT32
	tSint64   = descriptorpb.FieldDescriptorProto_TYPE_SINT64
	tFixed32  = descriptorpb.FieldDescriptorProto_TYPE_FIXED32
	tFixed64  = descriptorpb.FieldDescriptorProto_TYPE_FIXED64
	tSfixed32 = descriptorpb.FieldDescriptorProto_TYPE_SFIXED32
	tSfixed64 = descriptorpb.FieldDescriptorProto_TYPE_SFIXED64
	tFloat    = descriptorpb.FieldDescriptorProto_TYPE_FLOAT
	tDouble   = descriptorpb.FieldDescriptorProto_TYPE_DOUBLE
	tBool     = descriptorpb.FieldDescriptorProto_TYPE_BOOL
	tString   = descriptorpb.FieldDescriptorProto_TYPE_STRING
	tBytes    = descriptorpb.FieldDescriptorProto_TYPE_BYTES
	tEnum     = descriptorpb.FieldDescriptorProto_TYPE_ENUM
	tMessage  = descriptorpb.FieldDescriptorProto_TYPE_MESSAGE
	tGroup    = descriptorpb.FieldDescriptorProto_TYPE_GROUP

	lOpt = descriptorpb.FieldDescriptorProto_LABEL_OPTIONAL
	lRep = descriptorpb.FieldDescriptorProto_LABEL_REPEATED
	lReq = descriptorpb.FieldDescriptorProto_LABEL_REQUIRED
)

var scalarTypes = []struct {
	name string
	t    fieldT
}{
	{"i32", tInt32}, {"i64", tInt64}, {"u32", tUint32}, {"u64", tUint64},
	{"s32", tSint32}, {"s64", tSint64}, {"f32", tFixed32}, {"f64", tFixed64},
	{"sf32", tSfixed32}, {"sf64", tSfixed64}, {"fl", tFloat}, {"db", tDouble},
	{"b", tBool}, {"s", tString}, {"by", tBytes},
}

func fld(name string, num int32, label descriptorpb.FieldDescriptorProto_Label, t fieldT, typeName string) *descriptorpb.FieldDescriptorProto {
	f := &descriptorpb.FieldDescriptorProto{
		Name:   proto.String(name),
		Number: proto.Int32(num),
		Label:  label.Enum(),
		Type:   t.Enum(),
	}
	if typeName != "" {
		f.TypeName = proto.String(typeName)
	}
	return f
}

// addMap adds a map field and its entry type to msg.
func addMap(msg *descriptorpb.DescriptorProto, name string, num int32, kt fieldT, vt fieldT, vtn string) {
	entry := &descriptorpb.DescriptorProto{
		Name: proto.String(camelEntry(name)),
		Field: []*descriptorpb.FieldDescriptorProto{
			fld("key", 1, lOpt, kt, ""),
			fld("value", 2, lOpt, vt, vtn),
		},
		Options: &descriptorpb.MessageOptions{MapEntry: proto.Bool(true)},
	}
	msg.NestedType = append(msg.NestedType, entry)
	msg.Field = append(msg.Field, fld(name, num, lRep, tMessage, "."+"jsonenc.test.v3.Kitchen."+entry.GetName()))
}

func camelEntry(s string) string {
	var b []byte
	up := true
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c == '_':
			up = true
		case up && 'a' <= c && c <= 'z':
			b = append(b, c-('a'-'A'))
			up = false
		default:
			b = append(b, c)
			up = false
		}
	}
	return string(b) + "Entry"
}

func kitchenFiles() (*descriptorpb.FileDescriptorProto, *descriptorpb.FileDescriptorProto) {
	k := &descriptorpb.DescriptorProto{Name: proto.String("Kitchen")}
	n := int32(1)
	for _, st := range scalarTypes {
		k.Field = append(k.Field, fld(st.name, n, lOpt, st.t, ""))
		k.Field = append(k.Field, fld("r_"+st.name, n+100, lRep, st.t, ""))
		n++
	}
	const self = ".jsonenc.test.v3.Kitchen"
	const color = ".jsonenc.test.v3.Color"
	k.Field = append(k.Field,
		fld("color", 20, lOpt, tEnum, color),
		fld("r_color", 21, lRep, tEnum, color),
		fld("child", 22, lOpt, tMessage, self),
		fld("r_child", 23, lRep, tMessage, self),
	)
	// A real oneof, then proto3 optional fields with their synthetic oneofs.
	k.OneofDecl = append(k.OneofDecl, &descriptorpb.OneofDescriptorProto{Name: proto.String("choice")})
	for i, f := range []*descriptorpb.FieldDescriptorProto{
		fld("o_s", 30, lOpt, tString, ""),
		fld("o_i64", 31, lOpt, tInt64, ""),
		fld("o_msg", 32, lOpt, tMessage, self),
		fld("o_color", 33, lOpt, tEnum, color),
	} {
		_ = i
		f.OneofIndex = proto.Int32(0)
		k.Field = append(k.Field, f)
	}
	for i, f := range []*descriptorpb.FieldDescriptorProto{
		fld("opt_i32", 40, lOpt, tInt32, ""),
		fld("opt_s", 41, lOpt, tString, ""),
		fld("opt_color", 42, lOpt, tEnum, color),
		fld("opt_db", 43, lOpt, tDouble, ""),
	} {
		f.Proto3Optional = proto.Bool(true)
		f.OneofIndex = proto.Int32(int32(1 + i))
		k.OneofDecl = append(k.OneofDecl, &descriptorpb.OneofDescriptorProto{Name: proto.String("_" + f.GetName())})
		k.Field = append(k.Field, f)
	}
	custom := fld("custom_named", 44, lOpt, tString, "")
	custom.JsonName = proto.String("my-Custom name")
	k.Field = append(k.Field, custom)
	addMap(k, "m_si", 50, tString, tInt32, "")
	addMap(k, "m_is", 51, tInt32, tString, "")
	addMap(k, "m_ik", 52, tInt64, tMessage, self)
	addMap(k, "m_uc", 53, tUint32, tEnum, color)
	addMap(k, "m_ub", 54, tUint64, tBytes, "")
	addMap(k, "m_bd", 55, tBool, tDouble, "")
	addMap(k, "m_sf", 56, tSint32, tFloat, "")
	addMap(k, "m_f64", 57, tFixed64, tString, "")
	addMap(k, "m_sf32", 58, tSfixed32, tBool, "")
	addMap(k, "m_sv", 59, tString, tMessage, ".google.protobuf.Value")
	addMap(k, "m_st", 60, tString, tMessage, ".google.protobuf.Timestamp")
	addMap(k, "m_s64", 61, tSint64, tInt64, "")
	addMap(k, "m_sf64", 62, tSfixed64, tUint64, "")
	addMap(k, "m_f32", 63, tFixed32, tSint64, "")
	for i, w := range []string{"Timestamp", "Duration", "Any", "Struct", "Value", "ListValue",
		"FieldMask", "Empty", "Int64Value", "UInt64Value", "Int32Value", "UInt32Value",
		"BoolValue", "StringValue", "BytesValue", "FloatValue", "DoubleValue"} {
		k.Field = append(k.Field,
			fld("w_"+w, int32(70+i), lOpt, tMessage, ".google.protobuf."+w),
			fld("rw_"+w, int32(170+i), lRep, tMessage, ".google.protobuf."+w))
	}
	k.Field = append(k.Field,
		fld("null", 90, lOpt, tEnum, ".google.protobuf.NullValue"),
		fld("r_null", 91, lRep, tEnum, ".google.protobuf.NullValue"))

	colorEnum := &descriptorpb.EnumDescriptorProto{
		Name: proto.String("Color"),
		Value: []*descriptorpb.EnumValueDescriptorProto{
			{Name: proto.String("COLOR_UNSPECIFIED"), Number: proto.Int32(0)},
			{Name: proto.String("RED"), Number: proto.Int32(1)},
			{Name: proto.String("CRIMSON"), Number: proto.Int32(1)},
			{Name: proto.String("NEGATIVE"), Number: proto.Int32(-5)},
			{Name: proto.String("BIG"), Number: proto.Int32(100000)},
			{Name: proto.String("EDGE"), Number: proto.Int32(255)},
			{Name: proto.String("PAST_EDGE"), Number: proto.Int32(256)},
		},
		Options: &descriptorpb.EnumOptions{AllowAlias: proto.Bool(true)},
	}
	v3 := &descriptorpb.FileDescriptorProto{
		Name:    proto.String("jsonenc/test/v3.proto"),
		Package: proto.String("jsonenc.test.v3"),
		Syntax:  proto.String("proto3"),
		Dependency: []string{
			"google/protobuf/any.proto", "google/protobuf/duration.proto",
			"google/protobuf/empty.proto", "google/protobuf/field_mask.proto",
			"google/protobuf/struct.proto", "google/protobuf/timestamp.proto",
			"google/protobuf/wrappers.proto",
		},
		MessageType: []*descriptorpb.DescriptorProto{k},
		EnumType:    []*descriptorpb.EnumDescriptorProto{colorEnum},
	}

	const legacy = ".jsonenc.test.v2.Legacy"
	l := &descriptorpb.DescriptorProto{
		Name: proto.String("Legacy"),
		Field: []*descriptorpb.FieldDescriptorProto{
			withDefault(fld("a", 1, lOpt, tInt32, ""), "7"),
			withDefault(fld("s", 2, lOpt, tString, ""), "hi"),
			fld("req", 3, lReq, tInt64, ""),
			fld("nums", 4, lRep, tInt32, ""),
			fld("grp", 5, lOpt, tGroup, legacy+".Grp"),
			fld("child", 7, lOpt, tMessage, legacy),
			withDefault(fld("e", 8, lOpt, tEnum, ".jsonenc.test.v2.Level"), "HIGH"),
			withDefault(fld("d", 9, lOpt, tDouble, ""), "inf"),
			fld("by", 10, lOpt, tBytes, ""),
			fld("rgrp", 11, lRep, tGroup, legacy+".RGrp"),
		},
		NestedType: []*descriptorpb.DescriptorProto{
			{Name: proto.String("Grp"), Field: []*descriptorpb.FieldDescriptorProto{fld("x", 6, lOpt, tInt32, "")}},
			{Name: proto.String("RGrp"), Field: []*descriptorpb.FieldDescriptorProto{fld("y", 12, lOpt, tString, "")}},
		},
		ExtensionRange: []*descriptorpb.DescriptorProto_ExtensionRange{{Start: proto.Int32(100), End: proto.Int32(200)}},
	}
	v2 := &descriptorpb.FileDescriptorProto{
		Name:        proto.String("jsonenc/test/v2.proto"),
		Package:     proto.String("jsonenc.test.v2"),
		Syntax:      proto.String("proto2"),
		MessageType: []*descriptorpb.DescriptorProto{l},
		EnumType: []*descriptorpb.EnumDescriptorProto{{
			Name: proto.String("Level"),
			Value: []*descriptorpb.EnumValueDescriptorProto{
				{Name: proto.String("LOW"), Number: proto.Int32(1)},
				{Name: proto.String("HIGH"), Number: proto.Int32(2)},
			},
		}},
		Extension: []*descriptorpb.FieldDescriptorProto{
			extendee(fld("ext_s", 100, lOpt, tString, ""), legacy),
			extendee(fld("ext_child", 101, lOpt, tMessage, legacy), legacy),
		},
	}
	return v3, v2
}

func withDefault(f *descriptorpb.FieldDescriptorProto, d string) *descriptorpb.FieldDescriptorProto {
	f.DefaultValue = proto.String(d)
	return f
}

func extendee(f *descriptorpb.FieldDescriptorProto, e string) *descriptorpb.FieldDescriptorProto {
	f.Extendee = proto.String(e)
	return f
}

// kitchen holds the built kitchen-sink descriptors.
var kitchen struct {
	once     sync.Once
	sink     protoreflect.MessageDescriptor // proto3 Kitchen
	legacy   protoreflect.MessageDescriptor // proto2 Legacy
	exts     []protoreflect.ExtensionType
	buildErr error
}

func kitchenDescs(t testing.TB) (sink, legacy protoreflect.MessageDescriptor, exts []protoreflect.ExtensionType) {
	kitchen.once.Do(func() {
		v3, v2 := kitchenFiles()
		f3, err := protodesc.NewFile(v3, protoregistry.GlobalFiles)
		if err != nil {
			kitchen.buildErr = err
			return
		}
		f2, err := protodesc.NewFile(v2, protoregistry.GlobalFiles)
		if err != nil {
			kitchen.buildErr = err
			return
		}
		kitchen.sink = f3.Messages().ByName("Kitchen")
		kitchen.legacy = f2.Messages().ByName("Legacy")
		for i := 0; i < f2.Extensions().Len(); i++ {
			kitchen.exts = append(kitchen.exts, dynamicpb.NewExtensionType(f2.Extensions().Get(i)))
		}
	})
	if kitchen.buildErr != nil {
		t.Fatalf("building kitchen-sink descriptors: %v", kitchen.buildErr)
	}
	return kitchen.sink, kitchen.legacy, kitchen.exts
}
