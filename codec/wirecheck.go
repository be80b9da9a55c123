package codec

import (
	"errors"
	"unicode/utf8"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/encoding/protowire"
	"google.golang.org/protobuf/reflect/protoreflect"
)

// Check verifies that b is a well-formed encoding of a message of type md
// without building the message: every tag, length and varint is sound,
// groups are matched, nesting stays within limit, proto3 strings are
// UTF-8, and the fields of map entries have the wire types their kinds
// need. It allocates nothing. The gRPC door's zero-copy path forwards a
// frame only once it passes, so a malformed message is refused with
// INVALID_ARGUMENT and never reaches a backend, though nothing is decoded.
//
// Written here because protobuf-go has no way to check an encoding
// without building the message, which is the cost the zero-copy path
// exists to avoid. FuzzCheck holds it to proto.Unmarshal: what Check
// accepts, Unmarshal accepts.
func Check(b []byte, md protoreflect.MessageDescriptor, limit int) error {
	if limit <= 0 {
		limit = DefaultRecursionLimit
	}
	if err := check(b, md, limit, false); err != nil {
		return status.Errorf(codes.InvalidArgument, "malformed request message: %v", err)
	}
	return nil
}

var (
	errWire    = errors.New("invalid wire data")
	errDepth   = errors.New("exceeds the nesting limit")
	errUTF8    = errors.New("a string field holds invalid UTF-8")
	errMapType = errors.New("a map entry field has the wrong wire type")
)

// check walks b as md. mapEntry: md is a map entry, whose key and value
// must have their kinds' wire types (protobuf-go's slow path panics on a
// mismatched key).
func check(b []byte, md protoreflect.MessageDescriptor, depth int, mapEntry bool) error {
	if depth <= 0 {
		return errDepth
	}
	fields := md.Fields()
	for len(b) > 0 {
		num, typ, n := protowire.ConsumeTag(b)
		if n < 0 || !num.IsValid() {
			return errWire
		}
		b = b[n:]
		fd := fields.ByNumber(num)
		if mapEntry && fd != nil && typ != wireType(fd) {
			return errMapType
		}
		if fd != nil && typ == protowire.BytesType {
			v, n := protowire.ConsumeBytes(b)
			if n < 0 {
				return errWire
			}
			if err := checkBytes(v, fd, depth); err != nil {
				return err
			}
			b = b[n:]
			continue
		}
		if typ == protowire.StartGroupType {
			// Groups nest like messages.
			n := consumeGroup(b, num, depth-1)
			if n < 0 {
				return errWire
			}
			b = b[n:]
			continue
		}
		n = protowire.ConsumeFieldValue(num, typ, b)
		if n < 0 {
			return errWire
		}
		b = b[n:]
	}
	return nil
}

// checkBytes checks a length-delimited value of fd.
func checkBytes(v []byte, fd protoreflect.FieldDescriptor, depth int) error {
	switch {
	case fd.IsMap():
		return check(v, fd.Message(), depth-1, true)
	case fd.Kind() == protoreflect.MessageKind:
		return check(v, fd.Message(), depth-1, false)
	case fd.Kind() == protoreflect.StringKind:
		if enforceUTF8(fd) && !utf8.Valid(v) {
			return errUTF8
		}
	case fd.IsList() && isPackable(fd.Kind()):
		// A packed repeated scalar: a run of values of one wire type.
		for len(v) > 0 {
			n := protowire.ConsumeFieldValue(1, wireType(fd), v)
			if n < 0 {
				return errWire
			}
			v = v[n:]
		}
	}
	return nil
}

// consumeGroup returns the length of a group's body and its end tag, or -1.
func consumeGroup(b []byte, num protowire.Number, depth int) int {
	if depth <= 0 {
		return -1
	}
	return protowire.ConsumeFieldValue(num, protowire.StartGroupType, b)
}

// enforceUTF8 reports whether protobuf-go checks fd's strings for UTF-8
// (proto3 and editions' default).
func enforceUTF8(fd protoreflect.FieldDescriptor) bool {
	return fd.ParentFile() == nil || fd.ParentFile().Syntax() != protoreflect.Proto2
}

func isPackable(k protoreflect.Kind) bool {
	switch k {
	case protoreflect.StringKind, protoreflect.BytesKind, protoreflect.MessageKind, protoreflect.GroupKind:
		return false
	}
	return true
}

// wireType is the wire type fd's values are encoded with.
func wireType(fd protoreflect.FieldDescriptor) protowire.Type {
	switch fd.Kind() {
	case protoreflect.BoolKind, protoreflect.EnumKind, protoreflect.Int32Kind, protoreflect.Sint32Kind,
		protoreflect.Uint32Kind, protoreflect.Int64Kind, protoreflect.Sint64Kind, protoreflect.Uint64Kind:
		return protowire.VarintType
	case protoreflect.Fixed32Kind, protoreflect.Sfixed32Kind, protoreflect.FloatKind:
		return protowire.Fixed32Type
	case protoreflect.Fixed64Kind, protoreflect.Sfixed64Kind, protoreflect.DoubleKind:
		return protowire.Fixed64Type
	case protoreflect.GroupKind:
		return protowire.StartGroupType
	}
	return protowire.BytesType
}
