package validate

// HasRules: which messages carry buf.validate rules, compiled in or known
// from descriptors only.

import (
	"slices"
	"testing"

	validatepb "buf.build/gen/go/bufbuild/protovalidate/protocolbuffers/go/buf/validate"
	bookstorev1 "github.com/portico-gw/portico/gen/example/bookstore/v1"
	"google.golang.org/genproto/googleapis/api/httpbody"
	"google.golang.org/protobuf/encoding/protowire"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/reflect/protodesc"
	"google.golang.org/protobuf/reflect/protoreflect"
	"google.golang.org/protobuf/reflect/protoregistry"
	"google.golang.org/protobuf/types/descriptorpb"
	"google.golang.org/protobuf/types/known/emptypb"
	"google.golang.org/protobuf/types/known/structpb"
)

func descOf(m proto.Message) protoreflect.MessageDescriptor { return m.ProtoReflect().Descriptor() }

func TestHasRulesBookstore(t *testing.T) {
	tests := []struct {
		msg  proto.Message
		want bool
	}{
		{&bookstorev1.ListShelvesRequest{}, false},   // no fields
		{&bookstorev1.GetShelfStatsRequest{}, false}, // a field without rules
		{&bookstorev1.ReindexRequest{}, false},
		{&bookstorev1.GetBookCoverRequest{}, false},
		{&bookstorev1.UploadBookCoverRequest{}, false}, // through HttpBody and Any: none
		{&bookstorev1.ImportBooksResponse{}, false},
		{&bookstorev1.ShelfStats{}, false},
		{&emptypb.Empty{}, false},
		{&httpbody.HttpBody{}, false},
		{&bookstorev1.CreateShelfRequest{}, true}, // required, and Shelf.theme
		{&bookstorev1.GetShelfRequest{}, true},
		{&bookstorev1.ListBooksRequest{}, true},
		{&bookstorev1.Review{}, true},
		{&bookstorev1.ListShelvesResponse{}, true}, // only through repeated Shelf
		{&bookstorev1.ListBooksResponse{}, true},   // only through Book and ListBooksRequest
	}
	for _, tt := range tests {
		md := descOf(tt.msg)
		t.Run(string(md.Name()), func(t *testing.T) {
			if got := HasRules(md); got != tt.want {
				t.Errorf("HasRules(%s): got %v, want %v", md.FullName(), got, tt.want)
			}
		})
	}
}

// TestHasRulesSelfReferencing: messages that refer to themselves (Struct ->
// Value -> Struct/ListValue -> Value) terminate.
func TestHasRulesSelfReferencing(t *testing.T) {
	for _, m := range []proto.Message{&structpb.Struct{}, &structpb.Value{}, &structpb.ListValue{}} {
		if HasRules(descOf(m)) {
			t.Errorf("HasRules(%s): got true, want false", descOf(m).FullName())
		}
	}
}

// Builders for a descriptor-only file of test messages.

func scalar(name string, num int32, typ descriptorpb.FieldDescriptorProto_Type, opts *descriptorpb.FieldOptions) *descriptorpb.FieldDescriptorProto {
	return &descriptorpb.FieldDescriptorProto{
		Name: proto.String(name), JsonName: proto.String(name), Number: proto.Int32(num), Type: typ.Enum(),
		Label: descriptorpb.FieldDescriptorProto_LABEL_OPTIONAL.Enum(), Options: opts,
	}
}

func msgField(name string, num int32, typeName string, repeated bool) *descriptorpb.FieldDescriptorProto {
	label := descriptorpb.FieldDescriptorProto_LABEL_OPTIONAL
	if repeated {
		label = descriptorpb.FieldDescriptorProto_LABEL_REPEATED
	}
	return &descriptorpb.FieldDescriptorProto{
		Name: proto.String(name), JsonName: proto.String(name), Number: proto.Int32(num),
		Type: descriptorpb.FieldDescriptorProto_TYPE_MESSAGE.Enum(), TypeName: proto.String(typeName), Label: label.Enum(),
	}
}

// mapMessage is a message with one map<string, value> field "m"; value is
// a message full name, or "" for string values.
func mapMessage(name, value string) *descriptorpb.DescriptorProto {
	valueField := scalar("value", 2, descriptorpb.FieldDescriptorProto_TYPE_STRING, nil)
	if value != "" {
		valueField = msgField("value", 2, value, false)
	}
	return &descriptorpb.DescriptorProto{
		Name:  proto.String(name),
		Field: []*descriptorpb.FieldDescriptorProto{msgField("m", 1, ".portico.test.validate."+name+".MEntry", true)},
		NestedType: []*descriptorpb.DescriptorProto{{
			Name:    proto.String("MEntry"),
			Field:   []*descriptorpb.FieldDescriptorProto{scalar("key", 1, descriptorpb.FieldDescriptorProto_TYPE_STRING, nil), valueField},
			Options: &descriptorpb.MessageOptions{MapEntry: proto.Bool(true)},
		}},
	}
}

