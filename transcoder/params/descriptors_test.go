package params_test

import (
	"sync"
	"testing"

	"github.com/portico-gw/portico/catalog"

	bookstorev1 "github.com/portico-gw/portico/gen/example/bookstore/v1"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/reflect/protodesc"
	"google.golang.org/protobuf/reflect/protoreflect"
	"google.golang.org/protobuf/reflect/protoregistry"
	"google.golang.org/protobuf/types/descriptorpb"
	"google.golang.org/protobuf/types/dynamicpb"
)

// variant makes an empty message of one type in one representation.
type variant struct {
	name string
	new  func() protoreflect.Message
}

// bookstoreVariants are ListBooksRequest as the generated type, as dynamicpb
// over the generated descriptors, and as dynamicpb over descriptors loaded
// from a descriptor set (nothing of which is in the global registries).
func bookstoreVariants(t testing.TB) []variant {
	t.Helper()
	generated := (&bookstorev1.ListBooksRequest{}).ProtoReflect().Descriptor()
	loaded := loadedMessage(t, generated.ParentFile(), generated.FullName())
	return []variant{
		{"generated", func() protoreflect.Message { return (&bookstorev1.ListBooksRequest{}).ProtoReflect() }},
		{"dynamic", func() protoreflect.Message { return dynamicpb.NewMessage(generated) }},
		{"loaded", func() protoreflect.Message { return dynamicpb.NewMessage(loaded) }},
	}
}

var (
	loadedOnce  sync.Once
	loadedFiles *protoregistry.Files
	loadedErr   error
)

// loadedMessage finds name in a descriptor-only copy of file and all its
// dependencies, as a gateway would see them after loading `buf build -o`.
func loadedMessage(t testing.TB, file protoreflect.FileDescriptor, name protoreflect.FullName) protoreflect.MessageDescriptor {
	t.Helper()
	loadedOnce.Do(func() {
		set := catalog.DescriptorSet(file)
		loadedFiles, loadedErr = protodesc.NewFiles(set)
	})
	if loadedErr != nil {
		t.Fatalf("loading descriptor set: %v", loadedErr)
	}
	d, err := loadedFiles.FindDescriptorByName(name)
	if err != nil {
		t.Fatalf("FindDescriptorByName(%q): %v", name, err)
	}
	md := d.(protoreflect.MessageDescriptor)
	if md == file.Messages().ByName(name.Name()) {
		t.Fatalf("loaded descriptor of %s is the generated one", name)
	}
	return md
}

// Field shorthands for the test descriptors.
func field(name string, num int32, typ descriptorpb.FieldDescriptorProto_Type, typeName string) *descriptorpb.FieldDescriptorProto {
	f := &descriptorpb.FieldDescriptorProto{
		Name:   proto.String(name),
		Number: proto.Int32(num),
		Type:   typ.Enum(),
		Label:  descriptorpb.FieldDescriptorProto_LABEL_OPTIONAL.Enum(),
	}
	if typeName != "" {
		f.TypeName = proto.String(typeName)
	}
	return f
}

func repeated(f *descriptorpb.FieldDescriptorProto) *descriptorpb.FieldDescriptorProto {
	f.Label = descriptorpb.FieldDescriptorProto_LABEL_REPEATED.Enum()
	return f
}

func inOneof(f *descriptorpb.FieldDescriptorProto, index int32) *descriptorpb.FieldDescriptorProto {
	f.OneofIndex = proto.Int32(index)
	return f
}

// mapField adds a map field and its entry message to msg.
func mapField(msg *descriptorpb.DescriptorProto, name string, num int32, entry string,
	key descriptorpb.FieldDescriptorProto_Type, val descriptorpb.FieldDescriptorProto_Type, valType string) {
	msg.NestedType = append(msg.NestedType, &descriptorpb.DescriptorProto{
		Name: proto.String(entry),
		Field: []*descriptorpb.FieldDescriptorProto{
			field("key", 1, key, ""),
			field("value", 2, val, valType),
		},
		Options: &descriptorpb.MessageOptions{MapEntry: proto.Bool(true)},
	})
	msg.Field = append(msg.Field, repeated(field(name, num, descriptorpb.FieldDescriptorProto_TYPE_MESSAGE, "."+string(kindsPackage)+".Kinds."+entry)))
}

