package config

import (
	"cmp"
	"slices"
	"strings"

	"go.yaml.in/yaml/v3"
)

// pos is a position in the file (line and column from 1).
type pos struct{ line, col int }

func posOf(n *yaml.Node) pos { return pos{n.Line, n.Column} }

// index maps the key paths of a file to its YAML nodes, and positions back
// to key paths.
type index struct {
	nodes map[string]*yaml.Node // key path -> its value's node
	paths map[pos]string        // position -> the first key path recorded there
}

func newIndex() *index {
	return &index{nodes: map[string]*yaml.Node{}, paths: map[pos]string{}}
}

// add records that n is at path. A block mapping starts where its first
// key does; the mapping is recorded first, so a problem at that position
// (with the key, or with the mapping) is about the mapping's path.
func (ix *index) add(path string, n *yaml.Node) {
	if _, ok := ix.nodes[path]; !ok {
		ix.nodes[path] = n
	}
	p := posOf(n)
	if _, ok := ix.paths[p]; !ok {
		ix.paths[p] = path
	}
}

// pathAt returns the key path of the node at p, or "".
func (ix *index) pathAt(p pos) string {
	if ix == nil {
		return ""
	}
	return ix.paths[p]
}

// find returns the node of path, or of its nearest ancestor present in the
// file; nil if not even its first key is there.
func (ix *index) find(path string) *yaml.Node {
	if ix == nil {
		return nil
	}
	for path != "" {
		if n, ok := ix.nodes[path]; ok {
			return n
		}
		path = parentPath(path)
	}
	return nil
}

// parentPath strips the last element of a key path:
// "apis[0].services[1]" -> "apis[0].services" -> "apis[0]" -> "apis" -> "".
// Map keys are quoted ("set_metadata[\"x.y\"]") and may hold any character.
func parentPath(path string) string {
	last := 0
	for i := 0; i < len(path); i++ {
		switch path[i] {
		case '.':
			last = i
		case '[':
			last = i
			if i+1 < len(path) && path[i+1] == '"' {
				// Skip the quoted key, escapes included.
				for i += 2; i < len(path) && path[i] != '"'; i++ {
					if path[i] == '\\' {
						i++
					}
				}
			}
		}
	}
	return path[:last]
}

// related reports whether two key paths name the same place, or one is
// inside the other. The whole file ("") is related to nothing.
func related(a, b string) bool {
	if a == "" || b == "" {
		return false
	}
	if len(a) > len(b) {
		a, b = b, a
	}
	return b == a || strings.HasPrefix(b, a) && (b[len(a)] == '.' || b[len(a)] == '[')
}

// Locate gives a position in f to each problem in err that has a key path
// but no file: err may be an *Error, an [Errors], or wrap or join them.
// Such problems come from later phases that know key paths, not positions
// (building the snapshot and the catalog). A problem whose key is absent
// from the file (a default was used) is placed at its nearest ancestor
// that is present; a problem about the file as a whole gets f's name only.
// Locate changes the problems in place and returns err.
func (f *File) Locate(err error) error {
	for _, e := range flatten(err) {
		f.locate(e)
	}
	return err
}

func (f *File) locate(e *Error) {
	if e.File != "" {
		return // in another file, or already placed
	}
	e.File = f.name
	if e.Line > 0 || f.index == nil {
		return
	}
	if n := f.index.find(e.Field); n != nil {
		e.Line, e.Column = n.Line, n.Column
	}
}

// flatten lists the *Error values in err, which may be an *Error, an
// [Errors], or wrap or join them.
func flatten(err error) []*Error {
	switch e := err.(type) {
	case nil:
		return nil
	case *Error:
		return []*Error{e}
	case Errors:
		return e
	}
	var out []*Error
	switch u := err.(type) {
	case interface{ Unwrap() []error }:
		for _, one := range u.Unwrap() {
			out = append(out, flatten(one)...)
		}
	case interface{ Unwrap() error }:
		out = flatten(u.Unwrap())
	}
	return out
}

// Join gathers the problems that successive phases found in f — Parse's
// first, then, say, those of building a snapshot from it — into one
// [Errors], nil if there are none:
//   - each phase's problems are located in f (see [File.Locate]);
//   - an error from a phase that holds no *Error is kept as one problem
//     about the file;
//   - a problem at a key path where an earlier phase already found one (at
//     the same key, inside it or around it) is dropped: it is the
//     consequence of that problem, not news;
//   - the rest are ordered by position: problems about the file as a
//     whole, then those in f line by line, then those in other files.
func (f *File) Join(phases ...error) error {
	var all Errors
	var earlier []string
	for _, phase := range phases {
		if es, ok := phase.(Errors); phase == nil || ok && len(es) == 0 {
			continue
		}
		es := flatten(phase)
		if len(es) == 0 {
			es = []*Error{{Message: phase.Error()}}
		}
		var fields []string
	next:
		for _, e := range es {
			f.locate(e)
			for _, prev := range earlier {
				if related(prev, e.Field) {
					continue next
				}
			}
			all = append(all, e)
			fields = append(fields, e.Field)
		}
		earlier = append(earlier, fields...)
	}
	if len(all) == 0 {
		return nil
	}
	f.sort(all)
	return all
}

// sort orders problems by place (see [File.Join]); problems at the same
// place keep their order.
func (f *File) sort(es Errors) {
	rank := func(e *Error) int {
		switch {
		case e.File != f.name:
			return 2
		case e.Line == 0:
			return 0
		}
		return 1
	}
	slices.SortStableFunc(es, func(a, b *Error) int {
		return cmp.Or(
			cmp.Compare(rank(a), rank(b)),
			strings.Compare(a.File, b.File),
			cmp.Compare(a.Line, b.Line),
			cmp.Compare(a.Column, b.Column),
		)
	})
}
