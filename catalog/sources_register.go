package catalog

// Descriptor sets and discovered files, merged with the compiled ones
// into one registry.

import (
	"os"

	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/reflect/protodesc"
	"google.golang.org/protobuf/reflect/protoreflect"
	"google.golang.org/protobuf/reflect/protoregistry"
	"google.golang.org/protobuf/types/descriptorpb"
)

func (l *loader) addSet(field, path string) {
	data, err := os.ReadFile(path)
	if err != nil {
		l.probs.add(field, "%v", err)
		return
	}
	var set descriptorpb.FileDescriptorSet
	if err := proto.Unmarshal(data, &set); err != nil {
		l.probs.add(field, "%s: not a FileDescriptorSet (nor a .proto file or a folder): %v", path, err)
		return
	}
	for _, f := range set.GetFile() {
		if err := keepHTTPRulesRaw(f); err != nil {
			l.probs.add(field, "%s: %s: %v", path, f.GetName(), err)
			continue
		}
		l.addFile(field, f)
	}
}

// addDiscovered adds the files a backend sent; one already loaded from
// another source must be the same.
func (l *loader) addDiscovered(d Discovered) {
	for _, f := range d.Files {
		name := f.GetName()
		if builtIn(name) {
			continue
		}
		if prev, ok := l.byName[name]; ok {
			if !sameFileProto(prev, f) {
				l.probs.add(d.Field, "discovered file %s differs from the one loaded from %s", name, l.field[name])
			}
			continue
		}
		if fd, err := protoregistry.GlobalFiles.FindFileByPath(name); err == nil {
			// A compiled-in twin: the same file is served with its
			// generated types; a different one is an error.
			if !sameFileProto(protodesc.ToFileDescriptorProto(fd), f) {
				l.probs.add(d.Field, "discovered file %s differs from the one compiled into Portico", name)
				continue
			}
		}
		l.addFile(d.Field, f)
	}
}

// sameFileProto reports whether two files describe the same schema
// (comments and positions aside).
func sameFileProto(a, b *descriptorpb.FileDescriptorProto) bool {
	a, errA := normalize(a)
	b, errB := normalize(b)
	if errA != nil || errB != nil {
		return false
	}
	a.SourceCodeInfo, b.SourceCodeInfo = nil, nil
	return proto.Equal(a, b)
}

// addFile adds a file to register; the first of a name wins.
func (l *loader) addFile(field string, f *descriptorpb.FileDescriptorProto) {
	name := f.GetName()
	if _, dup := l.byName[name]; dup {
		return
	}
	l.byName[name] = f
	l.order = append(l.order, name)
	if _, ok := l.field[name]; !ok {
		l.field[name] = field
	}
}

// register builds the registry: every file in dependency order, and the
// compiled-in files they import, with their own imports, so that the
// registry resolves everything reflection may ask for.
func (l *loader) register() *protoregistry.Files {
	files := &protoregistry.Files{}
	failed := map[string]bool{} // reported once, not again for each importer
	var add, addNew func(name, importer string, stack []string) bool
	add = func(name, importer string, stack []string) bool {
		if _, err := files.FindFileByPath(name); err == nil {
			return true
		}
		if failed[name] {
			return false
		}
		ok := addNew(name, importer, stack)
		failed[name] = !ok
		return ok
	}
	addNew = func(name, importer string, stack []string) bool {
		fdp, ok := l.byName[name]
		if !ok {
			fd, err := protoregistry.GlobalFiles.FindFileByPath(name)
			if err != nil {
				l.probs.add(l.fieldOf(importer), "%s: import %q is in no descriptor set (build them with imports: buf build -o, or protoc --include_imports)", importer, name)
				return false
			}
			return l.registerCompiledIn(files, fd)
		}
		for _, s := range stack {
			if s == name {
				l.probs.add(l.fieldOf(name), "import cycle through %q", name)
				return false
			}
		}
		for _, dep := range fdp.GetDependency() {
			if !add(dep, name, append(stack, name)) {
				return false
			}
		}
		fd, err := protodesc.NewFile(fdp, files)
		if err != nil {
			l.probs.add(l.fieldOf(name), "%s: %v", name, err)
			return false
		}
		if err := files.RegisterFile(fd); err != nil {
			l.probs.add(l.fieldOf(name), "%s: %v", name, err)
			return false
		}
		return true
	}
	for _, name := range l.order {
		add(name, "", nil)
	}
	return files
}

// registerCompiledIn registers a compiled-in file after its imports.
func (l *loader) registerCompiledIn(files *protoregistry.Files, fd protoreflect.FileDescriptor) bool {
	if _, err := files.FindFileByPath(fd.Path()); err == nil {
		return true
	}
	imps := fd.Imports()
	for i := 0; i < imps.Len(); i++ {
		if !l.registerCompiledIn(files, imps.Get(i).FileDescriptor) {
			return false
		}
	}
	if err := files.RegisterFile(fd); err != nil {
		l.probs.add("descriptors", "%s: %v", fd.Path(), err)
		return false
	}
	return true
}