func stringMaxLen(n uint64) *descriptorpb.FieldOptions {
	opts := &descriptorpb.FieldOptions{}
	proto.SetExtension(opts, validatepb.E_Field, &validatepb.FieldRules{
		Type: &validatepb.FieldRules_String_{String_: &validatepb.StringRules{MaxLen: proto.Uint64(n)}},
	})
	return opts
}

func int32Gt(n int32) *descriptorpb.FieldOptions {
	opts := &descriptorpb.FieldOptions{}
	proto.SetExtension(opts, validatepb.E_Field, &validatepb.FieldRules{
		Type: &validatepb.FieldRules_Int32{Int32: &validatepb.Int32Rules{GreaterThan: &validatepb.Int32Rules_Gt{Gt: n}}},
	})
	return opts
}

const testPkg = ".portico.test.validate."

func testFile() *descriptorpb.FileDescriptorProto {
	str := descriptorpb.FieldDescriptorProto_TYPE_STRING
	msgOpts := &descriptorpb.MessageOptions{}
	proto.SetExtension(msgOpts, validatepb.E_Message, &validatepb.MessageRules{
		Cel: []*validatepb.Rule{{Id: proto.String("a_short"), Message: proto.String("a is too long"), Expression: proto.String("size(this.a) < 5")}},
	})
	oneofOpts := &descriptorpb.OneofOptions{}
	proto.SetExtension(oneofOpts, validatepb.E_Oneof, &validatepb.OneofRules{Required: proto.Bool(true)})
	inOneof := func(f *descriptorpb.FieldDescriptorProto) *descriptorpb.FieldDescriptorProto {
		f.OneofIndex = proto.Int32(0)
		return f
	}
	// A string field whose rules are for int32: protovalidate cannot
	// compile them.
	mismatched := &descriptorpb.FieldOptions{}
	proto.SetExtension(mismatched, validatepb.E_Field, &validatepb.FieldRules{
		Type: &validatepb.FieldRules_Int32{Int32: &validatepb.Int32Rules{Const: proto.Int32(1)}},
	})
	// A rule that compiles but fails when evaluated.
	divByZero := &descriptorpb.MessageOptions{}
	proto.SetExtension(divByZero, validatepb.E_Message, &validatepb.MessageRules{
		Cel: []*validatepb.Rule{{Id: proto.String("div"), Expression: proto.String("size(this.a) / 0 == 1")}},
	})
	return &descriptorpb.FileDescriptorProto{
		Name:       proto.String("portico/test/validate.proto"),
		Package:    proto.String("portico.test.validate"),
		Syntax:     proto.String("proto3"),
		Dependency: []string{"buf/validate/validate.proto", "example/bookstore/v1/bookstore.proto", "google/protobuf/struct.proto"},
		MessageType: []*descriptorpb.DescriptorProto{
			{Name: proto.String("Plain"), Field: []*descriptorpb.FieldDescriptorProto{scalar("a", 1, str, nil)}},
			{Name: proto.String("FieldRule"), Field: []*descriptorpb.FieldDescriptorProto{scalar("name", 1, str, stringMaxLen(3))}},
			{Name: proto.String("MessageRule"), Options: msgOpts, Field: []*descriptorpb.FieldDescriptorProto{scalar("a", 1, str, nil)}},
			{
				Name:      proto.String("OneofRule"),
				OneofDecl: []*descriptorpb.OneofDescriptorProto{{Name: proto.String("choice"), Options: oneofOpts}},
				Field:     []*descriptorpb.FieldDescriptorProto{inOneof(scalar("a", 1, str, nil)), inOneof(scalar("b", 2, str, nil))},
			},
			mapMessage("MapOfShelves", ".example.bookstore.v1.Shelf"),
			mapMessage("MapOfPlain", testPkg+"Plain"),
			mapMessage("MapOfStrings", ""),
			// Node refers to itself before the field with a rule.
			{Name: proto.String("Node"), Field: []*descriptorpb.FieldDescriptorProto{
				msgField("child", 1, testPkg+"Node", false),
				scalar("name", 2, str, stringMaxLen(8)),
			}},
			{Name: proto.String("Tree"), Field: []*descriptorpb.FieldDescriptorProto{
				msgField("children", 1, testPkg+"Tree", true),
				msgField("meta", 2, ".google.protobuf.Struct", false),
				msgField("plain", 3, testPkg+"Plain", false),
			}},
			// A and B refer to each other; only B has a rule.
			{Name: proto.String("A"), Field: []*descriptorpb.FieldDescriptorProto{msgField("b", 1, testPkg+"B", false)}},
			{Name: proto.String("B"), Field: []*descriptorpb.FieldDescriptorProto{
				msgField("a", 1, testPkg+"A", false),
				scalar("x", 2, descriptorpb.FieldDescriptorProto_TYPE_INT32, int32Gt(0)),
			}},
			{Name: proto.String("Mismatched"), Field: []*descriptorpb.FieldDescriptorProto{scalar("s", 1, str, mismatched)}},
			{Name: proto.String("RuntimeError"), Options: divByZero, Field: []*descriptorpb.FieldDescriptorProto{scalar("a", 1, str, nil)}},
		},
	}
}

