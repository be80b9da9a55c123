package openapi

import (
	"reflect"

	"github.com/getkin/kin-openapi/openapi3"
	"google.golang.org/genproto/googleapis/api/annotations"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/reflect/protoreflect"
)

// schemas makes the JSON Schemas of messages and enums as the proto3 JSON
// mapping writes them (what the REST door sends and accepts): lowerCamel
// field names, 64-bit integers as strings, enums as names, well-known
// types in their special forms, unset message fields as null (the door
// emits unpopulated fields). Each message and enum is a component, so
// recursive messages are plain references.
type schemas struct {
	components openapi3.Schemas
}

// refPrefix is where components live in the document.
const refPrefix = "#/components/schemas/"

// message returns a reference to md's component, making it on first use.
// Well-known types with a special JSON form are inlined instead.
func (s *schemas) message(md protoreflect.MessageDescriptor) *openapi3.SchemaRef {
	if wkt := wellKnown(md); wkt != nil {
		return openapi3.NewSchemaRef("", wkt)
	}
	name := string(md.FullName())
	if sc, ok := s.components[name]; ok {
		return openapi3.NewSchemaRef(refPrefix+name, sc.Value)
	}
	sc := &openapi3.Schema{Type: &openapi3.Types{openapi3.TypeObject}, Title: string(md.Name())}
	s.components[name] = openapi3.NewSchemaRef("", sc) // before the fields: recursion ends here
	sc.Description = describeMessage(md)
	sc.Properties = openapi3.Schemas{}
	fields := md.Fields()
	for i := 0; i < fields.Len(); i++ {
		fd := fields.Get(i)
		sc.Properties[fd.JSONName()] = s.field(fd)
		if fieldRequired(fd) {
			sc.Required = append(sc.Required, fd.JSONName())
		}
	}
	return openapi3.NewSchemaRef(refPrefix+name, sc)
}

// enum returns a reference to ed's component: its value names.
func (s *schemas) enum(ed protoreflect.EnumDescriptor) *openapi3.SchemaRef {
	name := string(ed.FullName())
	if name == "google.protobuf.NullValue" {
		return openapi3.NewSchemaRef("", &openapi3.Schema{Type: &openapi3.Types{openapi3.TypeNull}})
	}
	if sc, ok := s.components[name]; ok {
		return openapi3.NewSchemaRef(refPrefix+name, sc.Value)
	}
	sc := &openapi3.Schema{Type: &openapi3.Types{openapi3.TypeString}, Title: string(ed.Name()), Description: comments(ed)}
	vals := ed.Values()
	for i := 0; i < vals.Len(); i++ {
		sc.Enum = append(sc.Enum, string(vals.Get(i).Name()))
	}
	s.components[name] = openapi3.NewSchemaRef("", sc)
	return openapi3.NewSchemaRef(refPrefix+name, sc)
}

// field is a field's schema: its element schema (list, map or single),
// with its buf.validate rules as keywords, its comments and its field
// behaviour.
func (s *schemas) field(fd protoreflect.FieldDescriptor) *openapi3.SchemaRef {
	rules := fieldRules(fd)
	var ref *openapi3.SchemaRef
	switch {
	case fd.IsMap():
		val := s.single(fd.MapValue(), false)
		if vr := rules.GetMap().GetValues(); vr != nil && !ignored(vr) {
			val = constrain(val, fd.MapValue(), vr)
		}
		sc := &openapi3.Schema{Type: &openapi3.Types{openapi3.TypeObject}, AdditionalProperties: openapi3.AdditionalProperties{Schema: val}}
		applyMapRules(sc, rules)
		ref = openapi3.NewSchemaRef("", sc)
	case fd.IsList():
		items := s.single(fd, false)
		if ir := rules.GetRepeated().GetItems(); ir != nil && !ignored(ir) {
			items = constrain(items, fd, ir)
		}
		sc := &openapi3.Schema{Type: &openapi3.Types{openapi3.TypeArray}, Items: items}
		applyRepeatedRules(sc, rules)
		ref = openapi3.NewSchemaRef("", sc)
	default:
		// An unset message field is written as null, unless it is required.
		ref = s.single(fd, !fieldRequired(fd))
		if rules != nil && !ignored(rules) {
			ref = constrain(ref, fd, rules)
		}
	}
	return withDoc(fd, ref)
}

