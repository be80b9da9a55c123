package config

import (
	"bytes"
	"errors"
	"fmt"
	"reflect"
	"regexp"
	"strconv"
	"strings"

	"buf.build/go/protoyaml"
	"go.yaml.in/yaml/v3"
	"golang.org/x/text/encoding/unicode"
	"golang.org/x/text/transform"

	configv1 "github.com/portico-gw/portico/gen/portico/config/v1"
)

// decoded is what reading the YAML gives: the document's top-level node
// (nil when the file is not YAML, or is empty), the config as far as it
// could be decoded (nil only when there is no top-level mapping), the index
// of key paths, and the problems found.
type decoded struct {
	root  *yaml.Node
	cfg   *configv1.Config
	index *index
	errs  Errors
}

// decode reads YAML into a Config. buf.build/go/protoyaml does the
// decoding and gives each problem a position; the shape layer (shape.go)
// goes over the same document to add what protoyaml does not do the way
// this file's readers need: one spelling of keys with a suggestion for
// typos, duplicate keys, null as "unset", Go-style durations in words, and
// a key path for every problem.
func decode(data []byte) decoded {
	data, err := lineFeeds(data)
	if err != nil {
		return decoded{errs: Errors{{Message: "invalid UTF-16: " + err.Error()}}}
	}
	var doc yaml.Node
	if err = yaml.Unmarshal(data, &doc); err != nil {
		return decoded{errs: yamlErrors(err)}
	}
	if doc.Kind == 0 || len(doc.Content) == 0 || emptyDocument(doc.Content[0]) {
		return decoded{errs: Errors{{Message: "config is empty"}}}
	}
	root := doc.Content[0]
	if root.Kind != yaml.MappingNode {
		return decoded{root: root, errs: Errors{at(root, "", "want a mapping of keys such as listen, integrations and apis, got "+describe(root))}}
	}
	cfg := &configv1.Config{}
	// Unknown keys are left to the shape layer, which suggests the key
	// meant. The schema's rules are checked later (validate.go), once
	// defaults are in.
	err = unmarshalProto(data, cfg)
	sh := newShaper()
	sh.message(root, "", cfg.ProtoReflect().Descriptor(), cfg.ProtoReflect())
	out := decoded{root: root, cfg: cfg, index: sh.index}
	out.errs = append(out.errs, sh.errs...)
	for _, pe := range protoyamlErrors(err) {
		p := pos{pe.Line, pe.Column}
		if sh.spoken[p] || sh.nulls[p] {
			// The shape layer has said what is wrong here, or the value
			// is null, which means unset.
			continue
		}
		pe.Field = sh.index.pathAt(p)
		out.errs = append(out.errs, pe)
	}
	return out
}

// lineFeeds ends every line of data with "\n". YAML ends a line at "\n",
// "\r\n", a lone "\r", NEL, LS or PS (U+0085, U+2028, U+2029); protoyaml
// finds the text of a line at fault by splitting on "\n" alone, and a file
// with other breaks made it index past its last line and panic. A file
// in UTF-16 (YAML allows it, with a byte order mark) is made UTF-8 first:
// the bytes of its characters must not be taken for breaks.
func lineFeeds(data []byte) ([]byte, error) {
	if bytes.HasPrefix(data, []byte{0xfe, 0xff}) || bytes.HasPrefix(data, []byte{0xff, 0xfe}) {
		utf8, _, err := transform.Bytes(unicode.UTF16(unicode.BigEndian, unicode.ExpectBOM).NewDecoder(), data)
		if err != nil {
			return nil, err
		}
		data = utf8
	}
	if !bytes.ContainsAny(data, "\r\u0085\u2028\u2029") {
		return data, nil
	}
	return []byte(breaks.Replace(string(data))), nil
}

// breaks rewrites YAML's line breaks as "\n" ("\r\n" before "\r").
var breaks = strings.NewReplacer("\r\n", "\n", "\r", "\n", "\u0085", "\n", "\u2028", "\n", "\u2029", "\n")

