package params

import (
	"encoding/base64"
	"errors"
	"math"
	"strconv"
	"strings"
	"unicode/utf8"

	"google.golang.org/protobuf/reflect/protoreflect"
)

// parseScalar parses s as a value of fd's kind, which must not be a message
// or group kind. On failure the error's text says why and names the value.
func parseScalar(fd protoreflect.FieldDescriptor, s string) (protoreflect.Value, error) {
	switch k := fd.Kind(); k {
	case protoreflect.BoolKind:
		b, err := strconv.ParseBool(s)
		if err != nil {
			return protoreflect.Value{}, notA(s, "bool")
		}
		return protoreflect.ValueOfBool(b), nil
	case protoreflect.EnumKind:
		n, err := parseEnum(fd.Enum(), s)
		if err != nil {
			return protoreflect.Value{}, err
		}
		return protoreflect.ValueOfEnum(n), nil
	case protoreflect.Int32Kind, protoreflect.Sint32Kind, protoreflect.Sfixed32Kind:
		i, err := strconv.ParseInt(s, 10, 32)
		if err != nil {
			return protoreflect.Value{}, numError(s, k, err)
		}
		return protoreflect.ValueOfInt32(int32(i)), nil
	case protoreflect.Int64Kind, protoreflect.Sint64Kind, protoreflect.Sfixed64Kind:
		i, err := strconv.ParseInt(s, 10, 64)
		if err != nil {
			return protoreflect.Value{}, numError(s, k, err)
		}
		return protoreflect.ValueOfInt64(i), nil
	case protoreflect.Uint32Kind, protoreflect.Fixed32Kind:
		u, err := strconv.ParseUint(s, 10, 32)
		if err != nil {
			return protoreflect.Value{}, numError(s, k, err)
		}
		return protoreflect.ValueOfUint32(uint32(u)), nil
	case protoreflect.Uint64Kind, protoreflect.Fixed64Kind:
		u, err := strconv.ParseUint(s, 10, 64)
		if err != nil {
			return protoreflect.Value{}, numError(s, k, err)
		}
		return protoreflect.ValueOfUint64(u), nil
	case protoreflect.FloatKind:
		f, err := parseFloat(s, 32)
		if err != nil {
			return protoreflect.Value{}, err
		}
		return protoreflect.ValueOfFloat32(float32(f)), nil
	case protoreflect.DoubleKind:
		f, err := parseFloat(s, 64)
		if err != nil {
			return protoreflect.Value{}, err
		}
		return protoreflect.ValueOfFloat64(f), nil
	case protoreflect.StringKind:
		if !utf8.ValidString(s) {
			return protoreflect.Value{}, errors.New(quote(s) + " is not valid UTF-8")
		}
		return protoreflect.ValueOfString(s), nil
	case protoreflect.BytesKind:
		b, err := parseBytes(s)
		if err != nil {
			return protoreflect.Value{}, err
		}
		return protoreflect.ValueOfBytes(b), nil
	default:
		return protoreflect.Value{}, errors.New("a " + k.String() + " field cannot be set from a text value")
	}
}

// notA is the error for a value s that does not parse as what.
func notA(s, what string) error {
	return errors.New(quote(s) + " is not a valid " + what)
}

// numError turns a strconv error for s into a reason naming the kind.
func numError(s string, k protoreflect.Kind, err error) error {
	if errors.Is(err, strconv.ErrRange) {
		return errors.New(quote(s) + " is out of range for " + k.String())
	}
	return notA(s, k.String())
}

// parseFloat parses a float or double the way the proto3 JSON mapping and
// grpc-gateway do: a decimal number, or exactly "NaN", "Infinity" or
// "-Infinity". strconv.ParseFloat's extras — hexadecimal floats, "_" digit
// separators, other spellings of infinity and NaN — are refused, and so is a
// number out of range for the field's size.
func parseFloat(s string, bitSize int) (float64, error) {
	kind := "double"
	if bitSize == 32 {
		kind = "float"
	}
	switch s {
	case "NaN":
		return math.NaN(), nil
	case "Infinity":
		return math.Inf(1), nil
	case "-Infinity":
		return math.Inf(-1), nil
	}
	if strings.ContainsAny(s, "xX_") {
		return 0, notA(s, kind)
	}
	f, err := strconv.ParseFloat(s, bitSize)
	if err != nil {
		if errors.Is(err, strconv.ErrRange) {
			return 0, errors.New(quote(s) + " is out of range for " + kind)
		}
		return 0, notA(s, kind)
	}
	if math.IsInf(f, 0) || math.IsNaN(f) { // "inf", "+Inf", "nan" and the like
		return 0, notA(s, kind)
	}
	return f, nil
}

// parseBytes decodes base64 as the proto3 JSON mapping allows it: the
// standard or the URL-safe alphabet, with or without padding.
func parseBytes(s string) ([]byte, error) {
	urlSafe, padded := strings.ContainsAny(s, "-_"), len(s)%4 == 0
	var enc *base64.Encoding
	switch {
	case urlSafe && padded:
		enc = base64.URLEncoding
	case urlSafe:
		enc = base64.RawURLEncoding
	case padded:
		enc = base64.StdEncoding
	default:
		enc = base64.RawStdEncoding
	}
	b, err := enc.DecodeString(s)
	if err != nil {
		return nil, errors.New(quote(s) + " is not valid base64")
	}
	return b, nil
}

// parseEnum resolves s against ed's values: a value name, or a number. A
// number that names no value is accepted for an open (proto3) enum, as the
// JSON mapping accepts it, and refused for a closed (proto2) one.
func parseEnum(ed protoreflect.EnumDescriptor, s string) (protoreflect.EnumNumber, error) {
	if v := ed.Values().ByName(protoreflect.Name(s)); v != nil {
		return v.Number(), nil
	}
	i, err := strconv.ParseInt(s, 10, 32)
	if err != nil {
		return 0, errors.New(quote(s) + " is not a value of enum " + string(ed.FullName()))
	}
	n := protoreflect.EnumNumber(i)
	if ed.IsClosed() && ed.Values().ByNumber(n) == nil {
		return 0, errors.New(quote(s) + " is not a value of closed enum " + string(ed.FullName()))
	}
	return n, nil
}