const (
	kindsPackage  protoreflect.FullName = "params.test"
	legacyPackage protoreflect.FullName = "params.legacy"
)

var (
	testFilesOnce sync.Once
	kindsFile     protoreflect.FileDescriptor
	legacyFile    protoreflect.FileDescriptor
	testFilesErr  error
)

// testFiles builds, from descriptorpb, a proto3 file with every kind the
// bookstore lacks (message params.test.Kinds) and a proto2 file with a
// closed enum (message params.legacy.Legacy). Neither is registered anywhere.
func testFiles(t testing.TB) (kinds, legacy protoreflect.FileDescriptor) {
	t.Helper()
	testFilesOnce.Do(func() {
		const (
			tBytes    = descriptorpb.FieldDescriptorProto_TYPE_BYTES
			tString   = descriptorpb.FieldDescriptorProto_TYPE_STRING
			tBool     = descriptorpb.FieldDescriptorProto_TYPE_BOOL
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
			tMessage  = descriptorpb.FieldDescriptorProto_TYPE_MESSAGE
			tEnum     = descriptorpb.FieldDescriptorProto_TYPE_ENUM
		)
		kinds := &descriptorpb.DescriptorProto{
			Name: proto.String("Kinds"),
			Field: []*descriptorpb.FieldDescriptorProto{
				field("b", 1, tBytes, ""),
				field("u64", 2, tUint64, ""),
				field("u32", 3, tUint32, ""),
				field("i64", 4, tInt64, ""),
				field("s32", 5, tSint32, ""),
				field("s64", 6, tSint64, ""),
				field("f32", 7, tFixed32, ""),
				field("f64", 8, tFixed64, ""),
				field("sf32", 9, tSfixed32, ""),
				field("sf64", 10, tSfixed64, ""),
				field("fl", 11, tFloat, ""),
				repeated(field("rb", 12, tBytes, "")),
				inOneof(field("name", 18, tString, ""), 0),
				inOneof(field("number", 19, tInt32, ""), 0),
				inOneof(field("inner", 20, tMessage, ".params.test.Inner"), 0),
				inOneof(field("boxed", 21, tMessage, ".google.protobuf.Int32Value"), 0),
				field("inner_plain", 22, tMessage, ".params.test.Inner"),
				field("w_double", 23, tMessage, ".google.protobuf.DoubleValue"),
				field("w_float", 24, tMessage, ".google.protobuf.FloatValue"),
				field("w_i64", 25, tMessage, ".google.protobuf.Int64Value"),
				field("w_u64", 26, tMessage, ".google.protobuf.UInt64Value"),
				field("w_i32", 27, tMessage, ".google.protobuf.Int32Value"),
				field("w_u32", 28, tMessage, ".google.protobuf.UInt32Value"),
				field("w_bool", 29, tMessage, ".google.protobuf.BoolValue"),
				field("w_string", 30, tMessage, ".google.protobuf.StringValue"),
				field("w_bytes", 31, tMessage, ".google.protobuf.BytesValue"),
				field("st", 32, tMessage, ".google.protobuf.Struct"),
				field("val", 33, tMessage, ".google.protobuf.Value"),
				field("lv", 34, tMessage, ".google.protobuf.ListValue"),
				field("empty", 35, tMessage, ".google.protobuf.Empty"),
				repeated(field("rts", 36, tMessage, ".google.protobuf.Timestamp")),
				func() *descriptorpb.FieldDescriptorProto {
					f := inOneof(field("opt", 37, tInt32, ""), 1)
					f.Proto3Optional = proto.Bool(true)
					return f
				}(),
				repeated(field("inners", 38, tMessage, ".params.test.Inner")),
				field("color", 39, tEnum, ".params.test.Color"),
				field("any", 40, tMessage, ".google.protobuf.Any"),
				func() *descriptorpb.FieldDescriptorProto {
					f := field("custom", 42, tInt32, "")
					f.JsonName = proto.String("renamed")
					return f
				}(),
				repeated(field("multi_word", 43, tString, "")),
				repeated(field("colors_list", 44, tEnum, ".params.test.Color")),
				field("ok", 45, tBool, ""),
			},
			OneofDecl: []*descriptorpb.OneofDescriptorProto{{Name: proto.String("choice")}, {Name: proto.String("_opt")}},
		}
		mapField(kinds, "labels", 13, "LabelsEntry", tString, descriptorpb.FieldDescriptorProto_TYPE_INT32, "")
		mapField(kinds, "by_id", 14, "ByIdEntry", tInt64, tString, "")
		mapField(kinds, "by_flag", 15, "ByFlagEntry", tBool, tString, "")
		mapField(kinds, "colors", 16, "ColorsEntry", tString, tEnum, ".params.test.Color")
		mapField(kinds, "times", 17, "TimesEntry", tUint32, tMessage, ".google.protobuf.Timestamp")
		mapField(kinds, "inner_map", 41, "InnerMapEntry", tString, tMessage, ".params.test.Inner")
		kindsProto := &descriptorpb.FileDescriptorProto{
			Name:    proto.String("params/test/kinds.proto"),
			Package: proto.String(string(kindsPackage)),
			Syntax:  proto.String("proto3"),
			Dependency: []string{
				"google/protobuf/any.proto", "google/protobuf/empty.proto", "google/protobuf/struct.proto",
				"google/protobuf/timestamp.proto", "google/protobuf/wrappers.proto",
			},
			EnumType: []*descriptorpb.EnumDescriptorProto{{
				Name: proto.String("Color"),
				Value: []*descriptorpb.EnumValueDescriptorProto{
					{Name: proto.String("COLOR_UNSPECIFIED"), Number: proto.Int32(0)},
					{Name: proto.String("RED"), Number: proto.Int32(1)},
				},
			}},
			MessageType: []*descriptorpb.DescriptorProto{
				kinds,
				{
					Name: proto.String("Inner"),
					Field: []*descriptorpb.FieldDescriptorProto{
						field("s", 1, tString, ""),
						field("next", 2, tMessage, ".params.test.Inner"),
						field("n", 3, tInt32, ""),
					},
				},
			},
		}
		kindsFile, testFilesErr = protodesc.NewFile(kindsProto, protoregistry.GlobalFiles)
		if testFilesErr != nil {
			return
		}
		legacyProto := &descriptorpb.FileDescriptorProto{
			Name:    proto.String("params/legacy/legacy.proto"),
			Package: proto.String(string(legacyPackage)),
			Syntax:  proto.String("proto2"),
			EnumType: []*descriptorpb.EnumDescriptorProto{{
				Name: proto.String("Closed"),
				Value: []*descriptorpb.EnumValueDescriptorProto{
					{Name: proto.String("ZERO"), Number: proto.Int32(0)},
					{Name: proto.String("ONE"), Number: proto.Int32(1)},
				},
			}},
			MessageType: []*descriptorpb.DescriptorProto{{
				Name: proto.String("Legacy"),
				Field: []*descriptorpb.FieldDescriptorProto{
					field("c", 1, tEnum, ".params.legacy.Closed"),
					repeated(field("cs", 2, tEnum, ".params.legacy.Closed")),
					field("s", 3, tString, ""),
					field("n", 4, tInt32, ""),
				},
			}},
		}
		legacyFile, testFilesErr = protodesc.NewFile(legacyProto, protoregistry.GlobalFiles)
	})
	if testFilesErr != nil {
		t.Fatalf("building test descriptors: %v", testFilesErr)
	}
	return kindsFile, legacyFile
}

// kindsMessage returns a new dynamicpb params.test.Kinds.
func kindsMessage(t testing.TB) protoreflect.Message {
	kinds, _ := testFiles(t)
	return dynamicpb.NewMessage(kinds.Messages().ByName("Kinds"))
}

// legacyMessage returns a new dynamicpb params.legacy.Legacy.
func legacyMessage(t testing.TB) protoreflect.Message {
	_, legacy := testFiles(t)
	return dynamicpb.NewMessage(legacy.Messages().ByName("Legacy"))
}