// unmarshalProto decodes data into cfg with protoyaml. A panic in it (a
// bug in the library on some input) is a problem with the file, not the
// end of the process: the same code reads a config at reload, while the
// gateway serves.
func unmarshalProto(data []byte, cfg *configv1.Config) (err error) {
	defer func() {
		if v := recover(); v != nil {
			err = fmt.Errorf("the YAML decoder failed on this file (%v); please report it", v)
		}
	}()
	return protoyaml.UnmarshalOptions{DiscardUnknown: true}.Unmarshal(data, cfg)
}

// yamlLine finds the line number in a go.yaml.in/yaml/v3 syntax error
// ("yaml: line 3: did not find expected key"). The library gives no column,
// and no line for problems on the first line.
var yamlLine = regexp.MustCompile(`^line (\d+): `)

// yamlErrors words a YAML syntax error as problems.
func yamlErrors(err error) Errors {
	var errs Errors
	msg := strings.TrimPrefix(err.Error(), "yaml: ")
	for _, line := range strings.Split(msg, "\n") {
		line = strings.TrimSpace(line)
		if line == "" || line == "unmarshal errors:" {
			continue
		}
		e := &Error{}
		if m := yamlLine.FindStringSubmatch(line); m != nil {
			e.Line, _ = strconv.Atoi(m[1])
			line = line[len(m[0]):]
		}
		e.Message = "invalid YAML: " + line
		errs = append(errs, e)
	}
	if len(errs) == 0 {
		errs = Errors{{Message: "invalid YAML: " + msg}}
	}
	return errs
}

// protoyamlErrors turns protoyaml's error into problems with a position.
//
// protoyaml joins one error per problem; each is an unexported type whose
// exported Node field is the YAML node at fault. There is no exported way
// to reach it, so it is read by reflection here; TestProtoyamlPositions
// fails if a new version of protoyaml moves it. The problem's own words are
// the wrapped cause (its Error() adds a source snippet).
func protoyamlErrors(err error) Errors {
	if err == nil {
		return nil
	}
	var list []error
	if j, ok := err.(interface{ Unwrap() []error }); ok {
		list = j.Unwrap()
	} else {
		list = []error{err}
	}
	var errs Errors
	for _, one := range list {
		e := &Error{Message: one.Error()}
		if cause := errors.Unwrap(one); cause != nil {
			e.Message = cause.Error()
		}
		if n := errorNode(one); n != nil {
			e.Line, e.Column = n.Line, n.Column
		}
		errs = append(errs, e)
	}
	return errs
}

// errorNode returns the exported Node field of one of protoyaml's errors,
// or nil.
func errorNode(err error) *yaml.Node {
	v := reflect.ValueOf(err)
	if v.Kind() != reflect.Pointer || v.IsNil() || v.Elem().Kind() != reflect.Struct {
		return nil
	}
	f := v.Elem().FieldByName("Node")
	if !f.IsValid() || !f.CanInterface() {
		return nil
	}
	n, _ := f.Interface().(*yaml.Node)
	return n
}

// at makes a problem at node n for the key path field.
func at(n *yaml.Node, field, message string) *Error {
	return &Error{Field: field, Message: message, Line: n.Line, Column: n.Column}
}

// emptyDocument tells whether root is the implicit null of a document
// with nothing in it but markers and comments ("---"). The YAML library
// places that null after the document's last line, which no editor shows.
func emptyDocument(root *yaml.Node) bool {
	return root.Kind == yaml.ScalarNode && root.ShortTag() == "!!null" && root.Value == "" && root.Style == 0
}

// describe names a YAML value for a message.
func describe(n *yaml.Node) string {
	switch n.Kind {
	case yaml.MappingNode:
		return "a mapping"
	case yaml.SequenceNode:
		return "a list"
	case yaml.AliasNode:
		return "an alias"
	}
	switch n.ShortTag() {
	case "!!null":
		return "nothing"
	case "!!int", "!!float":
		return "number " + n.Value
	case "!!bool":
		return "boolean " + n.Value
	}
	return "string " + strconv.Quote(n.Value)
}
