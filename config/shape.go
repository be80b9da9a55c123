package config

import (
	"fmt"
	"sort"
	"strconv"
	"strings"

	"buf.build/go/protoyaml"
	"go.yaml.in/yaml/v3"
	"google.golang.org/protobuf/reflect/protoreflect"
)

// durationName is the full name of google.protobuf.Duration: durations are
// Go-style strings ("10s", "500ms", "1h30m").
const durationName protoreflect.FullName = "google.protobuf.Duration"

// durationHint is how every duration problem says what is wanted.
const durationHint = `a duration such as "10s", "500ms" or "1m30s"`

// shaper goes over the YAML document and the config protoyaml decoded from
// it, side by side. It is the thin layer over protoyaml: protoyaml decodes
// values and locates what it cannot decode; the shaper adds
//   - one spelling for keys, the proto field name (protoyaml also takes the
//     lowerCamel JSON name and the field number), with a suggestion for a
//     key that is not one;
//   - duplicate keys as errors (the YAML library keeps the last silently);
//   - null as "unset" for a field (protoyaml stores the text "null" in a
//     string and rejects null for a list), and as an error for a list item;
//   - problems of shape and durations in the file's own words ("want a
//     list, got string "x"");
//   - the index from key paths to nodes that locates every later problem.
//
// Where the shaper reports a problem, or finds null, at a node, protoyaml's
// own report at that node is dropped (see decode), so each problem is told
// once.
type shaper struct {
	index  *index
	errs   Errors
	spoken map[pos]bool // positions the shaper reported a problem at
	nulls  map[pos]bool // positions of null values
}

func newShaper() *shaper {
	return &shaper{index: newIndex(), spoken: map[pos]bool{}, nulls: map[pos]bool{}}
}

// report records a problem at n.
func (s *shaper) report(n *yaml.Node, field, message string) {
	s.errs = append(s.errs, at(n, field, message))
	s.spoken[posOf(n)] = true
}

// silence marks n and everything under it as spoken for: after a problem
// with a key, protoyaml's reports about its value would only repeat it.
func (s *shaper) silence(n *yaml.Node) {
	s.spoken[posOf(n)] = true
	for _, c := range n.Content {
		s.silence(c)
	}
}

// message checks n, a mapping at path, against md. m is the message
// protoyaml decoded from n, or nil when it did not keep one; nulls are
// cleared in it.
func (s *shaper) message(n *yaml.Node, path string, md protoreflect.MessageDescriptor, m protoreflect.Message) {
	s.index.add(path, n)
	seen := map[string]*yaml.Node{}
	for i := 0; i+1 < len(n.Content); i += 2 {
		k, v := n.Content[i], n.Content[i+1]
		s.index.add(path, k) // a problem with a key is about its mapping
		if k.Kind != yaml.ScalarNode {
			s.report(k, path, "want a key, got "+describe(k))
			s.silence(v)
			continue
		}
		field := join(path, k.Value)
		if first, dup := seen[k.Value]; dup {
			s.report(k, field, fmt.Sprintf("key is already set at line %d", first.Line))
			s.silence(v)
			continue
		}
		seen[k.Value] = k
		fd := md.Fields().ByName(protoreflect.Name(k.Value))
		if fd == nil {
			s.report(k, field, unknownKey(k.Value, md))
			s.silence(v)
			continue
		}
		s.field(v, field, fd, m)
	}
}

// field checks v, the value of fd at path in m (m may be nil).
func (s *shaper) field(v *yaml.Node, path string, fd protoreflect.FieldDescriptor, m protoreflect.Message) {
	s.index.add(path, v)
	if isNull(v) {
		s.nulls[posOf(v)] = true
		if m != nil && fd.Message() == nil {
			m.Clear(fd) // null means unset, as in proto3 JSON
		}
		return
	}
	switch {
	case fd.IsMap():
		if v.Kind != yaml.MappingNode {
			s.report(v, path, "want a mapping, got "+describe(v))
			return
		}
		seen := map[string]*yaml.Node{}
		for i := 0; i+1 < len(v.Content); i += 2 {
			k, val := v.Content[i], v.Content[i+1]
			s.index.add(path, k)
			if first, dup := seen[k.Value]; dup && k.Kind == yaml.ScalarNode {
				s.report(k, path+"["+strconv.Quote(k.Value)+"]", fmt.Sprintf("key is already set at line %d", first.Line))
				s.silence(val)
				continue
			}
			seen[k.Value] = k
			s.item(val, path+"["+strconv.Quote(k.Value)+"]", fd.MapValue(), nil)
		}
	case fd.IsList():
		if v.Kind != yaml.SequenceNode {
			s.report(v, path, "want a list, got "+describe(v))
			return
		}
		var list protoreflect.List
		if m != nil && m.Has(fd) {
			list = m.Get(fd).List()
		}
		for i, item := range v.Content {
			var elem protoreflect.Message
			if list != nil && fd.Message() != nil && i < list.Len() {
				elem = list.Get(i).Message()
			}
			s.item(item, path+"["+strconv.Itoa(i)+"]", fd, elem)
		}
	default:
		var sub protoreflect.Message
		if m != nil && fd.Message() != nil && m.Has(fd) {
			sub = m.Mutable(fd).Message()
		}
		s.single(v, path, fd, sub)
	}
}

