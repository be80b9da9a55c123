package validate

import (
	"context"
	"errors"
	"io"
	"slices"
	"sort"
	"strings"
	"testing"

	validatepb "buf.build/gen/go/bufbuild/protovalidate/protocolbuffers/go/buf/validate"
	"github.com/portico-gw/portico/catalog"
	bookstorev1 "github.com/portico-gw/portico/gen/example/bookstore/v1"
	"github.com/portico-gw/portico/pipeline"
	"google.golang.org/genproto/googleapis/api/httpbody"
	"google.golang.org/genproto/googleapis/rpc/errdetails"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/encoding/protowire"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/reflect/protodesc"
	"google.golang.org/protobuf/reflect/protoreflect"
	"google.golang.org/protobuf/reflect/protoregistry"
	"google.golang.org/protobuf/types/descriptorpb"
	"google.golang.org/protobuf/types/dynamicpb"
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

// bookstoreMethods returns the bookstore's catalog methods by name.
func bookstoreMethods(t *testing.T) map[string]*catalog.Method {
	t.Helper()
	c, err := catalog.New(catalog.Options{APIs: []catalog.API{{
		Where: "apis[0]", Services: []string{"example.bookstore.v1.BookstoreService"}, Backend: nopBackend{},
	}}})
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]*catalog.Method{}
	for _, m := range c.Methods {
		out[string(m.Desc.Name())] = m
	}
	return out
}

type nopBackend struct{}

func (nopBackend) Unary(context.Context, *catalog.Method, proto.Message) (proto.Message, error) {
	return nil, errors.New("not called")
}

func (nopBackend) Stream(context.Context, *catalog.Method, grpc.ServerStream) error {
	return errors.New("not called")
}

func newInterceptor(t *testing.T) *Interceptor {
	t.Helper()
	ic, err := New()
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	return ic
}

// stage returns the interceptor's stage for m, failing the test on a
// build error.
func stage(t *testing.T, ic *Interceptor, m *catalog.Method) pipeline.Stage {
	t.Helper()
	st, err := ic.Stage(m)
	if err != nil {
		t.Fatalf("Stage(%s): %v", m.FullMethod, err)
	}
	return st
}

// violations checks err is InvalidArgument with a BadRequest detail, and
// returns the detail's field paths, sorted.
func violations(t *testing.T, err error) []string {
	t.Helper()
	st, ok := status.FromError(err)
	if !ok || st.Code() != codes.InvalidArgument {
		t.Fatalf("got %v, want InvalidArgument", err)
	}
	if !strings.HasPrefix(st.Message(), "invalid request: ") {
		t.Errorf("got message %q, want prefix %q", st.Message(), "invalid request: ")
	}
	var fields []string
	found := false
	for _, d := range st.Details() {
		br, ok := d.(*errdetails.BadRequest)
		if !ok {
			continue
		}
		found = true
		for _, v := range br.GetFieldViolations() {
			fields = append(fields, v.GetField())
			if v.GetDescription() == "" {
				t.Errorf("field %q: empty description", v.GetField())
			}
			if want := v.GetField() + ": " + v.GetDescription(); v.GetField() != "" && !strings.Contains(st.Message(), want) {
				t.Errorf("message %q does not contain %q", st.Message(), want)
			}
		}
	}
	if !found {
		t.Fatalf("got details %v, want a google.rpc.BadRequest", st.Details())
	}
	sort.Strings(fields)
	return fields
}

func TestUnary(t *testing.T) {
	methods := bookstoreMethods(t)
	ic := newInterceptor(t)
	long := strings.Repeat("x", 201)
	tests := []struct {
		name       string
		method     string
		req        proto.Message
		wantFields []string // nil: the handler runs
	}{
		{"valid", "CreateShelf", &bookstorev1.CreateShelfRequest{Shelf: &bookstorev1.Shelf{Theme: "Poetry"}}, nil},
		{"required field", "CreateShelf", &bookstorev1.CreateShelfRequest{}, []string{"shelf"}},
		{"nested field", "CreateShelf", &bookstorev1.CreateShelfRequest{Shelf: &bookstorev1.Shelf{}}, []string{"shelf.theme"}},
		{"several fields", "ListBooks", &bookstorev1.ListBooksRequest{Parent: "nope", PageSize: 5000}, []string{"page_size", "parent"}},
		{"deep fields", "CreateBook", &bookstorev1.CreateBookRequest{
			Parent: "shelves/1",
			Book:   &bookstorev1.Book{Title: long, TopReview: &bookstorev1.Review{Stars: 9}},
		}, []string{"book.title", "book.top_review.stars"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m := methods[tt.method]
			st := stage(t, ic, m)
			if st.Unary == nil || st.Stream == nil {
				t.Fatalf("%s has rules but got stage %+v", tt.method, st)
			}
			called := false
			want := &bookstorev1.Shelf{Id: 1}
			resp, err := st.Unary(context.Background(), tt.req, m.UnaryInfo, func(_ context.Context, req any) (any, error) {
				called = true
				if req != tt.req {
					t.Errorf("handler got %v, want the request", req)
				}
				return want, nil
			})
			if tt.wantFields == nil {
				if err != nil || !called || resp != want {
					t.Errorf("got %v, %v (handler called: %v), want the handler's response", resp, err, called)
				}
				return
			}
			if called {
				t.Error("handler called for an invalid request")
			}
			if resp != nil {
				t.Errorf("got response %v, want nil", resp)
			}
			if got := violations(t, err); !slices.Equal(got, tt.wantFields) {
				t.Errorf("got fields %q, want %q", got, tt.wantFields)
			}
		})
	}
}

