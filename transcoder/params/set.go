package params

import (
	"errors"
	"strconv"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/reflect/protoreflect"
)

// errMapNeedsKey reports an attempt to set a map field without a key.
var errMapNeedsKey = errors.New("a map field needs a key")

// Set sets the field at p in msg from one textual value, already
// percent-decoded, creating intermediate messages as needed. A repeated last
// field gets the value appended. The value syntax is that of Query (see
// there); a map field, or a message field whose type is not one of the
// well-known types with a text form, cannot be set.
//
// msg must be a message of the type p was resolved against. Setting a member
// of a oneof whose other member is already set fails. Errors are gRPC status
// errors with codes.InvalidArgument whose message names the field and the
// value.
func Set(msg protoreflect.Message, p Path, value string) error {
	return Limits{}.Set(msg, p, value)
}

// Set is the package-level Set within l: the JSON of a Struct, Value or
// ListValue obeys l.MaxDepth and l.JSON.
func (l Limits) Set(msg protoreflect.Message, p Path, value string) error {
	l = l.withDefaults()
	if len(p) == 0 {
		return invalidArgument("empty field path")
	}
	if p[0].ContainingMessage() != msg.Descriptor() {
		return status.Error(codes.Internal, "field path "+strconv.Quote(p.String())+" of "+
			string(p[0].ContainingMessage().FullName())+" used on a "+string(msg.Descriptor().FullName()))
	}
	parent, err := walk(msg, p)
	if err != nil {
		return err
	}
	if err := setField(parent, p[len(p)-1], value, l.jsonAt(p)); err != nil {
		return fieldError(p.String(), p[len(p)-1], err, "a text value")
	}
	return nil
}

// walk returns the message holding the last field of p, creating the
// intermediate messages on the way. It refuses to step onto a member of a
// oneof whose other member is set.
func walk(m protoreflect.Message, p Path) (protoreflect.Message, error) {
	last := len(p) - 1
	for i, fd := range p {
		if od := fd.ContainingOneof(); od != nil && !od.IsSynthetic() {
			if other := m.WhichOneof(od); other != nil && other.Number() != fd.Number() {
				return nil, invalidArgument("cannot set field " + strconv.Quote(p[:i+1].String()) +
					": field " + strconv.Quote(string(other.Name())) + " of the same oneof " +
					strconv.Quote(string(od.Name())) + " is already set")
			}
		}
		if i == last {
			break
		}
		m = m.Mutable(fd).Message()
	}
	return m, nil
}

// setField sets, or for a list appends, fd of m from its text form s; j
// bounds a JSON value. Its errors are reasons (see fieldError), not status
// errors.
func setField(m protoreflect.Message, fd protoreflect.FieldDescriptor, s string, j jsonRules) error {
	switch {
	case fd.IsMap():
		return errMapNeedsKey
	case fd.IsList():
		if fd.Message() == nil {
			v, err := parseScalar(fd, s)
			if err != nil {
				return err
			}
			m.Mutable(fd).List().Append(v)
			return nil
		}
		list := m.Mutable(fd).List()
		e := list.NewElement()
		if err := setWellKnown(e.Message(), s, j); err != nil {
			return err
		}
		list.Append(e)
		return nil
	case fd.Message() != nil:
		v := m.NewField(fd)
		if err := setWellKnown(v.Message(), s, j); err != nil {
			return err
		}
		m.Set(fd, v)
		return nil
	default:
		v, err := parseScalar(fd, s)
		if err != nil {
			return err
		}
		m.Set(fd, v)
		return nil
	}
}

// fieldError turns a reason from setField into a status error naming the
// field at path; source says where the value came from.
func fieldError(path string, fd protoreflect.FieldDescriptor, err error, source string) error {
	switch err {
	case errNotWellKnown:
		return invalidArgument("cannot set message field " + strconv.Quote(path) + " (" +
			string(fd.Message().FullName()) + ") from " + source)
	case errMapNeedsKey:
		return invalidArgument("cannot set map field " + strconv.Quote(path) + " without a key; use " +
			path + "[key]=value")
	}
	return invalidValue(path, err.Error())
}