// withDoc adds the field's comments and behaviour (read-only, write-only)
// to its schema, beside it in an allOf when the schema is a reference.
func withDoc(fd protoreflect.FieldDescriptor, ref *openapi3.SchemaRef) *openapi3.SchemaRef {
	desc := describeField(fd)
	var readOnly, writeOnly bool
	for _, b := range fieldBehavior(fd) {
		switch b {
		case annotations.FieldBehavior_OUTPUT_ONLY:
			readOnly = true
		case annotations.FieldBehavior_INPUT_ONLY:
			writeOnly = true
		}
	}
	if desc == "" && !readOnly && !writeOnly {
		return ref
	}
	sc := ref.Value
	if ref.Ref != "" {
		sc = &openapi3.Schema{AllOf: openapi3.SchemaRefs{ref}}
		ref = openapi3.NewSchemaRef("", sc)
	}
	sc.Description, sc.ReadOnly, sc.WriteOnly = desc, readOnly, writeOnly
	return ref
}

// constrain returns ref with rules as keywords: on a copy of an inline
// schema, or beside a reference in an allOf (the referenced component is
// shared).
func constrain(ref *openapi3.SchemaRef, fd protoreflect.FieldDescriptor, rules fieldRuleSet) *openapi3.SchemaRef {
	var sc *openapi3.Schema
	if ref.Ref != "" {
		sc = &openapi3.Schema{AllOf: openapi3.SchemaRefs{ref}}
	} else {
		sc = copySchema(ref.Value)
	}
	applyRules(sc, fd, rules)
	if ref.Ref != "" && reflect.DeepEqual(*sc, openapi3.Schema{AllOf: sc.AllOf}) {
		return ref // no keyword applied (e.g. enum.defined_only: the names are the enum)
	}
	return openapi3.NewSchemaRef("", sc)
}

// single is the schema of one value of fd (an element of a list or map, or
// the field itself). nullable: a singular message field is null when unset.
func (s *schemas) single(fd protoreflect.FieldDescriptor, nullable bool) *openapi3.SchemaRef {
	switch fd.Kind() {
	case protoreflect.BoolKind:
		return scalar(openapi3.TypeBoolean, "")
	case protoreflect.Int32Kind, protoreflect.Sint32Kind, protoreflect.Sfixed32Kind:
		return scalar(openapi3.TypeInteger, "int32")
	case protoreflect.Uint32Kind, protoreflect.Fixed32Kind:
		ref := scalar(openapi3.TypeInteger, "")
		zero, max := 0.0, float64(1<<32-1)
		ref.Value.Min, ref.Value.Max = &zero, &max
		return ref
	case protoreflect.Int64Kind, protoreflect.Sint64Kind, protoreflect.Sfixed64Kind:
		return int64Schema(true)
	case protoreflect.Uint64Kind, protoreflect.Fixed64Kind:
		return int64Schema(false)
	case protoreflect.FloatKind:
		return scalar(openapi3.TypeNumber, "float")
	case protoreflect.DoubleKind:
		return scalar(openapi3.TypeNumber, "double")
	case protoreflect.StringKind:
		return scalar(openapi3.TypeString, "")
	case protoreflect.BytesKind:
		ref := scalar(openapi3.TypeString, "byte")
		ref.Value.ContentEncoding = "base64"
		return ref
	case protoreflect.EnumKind:
		return s.enum(fd.Enum())
	}
	md := fd.Message()
	ref := s.message(md)
	if !nullable {
		return ref
	}
	if ref.Ref == "" {
		sc := copySchema(ref.Value)
		if sc.Type != nil && len(*sc.Type) > 0 && !sc.Type.Includes(openapi3.TypeNull) {
			t := append(openapi3.Types{}, *sc.Type...)
			t = append(t, openapi3.TypeNull)
			sc.Type = &t
		}
		return openapi3.NewSchemaRef("", sc)
	}
	return openapi3.NewSchemaRef("", &openapi3.Schema{AnyOf: openapi3.SchemaRefs{ref, scalar(openapi3.TypeNull, "")}})
}

func scalar(typ, format string) *openapi3.SchemaRef {
	return openapi3.NewSchemaRef("", &openapi3.Schema{Type: &openapi3.Types{typ}, Format: format})
}

// int64Schema: written as a decimal string, read from a string or a number.
func int64Schema(signed bool) *openapi3.SchemaRef {
	sc := &openapi3.Schema{Type: &openapi3.Types{openapi3.TypeString, openapi3.TypeInteger}, Format: "int64", Pattern: `^-?[0-9]+$`}
	if !signed {
		zero := 0.0
		sc.Format, sc.Pattern, sc.Min = "uint64", `^[0-9]+$`, &zero
	}
	return openapi3.NewSchemaRef("", sc)
}

