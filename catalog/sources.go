package catalog

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"sync"

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

// fieldOf is the config key to blame for a file: the entry that listed it,
// or "descriptors" for an import found on disk.
func (l *loader) fieldOf(name string) string {
	if f, ok := l.field[name]; ok {
		return f
	}
	return "descriptors"
}
