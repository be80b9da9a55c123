package catalog

import (
	"os"
	"path/filepath"
	"testing"

	bookstorev1 "github.com/portico-gw/portico/gen/example/bookstore/v1"
	"google.golang.org/protobuf/proto"
)

// TestDescriptorSetRoundTrip: a set made by DescriptorSet loads back with
// LoadDescriptorSets, dependencies first and each file once.
func TestDescriptorSetRoundTrip(t *testing.T) {
	fd := bookstorev1.File_example_bookstore_v1_bookstore_proto
	set := DescriptorSet(fd, fd)
	seen := map[string]int{}
	for i, f := range set.GetFile() {
		if _, dup := seen[f.GetName()]; dup {
			t.Errorf("%s appears twice", f.GetName())
		}
		seen[f.GetName()] = i
		for _, dep := range f.GetDependency() {
			if j, ok := seen[dep]; !ok || j >= i {
				t.Errorf("%s comes before its import %s", f.GetName(), dep)
			}
		}
	}
	if last := set.GetFile()[len(set.GetFile())-1].GetName(); last != fd.Path() {
		t.Errorf("last file: got %s, want %s", last, fd.Path())
	}
	data, err := proto.Marshal(set)
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), "set.binpb")
	if err := os.WriteFile(path, data, 0o644); err != nil {
		t.Fatal(err)
	}
	files, err := LoadDescriptorSets([]string{path})
	if err != nil {
		t.Fatalf("LoadDescriptorSets: %v", err)
	}
	if _, err := files.FindDescriptorByName("example.bookstore.v1.BookstoreService"); err != nil {
		t.Errorf("service not found after the round trip: %v", err)
	}
}