// copySchema is a shallow copy, to add keywords to a shared inline schema.
func copySchema(sc *openapi3.Schema) *openapi3.Schema {
	c := *sc
	if sc.Type != nil {
		t := append(openapi3.Types{}, *sc.Type...)
		c.Type = &t
	}
	return &c
}

// wellKnown returns the inline schema of a well-known type whose JSON form
// is not an object of its fields, or nil.
func wellKnown(md protoreflect.MessageDescriptor) *openapi3.Schema {
	switch md.FullName() {
	case "google.protobuf.Timestamp":
		return &openapi3.Schema{Type: &openapi3.Types{openapi3.TypeString}, Format: "date-time"}
	case "google.protobuf.Duration":
		return &openapi3.Schema{Type: &openapi3.Types{openapi3.TypeString}, Pattern: `^-?[0-9]+(\.[0-9]{1,9})?s$`, Description: `Seconds with up to nine fractional digits and an "s" suffix, e.g. "1.5s".`}
	case "google.protobuf.FieldMask":
		return &openapi3.Schema{Type: &openapi3.Types{openapi3.TypeString}, Description: "Comma-separated field paths (lowerCamel), e.g. \"title,author\"."}
	case "google.protobuf.Struct":
		return &openapi3.Schema{Type: &openapi3.Types{openapi3.TypeObject}}
	case "google.protobuf.Value":
		return &openapi3.Schema{Description: "Any JSON value."}
	case "google.protobuf.ListValue":
		return &openapi3.Schema{Type: &openapi3.Types{openapi3.TypeArray}}
	case "google.protobuf.Empty":
		return &openapi3.Schema{Type: &openapi3.Types{openapi3.TypeObject}}
	case "google.protobuf.Any":
		return &openapi3.Schema{
			Type:       &openapi3.Types{openapi3.TypeObject},
			Properties: openapi3.Schemas{"@type": scalar(openapi3.TypeString, "")},
			Required:   []string{"@type"},
		}
	case "google.protobuf.DoubleValue":
		return &openapi3.Schema{Type: &openapi3.Types{openapi3.TypeNumber}, Format: "double"}
	case "google.protobuf.FloatValue":
		return &openapi3.Schema{Type: &openapi3.Types{openapi3.TypeNumber}, Format: "float"}
	case "google.protobuf.Int64Value":
		return int64Schema(true).Value
	case "google.protobuf.UInt64Value":
		return int64Schema(false).Value
	case "google.protobuf.Int32Value":
		return &openapi3.Schema{Type: &openapi3.Types{openapi3.TypeInteger}, Format: "int32"}
	case "google.protobuf.UInt32Value":
		zero, max := 0.0, float64(1<<32-1)
		return &openapi3.Schema{Type: &openapi3.Types{openapi3.TypeInteger}, Min: &zero, Max: &max}
	case "google.protobuf.BoolValue":
		return &openapi3.Schema{Type: &openapi3.Types{openapi3.TypeBoolean}}
	case "google.protobuf.StringValue":
		return &openapi3.Schema{Type: &openapi3.Types{openapi3.TypeString}}
	case "google.protobuf.BytesValue":
		return &openapi3.Schema{Type: &openapi3.Types{openapi3.TypeString}, Format: "byte", ContentEncoding: "base64"}
	}
	return nil
}

// isHTTPBody reports google.api.HttpBody: a raw body, not JSON.
func isHTTPBody(md protoreflect.MessageDescriptor) bool {
	return md != nil && md.FullName() == "google.api.HttpBody"
}

// fieldBehavior returns a field's google.api.field_behavior annotations.
func fieldBehavior(fd protoreflect.FieldDescriptor) []annotations.FieldBehavior {
	opts := fd.Options()
	if opts == nil || !proto.HasExtension(opts, annotations.E_FieldBehavior) {
		return nil
	}
	bs, _ := proto.GetExtension(opts, annotations.E_FieldBehavior).([]annotations.FieldBehavior)
	return bs
}

// fieldRequired reports a field the request must carry: buf.validate's
// required, or google.api.field_behavior REQUIRED.
func fieldRequired(fd protoreflect.FieldDescriptor) bool {
	if r := fieldRules(fd); r != nil && r.GetRequired() && !ignored(r) {
		return true
	}
	for _, b := range fieldBehavior(fd) {
		if b == annotations.FieldBehavior_REQUIRED {
			return true
		}
	}
	return false
}
