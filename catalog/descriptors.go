package catalog

import (
	"fmt"
	"os"

	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/reflect/protodesc"
	"google.golang.org/protobuf/reflect/protoregistry"
	"google.golang.org/protobuf/types/descriptorpb"
)

// LoadDescriptorSets reads FileDescriptorSets (buf build -o, protoc
// --include_imports --descriptor_set_out) into one registry. An import
// missing from the sets is taken from the compiled-in registry (the
// well-known types, google.api annotations, buf.validate); anything else
// missing is an error.
func LoadDescriptorSets(paths []string) (*protoregistry.Files, error) {
	set := &descriptorpb.FileDescriptorSet{}
	seen := map[string]bool{}
	for _, p := range paths {
		data, err := os.ReadFile(p)
		if err != nil {
			return nil, fmt.Errorf("descriptors: %v", err)
		}
		var one descriptorpb.FileDescriptorSet
		if err := proto.Unmarshal(data, &one); err != nil {
			return nil, fmt.Errorf("descriptors: %s: not a FileDescriptorSet: %v", p, err)
		}
		for _, f := range one.GetFile() {
			if seen[f.GetName()] {
				continue
			}
			seen[f.GetName()] = true
			set.File = append(set.File, f)
		}
	}
	files := &protoregistry.Files{}
	byName := map[string]*descriptorpb.FileDescriptorProto{}
	for _, f := range set.GetFile() {
		byName[f.GetName()] = f
	}
	// Register in dependency order, falling back to the compiled-in
	// registry for imports the sets do not carry.
	var add func(name string, stack []string) error
	add = func(name string, stack []string) error {
		if _, err := files.FindFileByPath(name); err == nil {
			return nil
		}
		fdp, ok := byName[name]
		if !ok {
			fd, err := protoregistry.GlobalFiles.FindFileByPath(name)
			if err != nil {
				return fmt.Errorf("descriptors: import %q is in no descriptor set (build them with imports: buf build -o, or protoc --include_imports)", name)
			}
			// A compiled-in file brings its own imports along, so the
			// registry resolves everything reflection may ask for.
			imps := fd.Imports()
			for i := 0; i < imps.Len(); i++ {
				if err := add(imps.Get(i).Path(), append(stack, name)); err != nil {
					return err
				}
			}
			return files.RegisterFile(fd)
		}
		for _, s := range stack {
			if s == name {
				return fmt.Errorf("descriptors: import cycle through %q", name)
			}
		}
		for _, dep := range fdp.GetDependency() {
			if err := add(dep, append(stack, name)); err != nil {
				return err
			}
		}
		fd, err := protodesc.NewFile(fdp, files)
		if err != nil {
			return fmt.Errorf("descriptors: %s: %v", name, err)
		}
		return files.RegisterFile(fd)
	}
	for _, f := range set.GetFile() {
		if err := add(f.GetName(), nil); err != nil {
			return nil, err
		}
	}
	return files, nil
}
