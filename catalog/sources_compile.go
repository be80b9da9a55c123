package catalog

// Compiling the listed .proto files, their imports resolved from the
// binary, the descriptor sets and the proto paths.

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"

	"github.com/bufbuild/protocompile"
	"github.com/bufbuild/protocompile/linker"
	"github.com/bufbuild/protocompile/reporter"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/reflect/protoregistry"
	"google.golang.org/protobuf/types/descriptorpb"
)

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
