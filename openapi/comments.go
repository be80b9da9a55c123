package openapi

import (
	"strings"

	"google.golang.org/protobuf/encoding/prototext"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/reflect/protoreflect"
)

// comments returns d's leading comment from its file's source info (a
// descriptor set built with it: buf build, protoc without
// --exclude-source-info), cleaned: common indentation removed, tool
// directives (buf:lint:ignore ...) dropped. Compiled-in descriptors carry
// no source info (protoc-gen-go strips it): "" then.
func comments(d protoreflect.Descriptor) string {
	loc := d.ParentFile().SourceLocations().ByDescriptor(d)
	text := loc.LeadingComments
	if strings.TrimSpace(text) == "" {
		text = loc.TrailingComments
	}
	var lines []string
	for _, l := range strings.Split(text, "\n") {
		if strings.HasPrefix(strings.TrimSpace(l), "buf:lint:") {
			continue
		}
		lines = append(lines, strings.TrimRight(l, " \t"))
	}
	return strings.TrimSpace(dedent(lines))
}

// dedent removes the white space every non-blank line starts with
// ("// text" leaves " text").
func dedent(lines []string) string {
	prefix := -1
	for _, l := range lines {
		if strings.TrimSpace(l) == "" {
			continue
		}
		n := len(l) - len(strings.TrimLeft(l, " \t"))
		if prefix < 0 || n < prefix {
			prefix = n
		}
	}
	for i, l := range lines {
		if len(l) >= prefix && prefix > 0 {
			lines[i] = l[prefix:]
		}
	}
	return strings.Join(lines, "\n")
}

// describeField is a field's description: its comments, then the rules
// JSON Schema keywords could not state.
func describeField(fd protoreflect.FieldDescriptor) string {
	parts := []string{}
	if c := comments(fd); c != "" {
		parts = append(parts, c)
	}
	parts = append(parts, ruleNotes(fieldRules(fd))...)
	return strings.Join(parts, "\n\n")
}

// describeMessage is a message's description: its comments, its CEL
// rules, and which fields exclude each other (oneofs).
func describeMessage(md protoreflect.MessageDescriptor) string {
	parts := []string{}
	if c := comments(md); c != "" {
		parts = append(parts, c)
	}
	if mr := messageRules(md); mr != nil {
		for _, c := range mr.GetCel() {
			parts = append(parts, celNote(c))
		}
		for _, o := range mr.GetOneof() {
			n := "At most one of: "
			if o.GetRequired() {
				n = "Exactly one of: "
			}
			parts = append(parts, n+strings.Join(o.GetFields(), ", ")+".")
		}
	}
	oneofs := md.Oneofs()
	for i := 0; i < oneofs.Len(); i++ {
		od := oneofs.Get(i)
		if od.IsSynthetic() {
			continue
		}
		var names []string
		fields := od.Fields()
		for j := 0; j < fields.Len(); j++ {
			names = append(names, fields.Get(j).JSONName())
		}
		n := "At most one of: "
		if oneofRequired(od) {
			n = "Exactly one of: "
		}
		parts = append(parts, n+strings.Join(names, ", ")+" ("+string(od.Name())+").")
	}
	return strings.Join(parts, "\n\n")
}

func prototextString(m proto.Message) string {
	return prototext.MarshalOptions{}.Format(m)
}
