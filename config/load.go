package config

import (
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"google.golang.org/protobuf/encoding/protojson"
	"sigs.k8s.io/yaml"

	configv1 "github.com/portico-gw/portico/gen/portico/config/v1"
)

// File is a loaded, checked config file.
type File struct {
	// Config is the file's content, with defaults filled in (see
	// [DefaultHTTPAddress]). Paths in it are as written in the file; use
	// [File.Resolve] to open them.
	Config *configv1.Config
	// Path is the absolute path of the file; empty if it came from [Parse].
	Path string
	// Dir is the absolute directory that relative paths in the file are
	// relative to: the file's own directory when it came from [Load].
	Dir string
}

// Load reads and checks the config file at path. Relative paths in the file
// are relative to the file's directory.
//
// If the file cannot be read, the error is the one from [os.ReadFile];
// otherwise it is as from [Parse].
func Load(path string) (*File, error) {
	abs, err := filepath.Abs(path)
	if err != nil {
		return nil, fmt.Errorf("config: %w", err)
	}
	data, err := os.ReadFile(abs)
	if err != nil {
		return nil, err
	}
	f, err := Parse(data, filepath.Dir(abs))
	if err != nil {
		return nil, err
	}
	f.Path = abs
	return f, nil
}

// Parse reads and checks a config file's YAML content; relative paths in it
// resolve from dir (made absolute; "" means the working directory).
//
// If the content is not a valid config, the error is an [Errors] holding
// every problem found.
func Parse(data []byte, dir string) (*File, error) {
	absDir, err := filepath.Abs(dir)
	if err != nil {
		return nil, fmt.Errorf("config: %w", err)
	}
	cfg, err := decode(data)
	if err != nil {
		return nil, err
	}
	setDefaults(cfg)
	var errs errorList
	if err := validateRules(cfg, &errs); err != nil {
		return nil, err
	}
	check(cfg, &errs)
	if err := errs.err(); err != nil {
		return nil, err
	}
	return &File{Config: cfg, Dir: absDir}, nil
}

// Resolve returns p made absolute against f.Dir, or p unchanged (but
// cleaned) if it is already absolute.
func (f *File) Resolve(p string) string {
	if filepath.IsAbs(p) {
		return filepath.Clean(p)
	}
	return filepath.Join(f.Dir, p)
}

// decode turns YAML into a Config: YAML to JSON, a walk of the JSON against
// the schema for clear errors, then protojson.
func decode(data []byte) (*configv1.Config, error) {
	var errs errorList
	j, err := yaml.YAMLToJSONStrict(data)
	if err != nil {
		for _, msg := range yamlMessages(err) {
			errs.add("", msg)
		}
		return nil, errs.err()
	}
	dec := json.NewDecoder(bytes.NewReader(j))
	dec.UseNumber()
	var tree any
	if err := dec.Decode(&tree); err != nil {
		errs.add("", "reading YAML: "+err.Error())
		return nil, errs.err()
	}
	if tree == nil {
		errs.add("", "config is empty")
		return nil, errs.err()
	}
	if _, ok := tree.(map[string]any); !ok {
		errs.add("", "want a mapping of keys such as listen, integrations and apis, got "+describe(tree))
		return nil, errs.err()
	}
	cfg := &configv1.Config{}
	w := walker{errs: &errs}
	tree = w.message("", tree, cfg.ProtoReflect().Descriptor())
	if err := errs.err(); err != nil {
		return nil, err
	}
	j, err = json.Marshal(tree)
	if err != nil {
		return nil, fmt.Errorf("config: re-encoding the checked tree: %w", err)
	}
	if err := (protojson.UnmarshalOptions{}).Unmarshal(j, cfg); err != nil {
		// The walk should have caught everything protojson rejects.
		errs.add("", err.Error())
		return nil, errs.err()
	}
	return cfg, nil
}

// yamlMessages words a YAML error as one message per problem, keeping the
// line numbers the YAML library gives ("line 3: mapping values are not
// allowed in this context"). The library reports some problems together, one
// per line after an "unmarshal errors:" header.
func yamlMessages(err error) []string {
	msg := err.Error()
	msg = strings.TrimPrefix(msg, "error converting YAML to JSON: ")
	msg = strings.TrimPrefix(msg, "yaml: ")
	var out []string
	for _, line := range strings.Split(msg, "\n") {
		line = strings.TrimSpace(line)
		if line == "" || line == "unmarshal errors:" {
			continue
		}
		out = append(out, "invalid YAML: "+line)
	}
	if len(out) == 0 {
		out = append(out, "invalid YAML: "+msg)
	}
	return out
}
