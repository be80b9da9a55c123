package catalog

import (
	"testing"

	bookstorev1 "github.com/portico-gw/portico/gen/example/bookstore/v1"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/reflect/protodesc"
	"google.golang.org/protobuf/reflect/protoreflect"
	"google.golang.org/protobuf/reflect/protoregistry"
	"google.golang.org/protobuf/types/descriptorpb"
	"google.golang.org/protobuf/types/dynamicpb"
)

// bookstoreProto is a fresh copy of the compiled-in bookstore.proto.
func bookstoreProto() *descriptorpb.FileDescriptorProto {
	return protodesc.ToFileDescriptorProto(bookstorev1.File_example_bookstore_v1_bookstore_proto)
}

// withExtraField returns a copy of bookstore.proto whose Book has one more
// field than the compiled-in one: a newer schema than the gateway's.
func withExtraField() *descriptorpb.FileDescriptorProto {
	fdp := bookstoreProto()
	for _, m := range fdp.MessageType {
		if m.GetName() == "Book" {
			m.Field = append(m.Field, &descriptorpb.FieldDescriptorProto{
				Name: proto.String("isbn"), JsonName: proto.String("isbn"), Number: proto.Int32(99),
				Type: descriptorpb.FieldDescriptorProto_TYPE_STRING.Enum(), Label: descriptorpb.FieldDescriptorProto_LABEL_OPTIONAL.Enum(),
			})
		}
	}
	return fdp
}

// loaded builds fdp as a descriptor loaded at run time: a descriptor
// distinct from the linked one, resolved against the compiled-in files.
func loaded(t *testing.T, fdp *descriptorpb.FileDescriptorProto) protoreflect.FileDescriptor {
	t.Helper()
	fd, err := protodesc.NewFile(fdp, protoregistry.GlobalFiles)
	if err != nil {
		t.Fatal(err)
	}
	return fd
}

func TestTypeResolver(t *testing.T) {
	identical := loaded(t, bookstoreProto())
	withInfo := bookstoreProto()
	withInfo.SourceCodeInfo = &descriptorpb.SourceCodeInfo{Location: []*descriptorpb.SourceCodeInfo_Location{{
		Path: []int32{4, 0}, Span: []int32{1, 2, 3}, LeadingComments: proto.String(" A shelf of books.\n"),
	}}}
	identicalWithComments := loaded(t, withInfo)
	differs := loaded(t, withExtraField())
	moved := bookstoreProto()
	moved.Name = proto.String("elsewhere/bookstore.proto")
	otherPath := loaded(t, moved)
	pingFile := loaded(t, annotatedFile(nil, false))

	if identical == bookstorev1.File_example_bookstore_v1_bookstore_proto {
		t.Fatal("test setup: the loaded copy is the linked descriptor")
	}
	if identicalWithComments.SourceLocations().Len() == 0 {
		t.Fatal("test setup: the copy with source info has none")
	}
	tests := []struct {
		name      string
		md        protoreflect.MessageDescriptor
		generated bool
	}{
		{"linked descriptor", (&bookstorev1.Book{}).ProtoReflect().Descriptor(), true},
		{"identical loaded copy", identical.Messages().ByName("Book"), true},
		{"identical copy with source info", identicalWithComments.Messages().ByName("Book"), true},
		{"loaded copy with an extra field", differs.Messages().ByName("Book"), false},
		// The whole file is compared, so a message left unchanged in a
		// changed file is dynamic too, consistent with the messages it
		// refers to.
		{"unchanged message of a changed file", differs.Messages().ByName("Shelf"), false},
		{"same schema under another path", otherPath.Messages().ByName("Book"), false},
		{"descriptor-only message", pingFile.Messages().ByName("Ping"), false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			mt, err := newTypeResolver().messageType(tt.md)
			if err != nil {
				t.Fatal(err)
			}
			msg := mt.New().Interface()
			_, isDynamic := msg.(*dynamicpb.Message)
			if isDynamic == tt.generated {
				t.Errorf("got %T, want generated %v", msg, tt.generated)
			}
			if tt.generated {
				linked, _ := protoregistry.GlobalTypes.FindMessageByName(tt.md.FullName())
				if mt != linked {
					t.Errorf("got type %v, want the linked type", mt)
				}
			} else if mt.Descriptor() != tt.md {
				t.Errorf("dynamic type describes %v, want the loaded descriptor itself", mt.Descriptor().FullName())
			}
		})
	}
}

func TestTypeResolverCache(t *testing.T) {
	r := newTypeResolver()
	md := loaded(t, withExtraField()).Messages().ByName("Book")
	a, _ := r.messageType(md)
	b, _ := r.messageType(md)
	if a != b {
		t.Error("got two types for one descriptor, want the cached one")
	}
}

// TestNewWithLoadedDescriptors: the catalog uses the generated types for a
// loaded copy of a linked file and dynamicpb for a changed one.
func TestNewWithLoadedDescriptors(t *testing.T) {
	tests := []struct {
		name      string
		fdp       *descriptorpb.FileDescriptorProto
		generated bool
	}{
		{"identical", bookstoreProto(), true},
		{"extra field", withExtraField(), false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := mustNew(t, Options{Files: registry(t, tt.fdp), APIs: []API{bookstoreAPI(&fakeBackend{})}})
			m := method(t, c, "CreateBook")
			for _, msg := range []proto.Message{m.input.New().Interface(), m.output.New().Interface()} {
				if _, dyn := msg.(*dynamicpb.Message); dyn == tt.generated {
					t.Errorf("got %T, want generated %v", msg, tt.generated)
				}
			}
			if tt.generated {
				if _, ok := m.input.New().Interface().(*bookstorev1.CreateBookRequest); !ok {
					t.Errorf("got %T, want *bookstorev1.CreateBookRequest", m.input.New().Interface())
				}
			} else if m.input.Descriptor() != m.desc.Input() {
				t.Error("dynamic input does not use the loaded descriptor")
			}
		})
	}
}

// Methods answering with the same dynamic message type share one compiled
// response parser (compiling is most of a method's build cost), and it
// parses what the generated type encodes.
func TestResponseParserSharedPerType(t *testing.T) {
	c := mustNew(t, Options{APIs: []API{bookstoreAPI(&fakeBackend{})}, DynamicTypes: true})
	get, move, shelf := method(t, c, "GetBook"), method(t, c, "MoveBook"), method(t, c, "GetShelf")
	if get.Response() == get.Output() {
		t.Fatalf("GetBook's Response is its Output (%T): want a compiled parser for a dynamic type", get.Response())
	}
	if get.Response() != move.Response() {
		t.Errorf("GetBook and MoveBook (both answer Book): got two response parsers, want one shared")
	}
	if get.Response() == shelf.Response() {
		t.Errorf("GetBook (Book) and GetShelf (Shelf): got one response parser, want one per type")
	}
	wire, err := proto.Marshal(&bookstorev1.Book{Name: "shelves/1/books/2", Title: "Dune"})
	if err != nil {
		t.Fatal(err)
	}
	for _, m := range []*Method{get, move} {
		resp, err := m.ParseResponse(wire, 100)
		if err != nil {
			t.Fatalf("%s: ParseResponse: %v", m.FullMethod(), err)
		}
		title := resp.ProtoReflect().Get(resp.ProtoReflect().Descriptor().Fields().ByName("title")).String()
		if got, want := title, "Dune"; got != want {
			t.Errorf("%s: title: got %q, want %q", m.FullMethod(), got, want)
		}
	}
}
