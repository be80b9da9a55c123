package catalog

import (
	"errors"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/portico-gw/portico/config"
	bookstorev1 "github.com/portico-gw/portico/gen/example/bookstore/v1"
	"google.golang.org/protobuf/types/dynamicpb"
)

// writeTree writes files (path relative to dir: content) and returns dir.
func writeTree(t *testing.T, files map[string]string) string {
	t.Helper()
	dir := t.TempDir()
	for name, content := range files {
		p := filepath.Join(dir, filepath.FromSlash(name))
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

// errorLines returns err's problems as printed, checking that err is a
// config.Errors.
func errorLines(t *testing.T, err error) []string {
	t.Helper()
	var errs config.Errors
	if !errors.As(err, &errs) {
		t.Fatalf("got error of type %T (%v), want config.Errors", err, err)
	}
	var out []string
	for _, e := range errs {
		out = append(out, e.Error())
	}
	return out
}

const pingProto = `syntax = "proto3";
package portico.test.v1;

import "google/api/annotations.proto";
import "portico/test/v1/types.proto";

service PingService {
  rpc Ping(PingRequest) returns (PingReply) {
    option (google.api.http) = {get: "/v1/ping/{text}"};
  }
}
`

const typesProto = `syntax = "proto3";
package portico.test.v1;

import "google/protobuf/timestamp.proto";

message PingRequest { string text = 1; }
message PingReply {
  string text = 1;
  google.protobuf.Timestamp at = 2;
}
`

func TestLoadSourcesProtoFile(t *testing.T) {
	dir := writeTree(t, map[string]string{
		"protos/portico/test/v1/ping.proto":  pingProto,
		"protos/portico/test/v1/types.proto": typesProto,
	})
	files, err := LoadSources(dir, []string{"protos/portico/test/v1/ping.proto"}, []string{"protos"})
	if err != nil {
		t.Fatalf("LoadSources: %v", err)
	}
	for _, p := range []string{"portico/test/v1/ping.proto", "portico/test/v1/types.proto", "google/api/annotations.proto", "google/protobuf/timestamp.proto"} {
		if _, err := files.FindFileByPath(p); err != nil {
			t.Errorf("%s: %v", p, err)
		}
	}
	c := mustNew(t, Options{Files: files, APIs: []API{{Where: "apis[0]", Services: []string{"portico.test.v1.PingService"}, Backend: &fakeBackend{}}}})
	m := c.methods["/portico.test.v1.PingService/Ping"]
	if m == nil {
		t.Fatalf("got methods %v, want Ping", c.MethodList())
	}
	if got, want := describe(m.bindings), []string{"GET /v1/ping/{text}"}; !slices.Equal(got, want) {
		t.Errorf("got bindings %q, want %q", got, want)
	}
	// Compiled from source: the annotation is located in it.
	if got, want := m.bindings[0].Origin.Desc, "google.api.http annotation at portico/test/v1/ping.proto:9:5"; got != want {
		t.Errorf("got origin %q, want %q", got, want)
	}
	if _, ok := m.input.New().Interface().(*dynamicpb.Message); !ok {
		t.Errorf("got input %T, want dynamicpb (no Go type is linked)", m.input.New().Interface())
	}
}

// TestLoadSourcesDefaultProtoPath: without proto_paths, a listed file's
// folder is where its imports are found, and it is named from there.
func TestLoadSourcesDefaultProtoPath(t *testing.T) {
	dir := writeTree(t, map[string]string{
		"ping.proto":                  strings.Replace(pingProto, `"portico/test/v1/types.proto"`, `"types.proto"`, 1),
		"types.proto":                 typesProto,
		"elsewhere/unrelated.proto":   "this is not proto",
		"portico/test/v1/ignored.txt": "",
	})
	files, err := LoadSources(dir, []string{"ping.proto"}, nil)
	if err != nil {
		t.Fatalf("LoadSources: %v", err)
	}
	if _, err := files.FindFileByPath("ping.proto"); err != nil {
		t.Error(err)
	}
	if _, err := files.FindDescriptorByName("portico.test.v1.PingReply"); err != nil {
		t.Error(err)
	}
}

// TestLoadSourcesFolder: a folder entry compiles every .proto file under
// it, named from the folder.
func TestLoadSourcesFolder(t *testing.T) {
	dir := writeTree(t, map[string]string{
		"api/portico/test/v1/ping.proto":  pingProto,
		"api/portico/test/v1/types.proto": typesProto,
		"api/README.md":                   "not a proto",
	})
	files, err := LoadSources(dir, []string{"api"}, nil)
	if err != nil {
		t.Fatalf("LoadSources: %v", err)
	}
	if got := files.NumFilesByPackage("portico.test.v1"); got != 2 {
		t.Errorf("got %d files in portico.test.v1, want 2", got)
	}
}

// TestLoadSourcesMixed: .proto sources may import files of a listed
// descriptor set.
func TestLoadSourcesMixed(t *testing.T) {
	set := writeSet(t, fileA)
	dir := writeTree(t, map[string]string{
		"uses_a.proto": `syntax = "proto3";
package portico.test.uses;
import "portico/test/a.proto";
message UsesA { portico.test.a.A a = 1; }
`,
	})
	files, err := LoadSources(dir, []string{set, "uses_a.proto"}, nil)
	if err != nil {
		t.Fatalf("LoadSources: %v", err)
	}
	d, err := files.FindDescriptorByName("portico.test.uses.UsesA")
	if err != nil {
		t.Fatal(err)
	}
	a, _ := files.FindDescriptorByName("portico.test.a.A")
	if got := d.ParentFile().Imports().Get(0).FileDescriptor; got.Path() != "portico/test/a.proto" || a == nil || a.ParentFile() != got {
		t.Errorf("UsesA's import is %v, want the registry's portico/test/a.proto", got.Path())
	}
}

// TestLoadSourcesBuiltInImportsNeverFromDisk: google/api (and the
// well-known types, google/rpc, buf/validate) come from the binary even
// when a proto path has a copy of them; a listed copy is ignored too.
func TestLoadSourcesBuiltInImportsNeverFromDisk(t *testing.T) {
	dir := writeTree(t, map[string]string{
		"p/portico/test/v1/ping.proto":      pingProto,
		"p/portico/test/v1/types.proto":     typesProto,
		"p/google/api/annotations.proto":    "syntax error: this copy must not be read",
		"p/google/protobuf/timestamp.proto": "nor this one",
	})
	files, err := LoadSources(dir, []string{"p"}, []string{"p"})
	if err != nil {
		t.Fatalf("LoadSources: %v", err)
	}
	fd, err := files.FindFileByPath("google/api/annotations.proto")
	if err != nil {
		t.Fatal(err)
	}
	if fd.Services().Len() != 0 || fd.Extensions().ByName("http") == nil {
		t.Error("got a google/api/annotations.proto without the http extension")
	}
}

// TestLoadSourcesCompiledInTwin: a .proto source identical to one compiled
// into the binary is served with the generated Go types.
func TestLoadSourcesCompiledInTwin(t *testing.T) {
	files, err := LoadSources("..", []string{"proto/example/bookstore/v1/bookstore.proto"}, []string{"proto"})
	if err != nil {
		t.Fatalf("LoadSources: %v", err)
	}
	fd, err := files.FindFileByPath("example/bookstore/v1/bookstore.proto")
	if err != nil {
		t.Fatal(err)
	}
	if fd == bookstorev1.File_example_bookstore_v1_bookstore_proto {
		t.Fatal("got the compiled-in descriptor, want the one compiled from source")
	}
	c := mustNew(t, Options{Files: files, APIs: []API{bookstoreAPI(&fakeBackend{})}})
	m := method(t, c, "ListBooks")
	if m.desc.ParentFile() != fd {
		t.Errorf("method from %p, want the file compiled from source", m.desc.ParentFile())
	}
	if _, ok := m.input.New().Interface().(*bookstorev1.ListBooksRequest); !ok {
		t.Errorf("got input %T, want *bookstorev1.ListBooksRequest", m.input.New().Interface())
	}
	if got, want := describe(method(t, c, "MoveBook").bindings), []string{"POST /v1/{name=shelves/*/books/*}:move body=*"}; !slices.Equal(got, want) {
		t.Errorf("MoveBook: got %q, want %q", got, want)
	}
}

func TestLoadSourcesErrors(t *testing.T) {
	dir := writeTree(t, map[string]string{
		"bad/syntax.proto":  "syntax = \"proto3\";\npackage x;\nmessage A {\n  string a = 1\n}\n",
		"bad/types.proto":   "syntax = \"proto3\";\npackage y;\nmessage B {\n  Nope n = 1;\n  Missing m = 2;\n}\n",
		"bad/import.proto":  "syntax = \"proto3\";\npackage z;\nimport \"nowhere/x.proto\";\n",
		"bad/visible.proto": "syntax = \"proto3\";\npackage v;\nimport \"google/api/nope.proto\";\n",
		"empty/README.md":   "",
		"not-a-folder":      "",
	})
	p := func(name string) string { return filepath.Join(dir, "bad", name) }
	tests := []struct {
		name        string
		descriptors []string
		protoPaths  []string
		want        []string
	}{
		{"syntax error", []string{"bad/syntax.proto"}, nil,
			[]string{p("syntax.proto") + `:5:1: descriptors[0]: syntax error: expecting ';'`}},
		{"every type error", []string{"bad/types.proto"}, nil, []string{
			p("types.proto") + `:4:3: descriptors[0]: field y.B.n: unknown type Nope`,
			p("types.proto") + `:5:3: descriptors[0]: field y.B.m: unknown type Missing`,
		}},
		{"errors in several files", []string{"bad/syntax.proto", "bad/types.proto"}, nil, []string{
			p("syntax.proto") + `:5:1: descriptors[0]: syntax error: expecting ';'`,
			p("types.proto") + `:4:3: descriptors[1]: field y.B.n: unknown type Nope`,
			p("types.proto") + `:5:3: descriptors[1]: field y.B.m: unknown type Missing`,
		}},
		{"missing import", []string{"bad/import.proto"}, nil,
			[]string{p("import.proto") + `:3:8: descriptors[0]: import "nowhere/x.proto" not found in proto_paths (` + filepath.Join(dir, "bad") + `)`}},
		{"built-in import the binary lacks", []string{"bad/visible.proto"}, nil,
			[]string{p("visible.proto") + `:3:8: descriptors[0]: "google/api/nope.proto" is not among the files compiled into Portico (the well-known types, google/api, google/rpc and buf/validate are never read from disk)`}},
		{"missing entry", []string{"bad/absent.proto", "absent.binpb"}, nil, []string{
			"descriptors[0]: " + p("absent.proto") + ": no such file or folder",
			"descriptors[1]: " + filepath.Join(dir, "absent.binpb") + ": no such file or folder",
		}},
		{"folder without protos", []string{"empty"}, nil,
			[]string{"descriptors[0]: folder " + filepath.Join(dir, "empty") + " holds no .proto file"}},
		{"file outside proto_paths", []string{"bad/syntax.proto"}, []string{"empty"},
			[]string{"descriptors[0]: " + p("syntax.proto") + " is in none of proto_paths (" + filepath.Join(dir, "empty") + "): a .proto file is named by its path within one of them"}},
		{"bad proto_paths", []string{"bad/syntax.proto"}, []string{"nope", "not-a-folder"}, []string{
			"proto_paths[0]: " + filepath.Join(dir, "nope") + ": no such file or folder",
			"proto_paths[1]: " + filepath.Join(dir, "not-a-folder") + " is not a folder",
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			files, err := LoadSources(dir, tt.descriptors, tt.protoPaths)
			if err == nil {
				t.Fatalf("got no error, want %q", tt.want)
			}
			if files != nil {
				t.Error("got a registry with the error, want nil")
			}
			got := errorLines(t, err)
			if !slices.Equal(got, tt.want) {
				t.Errorf("got errors\n%q\nwant\n%q", got, tt.want)
			}
		})
	}
}

// TestAnnotationErrorFromSource: an error in an annotation compiled from
// source names the line of the binding at fault.
func TestAnnotationErrorFromSource(t *testing.T) {
	dir := writeTree(t, map[string]string{"bad.proto": `syntax = "proto3";
package portico.test.bad;

import "google/api/annotations.proto";

message M { string id = 1; }

service S {
  rpc Do(M) returns (M) {
    option (google.api.http) = {
      get: "/v1/ok/{id}"
      additional_bindings {custom: {path: "/v1/no-kind"}}
    };
  }
}
`})
	files, err := LoadSources(dir, []string{"bad.proto"}, nil)
	if err != nil {
		t.Fatalf("LoadSources: %v", err)
	}
	_, err = New(Options{Files: files, APIs: []API{{Where: "apis[0]", Services: []string{"portico.test.bad.S"}, Backend: &fakeBackend{}}}})
	if err == nil {
		t.Fatal("got no error for a custom pattern without a kind")
	}
	want := []string{"apis[0].services[0]: method portico.test.bad.S.Do: google.api.http annotation at bad.proto:12:7: additional_bindings[0]: custom pattern without a kind"}
	if got := errorLines(t, err); !slices.Equal(got, want) {
		t.Errorf("got %q, want %q", got, want)
	}
}
