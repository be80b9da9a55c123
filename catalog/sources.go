package catalog

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"sync"

	"github.com/bufbuild/protocompile"
	"github.com/bufbuild/protocompile/linker"
	"github.com/bufbuild/protocompile/reporter"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/reflect/protodesc"
	"google.golang.org/protobuf/reflect/protoreflect"
	"google.golang.org/protobuf/reflect/protoregistry"
	"google.golang.org/protobuf/types/descriptorpb"
)

// builtInPrefixes are the import paths always taken from the files compiled
// into Portico (protoregistry.GlobalFiles), never from disk: the well-known
// types, google/api, google/rpc and buf/validate. A copy of them in a
// proto path is ignored, so an API cannot bring a google.api.http option
// different from the one the gateway reads.
var builtInPrefixes = []string{"google/protobuf/", "google/api/", "google/rpc/", "buf/validate/"}

func builtIn(name string) bool {
	for _, p := range builtInPrefixes {
		if strings.HasPrefix(name, p) {
			return true
		}
	}
	return false
}

// LoadSources loads the APIs' descriptors listed under the config's
// descriptors key into one registry. Each entry is, by its name:
//   - a .proto file, compiled (with github.com/bufbuild/protocompile, what
//     buf uses) along with everything it imports;
//   - a folder: every .proto file under it, compiled;
//   - anything else: a FileDescriptorSet (buf build -o, protoc
//     --include_imports --descriptor_set_out).
//
// Relative paths are relative to dir (the config file's folder). Imports
// of .proto files are looked up, in order:
//  1. the well-known types, google/api/*, google/rpc/* and buf/validate/*
//     in the registry compiled into the binary (never on disk);
//  2. the files of the listed descriptor sets;
//  3. the folders of protoPaths (the config's proto_paths), or, when there
//     are none, the folder of each listed .proto file and each listed
//     folder;
//  4. any other file compiled into the binary.
//
// A listed .proto file's name (the path other files import it by) is its
// path within the first of those folders that holds it.
//
// Errors are config.Errors, every one found rather than the first: Field is
// "descriptors[i]" or "proto_paths[i]", and a syntax or type error in a
// .proto file carries that file's path, line and column.
func LoadSources(dir string, descriptors, protoPaths []string) (*protoregistry.Files, error) {
	return LoadSourcesWith(dir, descriptors, protoPaths, nil)
}

// Discovered are files fetched from a backend's server reflection (see
// LoadSourcesWith).
type Discovered struct {
	// Field is the config key that asked for them, e.g. "integrations[0]".
	Field string
	// Files are the files, dependencies first.
	Files []*descriptorpb.FileDescriptorProto
}

// LoadSourcesWith is LoadSources plus descriptors discovered from
// backends. Descriptors from files and from discovery combine; a file that
// comes from two sources must be the same in both (source info aside), or
// it is an error. Built-in files (google/api, the well-known types, ...)
// always come from the binary, whatever a backend sends. When descriptors
// is empty, the registry also holds the files compiled into the binary, so
// compiled-in APIs and discovered ones can be exposed side by side.
func LoadSourcesWith(dir string, descriptors, protoPaths []string, discovered []Discovered) (*protoregistry.Files, error) {
	l := &loader{
		byName: map[string]*descriptorpb.FileDescriptorProto{},
		field:  map[string]string{},
		disk:   map[string]string{},
	}
	abs := func(p string) string {
		if filepath.IsAbs(p) || dir == "" {
			return filepath.Clean(p)
		}
		return filepath.Join(dir, p)
	}
	for i, p := range protoPaths {
		field := fmt.Sprintf("proto_paths[%d]", i)
		root := abs(p)
		st, err := os.Stat(root)
		switch {
		case err != nil:
			l.probs.add(field, "%s", statError(root, err))
		case !st.IsDir():
			l.probs.add(field, "%s is not a folder", root)
		default:
			l.roots = append(l.roots, root)
		}
	}
	if err := l.probs.err(); err != nil {
		return nil, err // the files cannot be named without their proto paths
	}
	explicitRoots := len(protoPaths) > 0
	for i, p := range descriptors {
		field := fmt.Sprintf("descriptors[%d]", i)
		path := abs(p)
		st, err := os.Stat(path)
		switch {
		case err != nil:
			l.probs.add(field, "%s", statError(path, err))
		case st.IsDir():
			if !explicitRoots {
				l.addRoot(path)
			}
			l.addFolder(field, path)
		case strings.HasSuffix(path, ".proto"):
			if !explicitRoots {
				l.addRoot(filepath.Dir(path))
			}
			l.addSource(field, path)
		default:
			l.addSet(field, path)
		}
	}
	if err := l.probs.err(); err != nil {
		return nil, err
	}
	l.compile()
	if err := l.probs.err(); err != nil {
		return nil, err
	}
	for _, d := range discovered {
		l.addDiscovered(d)
	}
	if err := l.probs.err(); err != nil {
		return nil, err
	}
	files := l.register()
	if len(descriptors) == 0 && len(discovered) > 0 {
		protoregistry.GlobalFiles.RangeFiles(func(fd protoreflect.FileDescriptor) bool {
			if _, err := files.FindFileByPath(fd.Path()); err != nil {
				l.registerCompiledIn(files, fd)
			}
			return true
		})
	}
	if err := l.probs.err(); err != nil {
		return nil, err
	}
	return files, nil
}