// item checks v, a list item or map value of fd's kind at path. Null is
// not a value here.
func (s *shaper) item(v *yaml.Node, path string, fd protoreflect.FieldDescriptor, m protoreflect.Message) {
	s.index.add(path, v)
	if isNull(v) {
		s.report(v, path, "want "+want(fd)+", got nothing")
		return
	}
	s.single(v, path, fd, m)
}

// single checks v, a non-null value of fd's kind at path. m is the message
// decoded from v, for a message field.
func (s *shaper) single(v *yaml.Node, path string, fd protoreflect.FieldDescriptor, m protoreflect.Message) {
	if fd.Message() != nil {
		md := fd.Message()
		switch {
		case md.FullName() == durationName:
			s.duration(v, path)
		case md.FullName().Parent() == "google.protobuf":
			// Other well-known types keep protoyaml's own forms.
		case v.Kind != yaml.MappingNode:
			s.report(v, path, "want a mapping, got "+describe(v))
		default:
			s.message(v, path, md, m)
		}
		return
	}
	if v.Kind != yaml.ScalarNode {
		s.report(v, path, "want "+want(fd)+", got "+describe(v))
		return
	}
	if fd.Kind() == protoreflect.BoolKind && v.ShortTag() != "!!bool" {
		s.report(v, path, "want true or false, got "+describe(v))
	}
	// Strings take any scalar (YAML's 8080 is the text "8080" here);
	// numbers and enum values are checked by protoyaml.
}

// duration checks a Go-style duration.
func (s *shaper) duration(v *yaml.Node, path string) {
	if v.Kind != yaml.ScalarNode || v.ShortTag() != "!!str" {
		s.report(v, path, "want "+durationHint+", got "+describe(v))
		return
	}
	if _, err := protoyaml.ParseDuration(v.Value); err != nil {
		s.report(v, path, fmt.Sprintf("invalid duration %q: want %s", v.Value, durationHint))
	}
}

// want names what a value of fd's kind looks like.
func want(fd protoreflect.FieldDescriptor) string {
	switch {
	case fd.Message() != nil && fd.Message().FullName() == durationName:
		return durationHint
	case fd.Message() != nil:
		return "a mapping"
	}
	switch fd.Kind() {
	case protoreflect.StringKind, protoreflect.BytesKind:
		return "a string"
	case protoreflect.BoolKind:
		return "true or false"
	case protoreflect.EnumKind:
		return "one of " + strings.Join(enumValueNames(fd.Enum()), ", ")
	case protoreflect.FloatKind, protoreflect.DoubleKind:
		return "a number"
	}
	return "a whole number"
}

// isNull reports whether n is YAML's null (null, ~, or nothing at all).
func isNull(n *yaml.Node) bool {
	return n.Kind == yaml.ScalarNode && n.ShortTag() == "!!null"
}

// unknownKey says that key is not a field of md, suggesting the field the
// writer probably meant: the snake_case name of a lowerCamel key, a case
// slip, or a name within two edits.
func unknownKey(key string, md protoreflect.MessageDescriptor) string {
	names := make([]string, 0, md.Fields().Len())
	best, bestDist := "", 3
	for i := 0; i < md.Fields().Len(); i++ {
		fd := md.Fields().Get(i)
		name := string(fd.Name())
		names = append(names, name)
		if fd.JSONName() == key || strings.EqualFold(name, key) || strconv.Itoa(int(fd.Number())) == key {
			best, bestDist = name, 0
			continue
		}
		if d := editDistance(key, name); d < bestDist && d < len(key) {
			best, bestDist = name, d
		}
	}
	if best != "" {
		return fmt.Sprintf("unknown key (did you mean %q?)", best)
	}
	sort.Strings(names)
	return fmt.Sprintf("unknown key (known: %s)", strings.Join(names, ", "))
}

// oneofFieldNames lists the names of the fields of od.
func oneofFieldNames(od protoreflect.OneofDescriptor) []string {
	names := make([]string, od.Fields().Len())
	for i := range names {
		names[i] = string(od.Fields().Get(i).Name())
	}
	return names
}

// enumValueNames lists the value names of ed.
func enumValueNames(ed protoreflect.EnumDescriptor) []string {
	names := make([]string, ed.Values().Len())
	for i := range names {
		names[i] = string(ed.Values().Get(i).Name())
	}
	return names
}

// join appends a key to a key path.
func join(path, key string) string {
	if path == "" {
		return key
	}
	return path + "." + key
}
