package catalog

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/reflect/protoreflect"
	"google.golang.org/protobuf/types/descriptorpb"
	"google.golang.org/protobuf/types/known/timestamppb"
)

// protoFile is a descriptor-only proto3 file in package portico.test.<pkg>
// with one message whose fields name other messages by full name.
func protoFile(name, pkg, msg string, deps []string, fieldTypes ...string) *descriptorpb.FileDescriptorProto {
	m := &descriptorpb.DescriptorProto{Name: proto.String(msg)}
	for i, typ := range fieldTypes {
		fname := "f" + string(rune('a'+i))
		m.Field = append(m.Field, &descriptorpb.FieldDescriptorProto{
			Name: proto.String(fname), JsonName: proto.String(fname), Number: proto.Int32(int32(i + 1)),
			Type: descriptorpb.FieldDescriptorProto_TYPE_MESSAGE.Enum(), TypeName: proto.String("." + typ),
			Label: descriptorpb.FieldDescriptorProto_LABEL_OPTIONAL.Enum(),
		})
	}
	return &descriptorpb.FileDescriptorProto{
		Name:        proto.String(name),
		Package:     proto.String("portico.test." + pkg),
		Syntax:      proto.String("proto3"),
		Dependency:  deps,
		MessageType: []*descriptorpb.DescriptorProto{m},
	}
}

var (
	fileA = protoFile("portico/test/a.proto", "a", "A", nil)
	fileB = protoFile("portico/test/b.proto", "b", "B",
		[]string{"portico/test/a.proto", "google/protobuf/timestamp.proto"},
		"portico.test.a.A", "google.protobuf.Timestamp")
	fileC = protoFile("portico/test/c.proto", "c", "C", []string{"portico/test/b.proto"}, "portico.test.b.B")
)

// writeSet writes files, in the order given, as one FileDescriptorSet.
func writeSet(t *testing.T, files ...*descriptorpb.FileDescriptorProto) string {
	t.Helper()
	data, err := proto.Marshal(&descriptorpb.FileDescriptorSet{File: files})
	if err != nil {
		t.Fatal(err)
	}
	f, err := os.CreateTemp(t.TempDir(), "*.binpb")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if _, err := f.Write(data); err != nil {
		t.Fatal(err)
	}
	return f.Name()
}

func TestLoadDescriptorSetsOrder(t *testing.T) {
	orders := map[string][]*descriptorpb.FileDescriptorProto{
		"dependencies first": {fileA, fileB, fileC},
		"dependents first":   {fileC, fileB, fileA},
		"mixed":              {fileB, fileC, fileA},
	}
	for name, order := range orders {
		t.Run(name, func(t *testing.T) {
			files, err := LoadDescriptorSets([]string{writeSet(t, order...)})
			if err != nil {
				t.Fatalf("LoadDescriptorSets: %v", err)
			}
			d, err := files.FindDescriptorByName("portico.test.c.C")
			if err != nil {
				t.Fatalf("C: %v", err)
			}
			b := d.(protoreflect.MessageDescriptor).Fields().Get(0).Message()
			if b.FullName() != "portico.test.b.B" {
				t.Errorf("C.fa: got %s, want portico.test.b.B", b.FullName())
			}
			if got := b.Fields().Get(0).Message().FullName(); got != "portico.test.a.A" {
				t.Errorf("B.fa: got %s, want portico.test.a.A", got)
			}
			if got := files.NumFiles(); got != 4 {
				t.Errorf("got %d files, want 4 (a, b, c and timestamp)", got)
			}
		})
	}
}

// TestLoadDescriptorSetsCompiledInImport: an import the set does not carry
// is taken from the compiled-in registry, as is.
func TestLoadDescriptorSetsCompiledInImport(t *testing.T) {
	files, err := LoadDescriptorSets([]string{writeSet(t, fileB, fileA)})
	if err != nil {
		t.Fatalf("LoadDescriptorSets: %v", err)
	}
	fd, err := files.FindFileByPath("google/protobuf/timestamp.proto")
	if err != nil {
		t.Fatalf("timestamp.proto: %v", err)
	}
	if fd != timestamppb.File_google_protobuf_timestamp_proto {
		t.Error("got a timestamp.proto other than the compiled-in one")
	}
	d, err := files.FindDescriptorByName("portico.test.b.B")
	if err != nil {
		t.Fatal(err)
	}
	if got := d.(protoreflect.MessageDescriptor).Fields().Get(1).Message(); got != (&timestamppb.Timestamp{}).ProtoReflect().Descriptor() {
		t.Errorf("B.fb: got %v, want the compiled-in google.protobuf.Timestamp", got.FullName())
	}
}