// buildFile builds fdp against the compiled-in files. With unknownOptions,
// fdp goes through the wire first and is parsed without knowing any
// extension, so every buf.validate option stays as unknown bytes, as for
// a descriptor loaded before the extension was known.
func buildFile(t *testing.T, fdp *descriptorpb.FileDescriptorProto, unknownOptions bool) protoreflect.FileDescriptor {
	t.Helper()
	if unknownOptions {
		data, err := proto.Marshal(fdp)
		if err != nil {
			t.Fatal(err)
		}
		parsed := &descriptorpb.FileDescriptorProto{}
		if err := (proto.UnmarshalOptions{Resolver: &protoregistry.Types{}}).Unmarshal(data, parsed); err != nil {
			t.Fatal(err)
		}
		fdp = parsed
	}
	fd, err := protodesc.NewFile(fdp, protoregistry.GlobalFiles)
	if err != nil {
		t.Fatal(err)
	}
	return fd
}

func TestHasRulesDescriptors(t *testing.T) {
	tests := []struct {
		msg  string
		want bool
	}{
		{"Plain", false},
		{"FieldRule", true},
		{"MessageRule", true},
		{"OneofRule", true},
		{"MapOfShelves", true},
		{"MapOfPlain", false},
		{"MapOfStrings", false},
		{"Node", true},
		{"Tree", false},
		{"A", true},
		{"B", true},
	}
	for _, unknown := range []bool{false, true} {
		name := "decoded options"
		if unknown {
			name = "options as unknown bytes"
		}
		t.Run(name, func(t *testing.T) {
			fd := buildFile(t, testFile(), unknown)
			for _, tt := range tests {
				md := fd.Messages().ByName(protoreflect.Name(tt.msg))
				if got := HasRules(md); got != tt.want {
					t.Errorf("HasRules(%s): got %v, want %v", tt.msg, got, tt.want)
				}
			}
		})
	}
}

// TestHasExtUnknown checks that the unknown-bytes case is really the one
// exercised, and that hasExt finds the rule there.
func TestHasExtUnknown(t *testing.T) {
	fd := buildFile(t, testFile(), true)
	tests := []struct {
		name string
		opts proto.Message
		ext  protoreflect.ExtensionType
	}{
		{"field", fd.Messages().ByName("FieldRule").Fields().ByName("name").Options(), validatepb.E_Field},
		{"message", fd.Messages().ByName("MessageRule").Options(), validatepb.E_Message},
		{"oneof", fd.Messages().ByName("OneofRule").Oneofs().ByName("choice").Options(), validatepb.E_Oneof},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if proto.HasExtension(tt.opts, tt.ext) {
				t.Fatal("test setup: the extension was decoded, want it left as unknown bytes")
			}
			if len(tt.opts.ProtoReflect().GetUnknown()) == 0 {
				t.Fatal("test setup: no unknown bytes in the options")
			}
			if !hasExt(tt.opts, tt.ext) {
				t.Error("hasExt: got false, want true for the rule in unknown bytes")
			}
		})
	}
}

func TestHasExtBytes(t *testing.T) {
	num := validatepb.E_Field.TypeDescriptor().Number()
	field := func(n protowire.Number) []byte {
		b := protowire.AppendTag(nil, n, protowire.BytesType)
		return protowire.AppendBytes(b, []byte{0x08, 0x01})
	}
	varint := func(n protowire.Number, v uint64) []byte {
		return protowire.AppendVarint(protowire.AppendTag(nil, n, protowire.VarintType), v)
	}
	tests := []struct {
		name    string
		unknown []byte
		want    bool
	}{
		{"none", nil, false},
		{"only the rule", field(num), true},
		{"after other unknown fields", slices.Concat(varint(50000, 7), field(50001), field(num)), true},
		{"only other fields", slices.Concat(varint(50000, 7), field(num+1)), false},
		{"the number as a varint value, not a tag", varint(50000, uint64(num)), false},
		{"truncated", field(num)[:3], false},
		{"garbage", []byte{0xff, 0xff, 0xff}, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			opts := &descriptorpb.FieldOptions{}
			opts.ProtoReflect().SetUnknown(tt.unknown)
			if got := hasExt(opts, validatepb.E_Field); got != tt.want {
				t.Errorf("got %v, want %v", got, tt.want)
			}
		})
	}
	if hasExt(nil, validatepb.E_Field) {
		t.Error("nil options: got true, want false")
	}
	if hasExt((*descriptorpb.FieldOptions)(nil), validatepb.E_Field) {
		t.Error("typed nil options: got true, want false")
	}
}
