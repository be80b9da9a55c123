package openapi

import (
	"regexp"
	"strings"

	"buf.build/gen/go/bufbuild/protovalidate/protocolbuffers/go/buf/validate"
	"github.com/getkin/kin-openapi/openapi3"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/reflect/protoreflect"
)

// fieldRuleSet is a field's buf.validate rules.
type fieldRuleSet = *validate.FieldRules

// fieldRules returns fd's buf.validate rules, or nil.
func fieldRules(fd protoreflect.FieldDescriptor) fieldRuleSet {
	opts := fd.Options()
	if opts == nil || !proto.HasExtension(opts, validate.E_Field) {
		return nil
	}
	r, _ := proto.GetExtension(opts, validate.E_Field).(*validate.FieldRules)
	return r
}

// messageRules returns md's buf.validate message rules, or nil.
func messageRules(md protoreflect.MessageDescriptor) *validate.MessageRules {
	opts := md.Options()
	if opts == nil || !proto.HasExtension(opts, validate.E_Message) {
		return nil
	}
	r, _ := proto.GetExtension(opts, validate.E_Message).(*validate.MessageRules)
	return r
}

// oneofRequired reports a oneof with (buf.validate.oneof).required.
func oneofRequired(od protoreflect.OneofDescriptor) bool {
	opts := od.Options()
	if opts == nil || !proto.HasExtension(opts, validate.E_Oneof) {
		return false
	}
	r, _ := proto.GetExtension(opts, validate.E_Oneof).(*validate.OneofRules)
	return r.GetRequired()
}

// ignored reports rules that JSON Schema keywords cannot state as they
// apply: never (IGNORE_ALWAYS), or only to a set value
// (IGNORE_IF_ZERO_VALUE: the zero value passes whatever the rules say).
// Their CEL and text still describe them.
func ignored(r fieldRuleSet) bool {
	switch r.GetIgnore() {
	case validate.Ignore_IGNORE_ALWAYS, validate.Ignore_IGNORE_IF_ZERO_VALUE:
		return true
	}
	return false
}

// applyRules turns a single value's rules into JSON Schema keywords, as
// far as JSON Schema can say them; what it cannot (CEL expressions, byte
// lengths of base64 data) stays in the description.
func applyRules(sc *openapi3.Schema, fd protoreflect.FieldDescriptor, r fieldRuleSet) {
	switch {
	case r.HasString():
		applyStringRules(sc, r.GetString())
	case r.HasEnum():
		applyEnumRules(sc, fd.Enum(), r.GetEnum())
	case r.HasBool():
		if b := r.GetBool(); b.HasConst() {
			sc.Const = b.GetConst()
		}
	case r.HasBytes(), r.HasDuration(), r.HasTimestamp(), r.HasAny(), r.HasFieldMask():
		// Stated in the description only.
	default:
		applyNumericRules(sc, r)
	}
}

// applyNumericRules handles the twelve numeric rule messages alike,
// through reflection: const, lt, lte, gt, gte, in, not_in.
func applyNumericRules(sc *openapi3.Schema, r fieldRuleSet) {
	m := r.ProtoReflect()
	od := m.Descriptor().Oneofs().ByName("type")
	if od == nil {
		return
	}
	set := m.WhichOneof(od)
	if set == nil || set.Message() == nil {
		return
	}
	nm := m.Get(set).Message()
	fields := nm.Descriptor().Fields()
	get := func(name string) (protoreflect.Value, bool) {
		fd := fields.ByName(protoreflect.Name(name))
		if fd == nil || !nm.Has(fd) {
			return protoreflect.Value{}, false
		}
		return nm.Get(fd), true
	}
	if v, ok := get("const"); ok {
		sc.Const = numberOf(v)
	}
	if v, ok := get("lt"); ok {
		f := numberOf(v)
		sc.ExclusiveMax = openapi3.ExclusiveBound{Value: &f}
	}
	if v, ok := get("lte"); ok {
		f := numberOf(v)
		sc.Max = &f
	}
	if v, ok := get("gt"); ok {
		f := numberOf(v)
		sc.ExclusiveMin = openapi3.ExclusiveBound{Value: &f}
	}
	if v, ok := get("gte"); ok {
		f := numberOf(v)
		sc.Min = &f
	}
	if v, ok := get("in"); ok {
		l := v.List()
		for i := 0; i < l.Len(); i++ {
			sc.Enum = append(sc.Enum, numberOf(l.Get(i)))
		}
	}
	if v, ok := get("not_in"); ok {
		l := v.List()
		not := &openapi3.Schema{}
		for i := 0; i < l.Len(); i++ {
			not.Enum = append(not.Enum, numberOf(l.Get(i)))
		}
		sc.Not = openapi3.NewSchemaRef("", not)
	}
}

// numberOf converts a numeric rule value.
func numberOf(v protoreflect.Value) float64 {
	switch x := v.Interface().(type) {
	case int32:
		return float64(x)
	case int64:
		return float64(x)
	case uint32:
		return float64(x)
	case uint64:
		return float64(x)
	case float32:
		return float64(x)
	case float64:
		return x
	}
	return 0
}