// LoadDescriptorSets reads FileDescriptorSets into one registry; it is
// LoadSources for sets only, with paths used as given.
func LoadDescriptorSets(paths []string) (*protoregistry.Files, error) {
	return LoadSources("", paths, nil)
}

// loader gathers the files of all entries, then compiles and registers
// them.
type loader struct {
	probs problems
	// byName holds every file to register that is not compiled in, by
	// name; order is their order of appearance.
	byName map[string]*descriptorpb.FileDescriptorProto
	order  []string
	// field is the config key of the entry that brought each file.
	field map[string]string
	// roots are the folders imports are looked up in.
	roots []string
	// sources are the names of the listed .proto files, to compile.
	sources []string
	// mu guards disk and missing, which the compiler's resolver calls
	// update from several goroutines.
	mu sync.Mutex
	// disk maps the name of each .proto file read from disk to its path.
	disk map[string]string
	// missing are the imports the resolver could not find.
	missing []string
}

func statError(path string, err error) string {
	if errors.Is(err, fs.ErrNotExist) {
		return fmt.Sprintf("%s: no such file or folder", path)
	}
	return err.Error()
}

func (l *loader) addRoot(root string) {
	for _, r := range l.roots {
		if r == root {
			return
		}
	}
	l.roots = append(l.roots, root)
}

func (l *loader) addFolder(field, dir string) {
	var found []string
	err := filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if !d.IsDir() && strings.HasSuffix(p, ".proto") {
			found = append(found, p)
		}
		return nil
	})
	if err != nil {
		l.probs.add(field, "%v", err)
		return
	}
	if len(found) == 0 {
		l.probs.add(field, "folder %s holds no .proto file", dir)
		return
	}
	sort.Strings(found) // WalkDir's order already is lexical; keep it explicit
	for _, p := range found {
		l.addSource(field, p)
	}
}

// addSource names the .proto file at path by its place in the first root
// that holds it.
func (l *loader) addSource(field, path string) {
	name := ""
	for _, root := range l.roots {
		if rel, err := filepath.Rel(root, path); err == nil && rel != ".." && !strings.HasPrefix(rel, ".."+string(filepath.Separator)) {
			name = filepath.ToSlash(rel)
			break
		}
	}
	if name == "" {
		l.probs.add(field, "%s is in none of proto_paths (%s): a .proto file is named by its path within one of them", path, strings.Join(l.roots, ", "))
		return
	}
	if _, dup := l.field[name]; dup {
		return
	}
	if builtIn(name) {
		// Resolved from the binary whatever is on disk (see builtInPrefixes).
		return
	}
	l.field[name] = field
	l.disk[name] = path
	l.sources = append(l.sources, name)
}

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

// resolve finds an import for the compiler (see LoadSources for the order).
func (l *loader) resolve(name string) (protocompile.SearchResult, error) {
	if builtIn(name) {
		fd, err := protoregistry.GlobalFiles.FindFileByPath(name)
		if err != nil {
			return protocompile.SearchResult{}, fmt.Errorf("%q is not among the files compiled into Portico (the well-known types, google/api, google/rpc and buf/validate are never read from disk)", name)
		}
		return protocompile.SearchResult{Desc: fd}, nil
	}
	if f, ok := l.byName[name]; ok {
		return protocompile.SearchResult{Proto: f}, nil
	}
	l.mu.Lock()
	p, ok := l.disk[name]
	l.mu.Unlock()
	if ok {
		return l.read(name, p)
	}
	for _, root := range l.roots {
		p := filepath.Join(root, filepath.FromSlash(name))
		if _, err := os.Stat(p); err == nil {
			return l.read(name, p)
		}
	}
	if fd, err := protoregistry.GlobalFiles.FindFileByPath(name); err == nil {
		return protocompile.SearchResult{Desc: fd}, nil
	}
	l.mu.Lock()
	l.missing = append(l.missing, name)
	l.mu.Unlock()
	return protocompile.SearchResult{}, errors.New(l.notFound(name))
}