// TestLoadDescriptorSetsSeveral: files are looked up across every set; a
// file in two sets is taken from the first.
func TestLoadDescriptorSetsSeveral(t *testing.T) {
	otherA := protoFile("portico/test/a.proto", "a", "A", nil)
	otherA.MessageType = append(otherA.MessageType, &descriptorpb.DescriptorProto{Name: proto.String("OnlyInSecond")})
	first := writeSet(t, fileC)
	second := writeSet(t, fileB, fileA)
	third := writeSet(t, otherA)
	files, err := LoadDescriptorSets([]string{first, second, third})
	if err != nil {
		t.Fatalf("LoadDescriptorSets: %v", err)
	}
	if _, err := files.FindDescriptorByName("portico.test.c.C"); err != nil {
		t.Errorf("C: %v", err)
	}
	if _, err := files.FindDescriptorByName("portico.test.a.OnlyInSecond"); err == nil {
		t.Error("got the later copy of a.proto, want the first one")
	}
}

func TestLoadDescriptorSetsEmpty(t *testing.T) {
	files, err := LoadDescriptorSets(nil)
	if err != nil {
		t.Fatal(err)
	}
	if files == nil || files.NumFiles() != 0 {
		t.Errorf("got %v, want an empty registry", files)
	}
}

func TestLoadDescriptorSetsErrors(t *testing.T) {
	dir := t.TempDir()
	notASet := filepath.Join(dir, "rules.yaml")
	// Not protobuf wire format: 'h' is field 13 varint, then 'l' is an
	// end-group tag with no group open.
	if err := os.WriteFile(notASet, []byte("http:\n  rules: []\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	missing := filepath.Join(dir, "missing.binpb")
	cycleX := protoFile("portico/test/x.proto", "x", "X", []string{"portico/test/y.proto"})
	cycleY := protoFile("portico/test/y.proto", "y", "Y", []string{"portico/test/x.proto"})
	unresolved := protoFile("portico/test/bad.proto", "bad", "Bad", nil, "portico.test.Nope")

	tests := []struct {
		name  string
		paths []string
		want  []string // substrings of the error
	}{
		{"import missing everywhere", []string{writeSet(t, fileB)},
			[]string{`descriptors[0]: portico/test/b.proto: import "portico/test/a.proto" is in no descriptor set`, "--include_imports"}},
		{"import missing deeper", []string{writeSet(t, fileC, fileB)},
			[]string{`import "portico/test/a.proto" is in no descriptor set`}},
		{"not a descriptor set", []string{notASet},
			[]string{"descriptors[0]: " + notASet + ": not a FileDescriptorSet (nor a .proto file or a folder)"}},
		{"file missing", []string{missing},
			[]string{"descriptors[0]: " + missing + ": no such file or folder"}},
		{"import cycle", []string{writeSet(t, cycleX, cycleY)},
			[]string{`descriptors[0]: import cycle through "portico/test/x.proto"`}},
		{"unresolvable type", []string{writeSet(t, unresolved)},
			[]string{"descriptors[0]: portico/test/bad.proto: ", "portico.test.Nope"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			files, err := LoadDescriptorSets(tt.paths)
			if err == nil {
				t.Fatalf("got no error, want %q", tt.want)
			}
			if files != nil {
				t.Error("got a registry with the error, want nil")
			}
			for _, w := range tt.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("got %q, want it to contain %q", err, w)
				}
			}
		})
	}
}

// TestLoadDescriptorSetsThenNew: a set written the way buf build -o does
// feeds the catalog.
func TestLoadDescriptorSetsThenNew(t *testing.T) {
	path := writeSet(t, annotatedFile(nil, false))
	files, err := LoadDescriptorSets([]string{path})
	if err != nil {
		t.Fatal(err)
	}
	api := API{Where: "apis[0]", Services: []string{"portico.test.v1.PingService"}, Backend: &fakeBackend{}, DefaultBindings: true}
	c := mustNew(t, Options{Files: files, APIs: []API{api}})
	m, ok := c.methods["/portico.test.v1.PingService/Ping"]
	if !ok {
		t.Fatal("Ping not in the catalog")
	}
	if got, want := describe(m.bindings), "POST /portico.test.v1.PingService/Ping body=* default"; len(got) != 1 || got[0] != want {
		t.Errorf("got %q, want [%q]", got, want)
	}
}

// TestLoadDescriptorSetsCompiledInImportBringsItsImports: a file taken from
// the compiled-in registry comes with its own imports, so the registry can
// resolve everything its files use (Catalog.Files serves server
// reflection: a client asking for google/api/http.proto, or for
// google.api.HttpRule, must find it).
func TestLoadDescriptorSetsCompiledInImportBringsItsImports(t *testing.T) {
	files, err := LoadDescriptorSets([]string{writeSet(t, annotatedFile(nil, false))})
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range []string{"google/api/annotations.proto", "google/api/http.proto", "google/protobuf/descriptor.proto"} {
		if _, err := files.FindFileByPath(p); err != nil {
			t.Errorf("%s: %v", p, err)
		}
	}
	if _, err := files.FindDescriptorByName("google.api.HttpRule"); err != nil {
		t.Errorf("google.api.HttpRule: %v", err)
	}
}