func applyStringRules(sc *openapi3.Schema, s *validate.StringRules) {
	if s.HasConst() {
		sc.Const = s.GetConst()
	}
	if s.HasLen() {
		n := s.GetLen()
		sc.MinLength, sc.MaxLength = n, &n
	}
	if s.HasMinLen() {
		sc.MinLength = s.GetMinLen()
	}
	if s.HasMaxLen() {
		n := s.GetMaxLen()
		sc.MaxLength = &n
	}
	var patterns []string
	if s.HasPattern() {
		patterns = append(patterns, s.GetPattern())
	}
	if s.HasPrefix() {
		patterns = append(patterns, "^"+regexp.QuoteMeta(s.GetPrefix()))
	}
	if s.HasSuffix() {
		patterns = append(patterns, regexp.QuoteMeta(s.GetSuffix())+"$")
	}
	if s.HasContains() {
		patterns = append(patterns, regexp.QuoteMeta(s.GetContains()))
	}
	addPatterns(sc, patterns)
	for _, v := range s.GetIn() {
		sc.Enum = append(sc.Enum, v)
	}
	if notIn := s.GetNotIn(); len(notIn) > 0 {
		not := &openapi3.Schema{}
		for _, v := range notIn {
			not.Enum = append(not.Enum, v)
		}
		sc.Not = openapi3.NewSchemaRef("", not)
	}
	switch {
	case s.GetEmail():
		sc.Format = "email"
	case s.GetHostname():
		sc.Format = "hostname"
	case s.GetIpv4():
		sc.Format = "ipv4"
	case s.GetIpv6():
		sc.Format = "ipv6"
	case s.GetUri():
		sc.Format = "uri"
	case s.GetUriRef():
		sc.Format = "uri-reference"
	case s.GetUuid():
		sc.Format = "uuid"
	case s.GetTuuid():
		addPatterns(sc, []string{"^[0-9a-fA-F]{32}$"})
	case s.GetUlid():
		addPatterns(sc, []string{"^[0-7][0-9A-HJKMNP-TV-Za-hjkmnp-tv-z]{25}$"})
	}
}

// addPatterns sets the first pattern on sc and each further one in an
// allOf (a schema has one pattern keyword; all must match).
func addPatterns(sc *openapi3.Schema, patterns []string) {
	for _, p := range patterns {
		if sc.Pattern == "" {
			sc.Pattern = p
			continue
		}
		sc.AllOf = append(sc.AllOf, openapi3.NewSchemaRef("", &openapi3.Schema{Pattern: p}))
	}
}

func applyEnumRules(sc *openapi3.Schema, ed protoreflect.EnumDescriptor, e *validate.EnumRules) {
	name := func(n int32) any {
		if v := ed.Values().ByNumber(protoreflect.EnumNumber(n)); v != nil {
			return string(v.Name())
		}
		return n
	}
	if e.HasConst() {
		sc.Const = name(e.GetConst())
	}
	for _, n := range e.GetIn() {
		sc.Enum = append(sc.Enum, name(n))
	}
	if notIn := e.GetNotIn(); len(notIn) > 0 {
		not := &openapi3.Schema{}
		for _, n := range notIn {
			not.Enum = append(not.Enum, name(n))
		}
		sc.Not = openapi3.NewSchemaRef("", not)
	}
}

func applyRepeatedRules(sc *openapi3.Schema, r fieldRuleSet) {
	if r == nil || ignored(r) || !r.HasRepeated() {
		return
	}
	rr := r.GetRepeated()
	if rr.HasMinItems() {
		sc.MinItems = rr.GetMinItems()
	}
	if rr.HasMaxItems() {
		n := rr.GetMaxItems()
		sc.MaxItems = &n
	}
	sc.UniqueItems = rr.GetUnique()
}

func applyMapRules(sc *openapi3.Schema, r fieldRuleSet) {
	if r == nil || ignored(r) || !r.HasMap() {
		return
	}
	mr := r.GetMap()
	if mr.HasMinPairs() {
		sc.MinProps = mr.GetMinPairs()
	}
	if mr.HasMaxPairs() {
		n := mr.GetMaxPairs()
		sc.MaxProps = &n
	}
	if k := mr.GetKeys(); k != nil && !ignored(k) && k.HasString() {
		names := &openapi3.Schema{Type: &openapi3.Types{openapi3.TypeString}}
		applyStringRules(names, k.GetString())
		sc.PropertyNames = openapi3.NewSchemaRef("", names)
	}
}

// ruleNotes are the rules JSON Schema keywords do not carry, as text for
// the description: CEL expressions, and rules on bytes, durations,
// timestamps and values that apply only when set.
func ruleNotes(r fieldRuleSet) []string {
	if r == nil {
		return nil
	}
	var notes []string
	if ignored(r) && r.GetIgnore() == validate.Ignore_IGNORE_IF_ZERO_VALUE {
		notes = append(notes, "Validated only when set: "+compactRules(r))
	} else if r.HasBytes() || r.HasDuration() || r.HasTimestamp() || r.HasAny() || r.HasFieldMask() {
		notes = append(notes, "Validated: "+compactRules(r))
	}
	for _, c := range r.GetCel() {
		notes = append(notes, celNote(c))
	}
	for _, e := range r.GetCelExpression() {
		notes = append(notes, "Rule: `"+e+"`")
	}
	return notes
}

func celNote(c *validate.Rule) string {
	n := "Rule: `" + c.GetExpression() + "`"
	if m := c.GetMessage(); m != "" {
		n += " (" + m + ")"
	}
	return n
}

// compactRules prints rules in the text format, on one line.
func compactRules(r fieldRuleSet) string {
	c := proto.Clone(r).(*validate.FieldRules)
	c.ClearIgnore()
	c.SetCel(nil)
	return strings.Join(strings.Fields(prototextString(c)), " ")
}
