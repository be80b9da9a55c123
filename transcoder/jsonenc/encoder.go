// Package jsonenc encodes protobuf messages as JSON exactly as
// protojson.MarshalOptions{EmitUnpopulated: true} does, minus protojson's
// deliberately random insignificant whitespace, but faster: the work that
// depends only on a message's descriptor (JSON names, quoting, kind
// dispatch, enum names) is done once per descriptor and cached, and values
// are appended straight into the caller's buffer.
//
// Constructs that are rare or intricate (google.protobuf.Any, populated
// extensions, proto1 MessageSets) are handed to protojson for that message
// alone and its output compacted, so the result is always protojson's.
package jsonenc

import (
	"encoding/base64"
	"fmt"
	"strconv"

	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/reflect/protoreflect"
	"google.golang.org/protobuf/reflect/protoregistry"
)

// Encoder marshals messages like protojson.MarshalOptions{EmitUnpopulated:
// true}: lowerCamel JSON names; unpopulated fields emitted as their zero
// value, null, [] or {}; proto3-optional fields and oneof members only when
// set; 64-bit integers as strings; enums by name (by number when unknown);
// bytes in standard base64; floats as protojson formats them, including
// "NaN", "Infinity" and "-Infinity"; well-known types in their JSON forms.
// It emits no insignificant whitespace.
//
// An Encoder is safe for concurrent use. Plans are cached per message
// descriptor, so an Encoder should be long-lived and shared.
type Encoder struct {
	cache    planCache
	resolver Resolver
}

// Resolver resolves the types of google.protobuf.Any values (and
// extensions); protoregistry.GlobalTypes is one.
type Resolver interface {
	protoregistry.MessageTypeResolver
	protoregistry.ExtensionTypeResolver
}

// New returns an Encoder with an empty plan cache, resolving Any types
// from protoregistry.GlobalTypes.
func New() *Encoder {
	return &Encoder{}
}

// NewWithResolver returns an Encoder resolving Any types with r (a
// gateway's own descriptors: types that exist only in a loaded descriptor
// set resolve too).
func NewWithResolver(r Resolver) *Encoder {
	return &Encoder{resolver: r}
}

// Append appends the JSON of m to dst. On error the returned slice holds
// dst plus whatever was written before the error was found.
func (e *Encoder) Append(dst []byte, m protoreflect.Message) ([]byte, error) {
	if m == nil {
		return append(dst, '{', '}'), nil
	}
	p := e.cache.get(m.Descriptor())
	if p.wkt == wktFallback {
		return e.appendProtojson(dst, m, false)
	}
	b, err := e.appendMessage(dst, p, m)
	if err != nil {
		return b, err
	}
	if p.needsCheck {
		if err := proto.CheckInitialized(m.Interface()); err != nil {
			return b, err
		}
	}
	return b, nil
}