func (l *loader) notFound(name string) string {
	return fmt.Sprintf("import %q not found in proto_paths (%s)", name, strings.Join(l.roots, ", "))
}

func (l *loader) read(name, path string) (protocompile.SearchResult, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return protocompile.SearchResult{}, err
	}
	l.mu.Lock()
	l.disk[name] = path
	l.mu.Unlock()
	return protocompile.SearchResult{Source: bytes.NewReader(data)}, nil
}

// compile compiles the listed .proto files and adds them, and the imports
// compiled from disk, to the files to register.
func (l *loader) compile() {
	if len(l.sources) == 0 {
		return
	}
	var reported []reporter.ErrorWithPos
	c := protocompile.Compiler{
		Resolver: protocompile.ResolverFunc(l.resolve),
		// Go on after an error, so that every error is reported.
		Reporter: reporter.NewReporter(func(err reporter.ErrorWithPos) error {
			reported = append(reported, err)
			return nil
		}, nil),
		// Positions inside options too, so that an error or a conflict
		// names the line of an additional binding.
		SourceInfoMode: protocompile.SourceInfoStandard | protocompile.SourceInfoExtraOptionLocations,
	}
	results, err := c.Compile(context.Background(), l.sources...)
	if err != nil {
		for _, e := range reported {
			l.addCompileError(e)
		}
		// A failed import is the compiler's own error for the file that
		// imports it, not a reported one: it is returned only when nothing
		// was reported. Make sure every one is said.
		var pos reporter.ErrorWithPos
		switch {
		case errors.Is(err, reporter.ErrInvalidSource):
		case errors.As(err, &pos):
			l.addCompileError(pos)
		default:
			l.probs.add("descriptors", "%v", err)
		}
		for _, name := range l.missing {
			said := false
			for _, e := range l.probs.errs {
				said = said || strings.Contains(e.Message, strconv.Quote(name))
			}
			if !said {
				l.probs.add("descriptors", "%s", l.notFound(name))
			}
		}
		return
	}
	seen := map[string]bool{}
	var add func(f linker.File)
	add = func(f linker.File) {
		if seen[f.Path()] {
			return
		}
		seen[f.Path()] = true
		imps := f.Imports()
		for i := 0; i < imps.Len(); i++ {
			if dep := f.FindImportByPath(imps.Get(i).Path()); dep != nil {
				add(dep)
			}
		}
		res, ok := f.(linker.Result)
		if !ok {
			return // compiled in
		}
		if _, known := l.byName[f.Path()]; known {
			return // from a descriptor set
		}
		fdp, err := normalize(res.FileDescriptorProto())
		if err != nil {
			l.probs.add(l.fieldOf(f.Path()), "%s: %v", f.Path(), err)
			return
		}
		l.addFile(l.fieldOf(f.Path()), fdp)
	}
	for _, f := range results {
		add(f)
	}
}

// fieldOf is the config key to blame for a file: the entry that listed it,
// or "descriptors" for an import found on disk.
func (l *loader) fieldOf(name string) string {
	if f, ok := l.field[name]; ok {
		return f
	}
	return "descriptors"
}

func (l *loader) addCompileError(e reporter.ErrorWithPos) {
	pos := e.GetPosition()
	file := pos.Filename
	if p, ok := l.disk[file]; ok {
		file = p
	}
	msg := e.Error()
	if u := e.Unwrap(); u != nil {
		msg = u.Error()
	}
	l.probs.addAt(l.fieldOf(pos.Filename), file, pos.Line, pos.Col, "%s", msg)
}

// normalize round-trips a compiled file through its wire form, so that its
// options hold the compiled-in Go types of known extensions (such as
// google.api.http), exactly like a file read from a descriptor set or
// compiled into the binary: a source file equal to a compiled-in one then
// compares equal to it (see sameFile), and its generated Go types are used.
func normalize(fdp *descriptorpb.FileDescriptorProto) (*descriptorpb.FileDescriptorProto, error) {
	data, err := proto.Marshal(fdp)
	if err != nil {
		return nil, err
	}
	out := &descriptorpb.FileDescriptorProto{}
	if err := proto.Unmarshal(data, out); err != nil {
		return nil, err
	}
	return out, nil
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
