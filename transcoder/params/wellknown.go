package params

import (
	"errors"
	"strings"
	"time"
	"unicode/utf8"

	"google.golang.org/protobuf/encoding/protojson"
	"google.golang.org/protobuf/reflect/protoreflect"
)

// Bounds of google.protobuf.Timestamp: 0001-01-01T00:00:00Z to
// 9999-12-31T23:59:59.999999999Z.
const (
	minTimestampSeconds = -62135596800
	maxTimestampSeconds = 253402300799
)

// errNotWellKnown reports a message type that has no text form.
var errNotWellKnown = errors.New("not a well-known type with a text form")

// setWellKnown fills m, a new message of a well-known type, from its text
// form s:
//
//   - google.protobuf.Timestamp: RFC 3339 ("2024-05-01T12:00:00Z"),
//   - google.protobuf.Duration: Go duration syntax ("1.5s", "1h30m"),
//   - google.protobuf.FieldMask: comma-separated paths, as given ("a.b,c"),
//   - the wrappers (DoubleValue … BytesValue): the wrapped scalar's syntax,
//   - google.protobuf.Struct, Value and ListValue: JSON text,
//   - google.protobuf.Empty: "" or "{}".
//
// JSON text obeys j. It works through protoreflect only, so m may be a
// generated or a dynamicpb message. For any other type it returns
// errNotWellKnown.
func setWellKnown(m protoreflect.Message, s string, j jsonRules) error {
	md := m.Descriptor()
	switch md.FullName() {
	case "google.protobuf.Timestamp":
		return setTimestamp(m, s)
	case "google.protobuf.Duration":
		return setDuration(m, s)
	case "google.protobuf.FieldMask":
		return setFieldMask(m, s)
	case "google.protobuf.DoubleValue", "google.protobuf.FloatValue",
		"google.protobuf.Int64Value", "google.protobuf.UInt64Value",
		"google.protobuf.Int32Value", "google.protobuf.UInt32Value",
		"google.protobuf.BoolValue", "google.protobuf.StringValue",
		"google.protobuf.BytesValue":
		fd := md.Fields().ByNumber(1)
		if fd == nil || fd.Message() != nil || fd.IsList() {
			return errNotWellKnown
		}
		v, err := parseScalar(fd, s)
		if err != nil {
			return err
		}
		m.Set(fd, v)
		return nil
	case "google.protobuf.Struct":
		return setJSON(m, s, "a JSON object", j)
	case "google.protobuf.Value":
		return setJSON(m, s, "a JSON value", j)
	case "google.protobuf.ListValue":
		return setJSON(m, s, "a JSON array", j)
	case "google.protobuf.Empty":
		if s != "" && s != "{}" {
			return errors.New(quote(s) + ` is not "" or "{}"`)
		}
		return nil
	}
	return errNotWellKnown
}

// setJSON fills m, a Struct, Value or ListValue, from JSON text s, within
// j; what names the JSON expected, for the error.
func setJSON(m protoreflect.Message, s, what string, j jsonRules) error {
	if j.check != nil {
		if err := j.check(s); err != nil {
			return errors.New(quote(s) + " is not accepted: " + err.Error())
		}
	}
	if err := (protojson.UnmarshalOptions{RecursionLimit: j.depth}).Unmarshal([]byte(s), m.Interface()); err != nil {
		if strings.Contains(err.Error(), "recursion") {
			return errors.New(quote(s) + " is nested too deep")
		}
		return errors.New(quote(s) + " is not " + what)
	}
	return nil
}

// secondsNanos returns the seconds (int64) and nanos (int32) fields that
// Timestamp and Duration share, or nils if md does not have them.
func secondsNanos(md protoreflect.MessageDescriptor) (sec, nanos protoreflect.FieldDescriptor) {
	fields := md.Fields()
	sec, nanos = fields.ByNumber(1), fields.ByNumber(2)
	if sec == nil || nanos == nil || sec.Kind() != protoreflect.Int64Kind || nanos.Kind() != protoreflect.Int32Kind ||
		sec.IsList() || nanos.IsList() {
		return nil, nil
	}
	return sec, nanos
}

// setTimestamp parses an RFC 3339 timestamp within Timestamp's range.
func setTimestamp(m protoreflect.Message, s string) error {
	sec, nanos := secondsNanos(m.Descriptor())
	if sec == nil {
		return errNotWellKnown
	}
	t, err := time.Parse(time.RFC3339Nano, s)
	if err != nil {
		return errors.New(quote(s) + " is not an RFC 3339 timestamp")
	}
	if u := t.Unix(); u < minTimestampSeconds || u > maxTimestampSeconds {
		return errors.New(quote(s) + " is out of range for a timestamp")
	}
	m.Set(sec, protoreflect.ValueOfInt64(t.Unix()))
	m.Set(nanos, protoreflect.ValueOfInt32(int32(t.Nanosecond())))
	return nil
}

// setDuration parses a duration in Go syntax ("1.5s", "-2h45m", "300ms"),
// which includes the proto3 JSON form ("1.5s") up to about 292 years.
func setDuration(m protoreflect.Message, s string) error {
	sec, nanos := secondsNanos(m.Descriptor())
	if sec == nil {
		return errNotWellKnown
	}
	d, err := time.ParseDuration(s)
	if err != nil {
		return errors.New(quote(s) + " is not a duration")
	}
	m.Set(sec, protoreflect.ValueOfInt64(int64(d/time.Second)))
	m.Set(nanos, protoreflect.ValueOfInt32(int32(d%time.Second)))
	return nil
}

// setFieldMask splits s on commas into the mask's paths, as given; an empty
// s is an empty (but present) mask.
func setFieldMask(m protoreflect.Message, s string) error {
	paths := m.Descriptor().Fields().ByNumber(1)
	if paths == nil || !paths.IsList() || paths.Kind() != protoreflect.StringKind {
		return errNotWellKnown
	}
	if s == "" {
		return nil
	}
	if !utf8.ValidString(s) {
		return errors.New(quote(s) + " is not valid UTF-8")
	}
	list := m.Mutable(paths).List()
	for {
		p, rest, more := strings.Cut(s, ",")
		list.Append(protoreflect.ValueOfString(p))
		if !more {
			return nil
		}
		s = rest
	}
}
