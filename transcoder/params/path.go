package params

import (
	"strconv"
	"strings"

	"google.golang.org/protobuf/reflect/protoreflect"
)

// Path is a resolved field path from a root message descriptor, such as
// book.name: the descriptor of each field in turn. Every field but the last
// is a singular message field.
type Path []protoreflect.FieldDescriptor

// Resolve resolves a dotted field path such as "book.name" against md, the
// way google.api.http rules name fields: by proto field name at each step.
// Only the last field may be a non-message, repeated or map field; every
// intermediate field must be a singular message. Errors name the field that
// is missing or cannot be traversed. Resolve is meant to run once, when a
// route is built.
func Resolve(md protoreflect.MessageDescriptor, dotted string) (Path, error) {
	if dotted == "" {
		return nil, invalidArgument("empty field path")
	}
	p := make(Path, 0, strings.Count(dotted, ".")+1)
	rest := dotted
	for {
		name, tail, more := strings.Cut(rest, ".")
		fd := md.Fields().ByName(protoreflect.Name(name))
		if fd == nil {
			return nil, invalidArgument("field path " + strconv.Quote(dotted) + ": no field " +
				strconv.Quote(name) + " in message " + string(md.FullName()))
		}
		p = append(p, fd)
		if !more {
			return p, nil
		}
		if fd.Message() == nil || fd.IsList() || fd.IsMap() {
			return nil, invalidArgument("field path " + strconv.Quote(dotted) + ": field " +
				strconv.Quote(p.String()) + " is not a singular message field")
		}
		md = fd.Message()
		rest = tail
	}
}

// String returns the dotted proto field names of p, such as "book.name".
func (p Path) String() string {
	switch len(p) {
	case 0:
		return ""
	case 1:
		return string(p[0].Name())
	}
	var b strings.Builder
	for i, fd := range p {
		if i > 0 {
			b.WriteByte('.')
		}
		b.WriteString(string(fd.Name()))
	}
	return b.String()
}