// appendMessage appends the JSON of m, whose plan is p.
func (e *Encoder) appendMessage(b []byte, p *messagePlan, m protoreflect.Message) ([]byte, error) {
	switch p.wkt {
	case wktNone:
	case wktFallback:
		return e.appendProtojson(b, m, true)
	default:
		return e.appendWellKnown(b, p, m)
	}
	if p.extendable && hasExtension(m) {
		return e.appendProtojson(b, m, true)
	}
	b = append(b, '{')
	first := true
	var err error
	for i := range p.fields {
		f := &p.fields[i]
		var v protoreflect.Value
		switch {
		case f.oneof:
			if !m.Has(f.fd) {
				continue
			}
			v = m.Get(f.fd)
		case f.presence:
			set := false
			if f.val.msg != nil {
				// Get of an unset message field yields an invalid
				// message, which saves the Has lookup.
				v = m.Get(f.fd)
				set = v.Message().IsValid()
			} else if set = m.Has(f.fd); set {
				v = m.Get(f.fd)
			}
			if !set {
				if !first {
					b = append(b, ',')
				}
				first = false
				b = append(b, f.name...)
				b = append(b, "null"...)
				continue
			}
		case f.shape != shapeSingular:
			// Has is cheap for lists and maps, while Get of a generated
			// message's list or map allocates a view of it.
			if !m.Has(f.fd) {
				if !first {
					b = append(b, ',')
				}
				first = false
				b = append(b, f.name...)
				if f.shape == shapeList {
					b = append(b, '[', ']')
				} else {
					b = append(b, '{', '}')
				}
				continue
			}
			v = m.Get(f.fd)
		default:
			v = m.Get(f.fd)
		}
		if !first {
			b = append(b, ',')
		}
		first = false
		b = append(b, f.name...)
		switch f.shape {
		case shapeSingular:
			b, err = e.appendValue(b, &f.val, v)
		case shapeList:
			b, err = e.appendList(b, &f.val, v.List())
		case shapeMap:
			b, err = e.appendMap(b, f, v.Map())
		}
		if err != nil {
			return b, err
		}
	}
	return append(b, '}'), nil
}

// hasExtension reports whether m has a populated extension field.
func hasExtension(m protoreflect.Message) bool {
	found := false
	m.Range(func(fd protoreflect.FieldDescriptor, _ protoreflect.Value) bool {
		found = fd.IsExtension()
		return !found
	})
	return found
}

// appendList appends the elements of l as a JSON array.
func (e *Encoder) appendList(b []byte, vp *valuePlan, l protoreflect.List) ([]byte, error) {
	b = append(b, '[')
	n := l.Len()
	var err error
	for i := 0; i < n; i++ {
		if i > 0 {
			b = append(b, ',')
		}
		if b, err = e.appendValue(b, vp, l.Get(i)); err != nil {
			return b, err
		}
	}
	return append(b, ']'), nil
}

// appendValue appends one singular value.
func (e *Encoder) appendValue(b []byte, vp *valuePlan, v protoreflect.Value) ([]byte, error) {
	switch vp.kind {
	case protoreflect.StringKind:
		out, err := appendString(b, v.String())
		if err != nil {
			return out, fmt.Errorf("jsonenc: field %s: %w", vp.fd.FullName(), err)
		}
		return out, nil
	case protoreflect.BoolKind:
		return appendBool(b, v.Bool()), nil
	case protoreflect.Int32Kind, protoreflect.Sint32Kind, protoreflect.Sfixed32Kind:
		return strconv.AppendInt(b, v.Int(), 10), nil
	case protoreflect.Uint32Kind, protoreflect.Fixed32Kind:
		return strconv.AppendUint(b, v.Uint(), 10), nil
	case protoreflect.Int64Kind, protoreflect.Sint64Kind, protoreflect.Sfixed64Kind:
		return appendQuotedInt(b, v.Int()), nil
	case protoreflect.Uint64Kind, protoreflect.Fixed64Kind:
		return appendQuotedUint(b, v.Uint()), nil
	case protoreflect.FloatKind:
		return appendFloat(b, v.Float(), 32), nil
	case protoreflect.DoubleKind:
		return appendFloat(b, v.Float(), 64), nil
	case protoreflect.BytesKind:
		b = append(b, '"')
		b = base64.StdEncoding.AppendEncode(b, v.Bytes())
		return append(b, '"'), nil
	case protoreflect.EnumKind:
		if vp.null {
			return append(b, "null"...), nil
		}
		n := v.Enum()
		if name := vp.enum.name(n); name != nil {
			return append(b, name...), nil
		}
		return strconv.AppendInt(b, int64(n), 10), nil
	case protoreflect.MessageKind, protoreflect.GroupKind:
		return e.appendMessage(b, vp.msg, v.Message())
	}
	return b, fmt.Errorf("jsonenc: field %s has unknown kind %v", vp.fd.FullName(), vp.kind)
}