// fakeStream delivers msgs, then io.EOF.
type fakeStream struct {
	grpc.ServerStream
	msgs []proto.Message
}

func (s *fakeStream) Context() context.Context { return context.Background() }

func (s *fakeStream) RecvMsg(m any) error {
	if len(s.msgs) == 0 {
		return io.EOF
	}
	proto.Merge(m.(proto.Message), s.msgs[0])
	s.msgs = s.msgs[1:]
	return nil
}

func TestStream(t *testing.T) {
	methods := bookstoreMethods(t)
	ic := newInterceptor(t)
	ss := &fakeStream{msgs: []proto.Message{
		&bookstorev1.GetBookRequest{Name: "shelves/1/books/1"},
		&bookstorev1.GetBookRequest{},
		&bookstorev1.GetBookRequest{Name: "shelves/1/books/2"},
	}}
	var errs []error
	err := stage(t, ic, methods["LookupBooks"]).Stream(nil, ss, methods["LookupBooks"].StreamInfo, func(_ any, s grpc.ServerStream) error {
		for {
			err := s.RecvMsg(&bookstorev1.GetBookRequest{})
			if errors.Is(err, io.EOF) {
				return nil
			}
			errs = append(errs, err)
		}
	})
	if err != nil {
		t.Fatalf("Stream: %v", err)
	}
	if len(errs) != 3 {
		t.Fatalf("got %d messages, want 3", len(errs))
	}
	if errs[0] != nil || errs[2] != nil {
		t.Errorf("valid messages: got %v and %v, want nil", errs[0], errs[2])
	}
	if got := violations(t, errs[1]); !slices.Equal(got, []string{"name"}) {
		t.Errorf("got fields %q, want [name]", got)
	}
}

// TestNoRulesNoStage: a method whose request type has no rules gets no
// interceptor at all, so it costs nothing per call.
func TestNoRulesNoStage(t *testing.T) {
	methods := bookstoreMethods(t)
	ic := newInterceptor(t)
	for _, name := range []string{"GetShelfStats", "ListShelves"} {
		if st := stage(t, ic, methods[name]); st.Gate != nil || st.Unary != nil || st.Stream != nil {
			t.Errorf("%s: got stage %+v, want none", name, st)
		}
	}
}

// TestDescriptorOnly: rules of a message known only from a descriptor,
// with its options still unknown bytes, are found and enforced on dynamic
// messages.
func TestDescriptorOnly(t *testing.T) {
	fd := buildFile(t, testFile(), true)
	md := fd.Messages().ByName("FieldRule")
	m := &catalog.Method{FullMethod: "/portico.test.validate.S/M", Input: dynamicpb.NewMessageType(md)}
	m.UnaryInfo = &grpc.UnaryServerInfo{Server: m, FullMethod: m.FullMethod}
	req := dynamicpb.NewMessage(md)
	req.Set(md.Fields().ByName("name"), protoreflect.ValueOfString("toolong"))
	_, err := stage(t, newInterceptor(t), m).Unary(context.Background(), req, m.UnaryInfo, func(context.Context, any) (any, error) {
		t.Error("handler called for an invalid request")
		return nil, nil
	})
	if got := violations(t, err); !slices.Equal(got, []string{"name"}) {
		t.Errorf("got fields %q, want [name]", got)
	}
}

// TestNewCompilationError: a rule that cannot compile is found by New.
func TestNewCompilationError(t *testing.T) {
	fd := buildFile(t, testFile(), false)
	md := fd.Messages().ByName("Mismatched")
	m := &catalog.Method{FullMethod: "/portico.test.validate.S/M", Input: dynamicpb.NewMessageType(md)}
	st, err := newInterceptor(t).Stage(m)
	if err == nil {
		t.Fatalf("got %+v and no error, want a compilation error", st)
	}
	if want := "validate: portico.test.validate.Mismatched: "; !strings.HasPrefix(err.Error(), want) {
		t.Errorf("got %q, want prefix %q", err, want)
	}
	if !strings.Contains(err.Error(), "compilation error") {
		t.Errorf("got %q, want a compilation error", err)
	}
}

// TestRuntimeError: a rule that fails to evaluate leaves the request
// unjudged: INVALID_ARGUMENT without details, and the backend is not
// called.
func TestRuntimeError(t *testing.T) {
	fd := buildFile(t, testFile(), false)
	md := fd.Messages().ByName("RuntimeError")
	m := &catalog.Method{FullMethod: "/portico.test.validate.S/M", Input: dynamicpb.NewMessageType(md)}
	m.UnaryInfo = &grpc.UnaryServerInfo{Server: m, FullMethod: m.FullMethod}
	_, err := stage(t, newInterceptor(t), m).Unary(context.Background(), dynamicpb.NewMessage(md), m.UnaryInfo, func(context.Context, any) (any, error) {
		t.Error("handler called for a request whose rules failed")
		return nil, nil
	})
	st := status.Convert(err)
	if st.Code() != codes.InvalidArgument || st.Message() != "invalid request: rules could not be evaluated" {
		t.Errorf("got %v %q, want InvalidArgument %q", st.Code(), st.Message(), "invalid request: rules could not be evaluated")
	}
	if len(st.Details()) != 0 {
		t.Errorf("got details %v, want none", st.Details())
	}
}
