package config

import (
	"fmt"
	"os"
	"path/filepath"

	configv1 "github.com/portico-gw/portico/gen/portico/config/v1"
)

// File is a loaded config file.
type File struct {
	// Config is the file's content, with defaults filled in (see
	// [DefaultHTTPAddress]). Paths in it are as written in the file; use
	// [File.Resolve] to open them. When [Load] or [Parse] also return an
	// error, Config holds what could be read, for checks that go on
	// regardless (as portico validate does); it must not be served.
	Config *configv1.Config
	// Path is the absolute path of the file; empty if it came from [Parse].
	Path string
	// Dir is the absolute directory that relative paths in the file are
	// relative to: the file's own directory when it came from [Load].
	Dir string

	// name is the file as problems name it: the path given to Load.
	name string
	// index locates key paths in the file; nil for a File built in code.
	index *index
}

// Load reads and checks the config file at path. Relative paths in the file
// are relative to the file's directory. Problems name the file as path
// does.
//
// If the file cannot be read, the error is the one from [os.ReadFile] and
// the File is nil; otherwise they are as from [Parse].
func Load(path string) (*File, error) {
	abs, err := filepath.Abs(path)
	if err != nil {
		return nil, fmt.Errorf("config: %w", err)
	}
	data, err := os.ReadFile(abs)
	if err != nil {
		return nil, err
	}
	f, err := parse(data, filepath.Dir(abs), filepath.Clean(path))
	if f != nil {
		f.Path = abs
	}
	return f, err
}

// Parse reads and checks a config file's YAML content; relative paths in it
// resolve from dir (made absolute; "" means the working directory).
//
// If the content is not a valid config, the error is an [Errors] holding
// every problem found, each with its line, column and key path, in the
// order they appear in the file. The File is then still returned, with
// what could be decoded, unless the content is not YAML or not a mapping
// at all: a caller may go on checking it (see [File.Join]), but must not
// serve it.
func Parse(data []byte, dir string) (*File, error) {
	return parse(data, dir, "")
}

func parse(data []byte, dir, name string) (*File, error) {
	absDir, err := filepath.Abs(dir)
	if err != nil {
		return nil, fmt.Errorf("config: %w", err)
	}
	d := decode(data)
	if d.cfg == nil {
		f := &File{Dir: absDir, name: name}
		return nil, f.Join(d.errs)
	}
	f := &File{Config: d.cfg, Dir: absDir, name: name, index: d.index}
	setDefaults(d.cfg)
	var rules errorList
	if err := validateRules(d.cfg, &rules); err != nil {
		return nil, err
	}
	var checks errorList
	check(d.cfg, &checks)
	if err := f.Join(d.errs, rules.err(), checks.err()); err != nil {
		return f, err
	}
	return f, nil
}

// Resolve returns p made absolute against f.Dir, or p unchanged (but
// cleaned) if it is already absolute.
func (f *File) Resolve(p string) string {
	if filepath.IsAbs(p) {
		return filepath.Clean(p)
	}
	return filepath.Join(f.Dir, p)
}
