package catalog

// google.api.http options kept as bytes in the descriptors of a
// descriptor set (issue 19, catalog scale).
//
// protodesc.NewFile clones every method's options into the descriptor it
// builds. A parsed HttpRule extension is an extension map, the rule and
// its strings: about 900 bytes a route, the largest part of a large
// catalog's heap. Kept as the option's wire bytes (an unknown field of
// MethodOptions) the clone is one byte slice. Nothing is lost: the
// catalog reads the rule back from the bytes once, when it builds the
// method's bindings (annotationRule), and server reflection serves the
// option's bytes as they are, so a client reads the same annotation.

import (
	"fmt"

	"google.golang.org/genproto/googleapis/api/annotations"
	"google.golang.org/protobuf/encoding/protowire"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/reflect/protoreflect"
	"google.golang.org/protobuf/types/descriptorpb"
)

// keepHTTPRulesRaw turns every method's parsed google.api.http option in
// f into the same option as bytes. f must be the loader's own (it is
// changed in place): a descriptor set's file, just read.
func keepHTTPRulesRaw(f *descriptorpb.FileDescriptorProto) error {
	num := protowire.Number(annotations.E_Http.TypeDescriptor().Number())
	for _, s := range f.GetService() {
		for _, m := range s.GetMethod() {
			opts := m.GetOptions()
			if opts == nil || !proto.HasExtension(opts, annotations.E_Http) {
				continue
			}
			rule, _ := proto.GetExtension(opts, annotations.E_Http).(*annotations.HttpRule)
			b, err := proto.Marshal(rule)
			if err != nil {
				return fmt.Errorf("method %s.%s: google.api.http: %v", s.GetName(), m.GetName(), err)
			}
			proto.ClearExtension(opts, annotations.E_Http)
			raw := opts.ProtoReflect().GetUnknown()
			raw = protowire.AppendTag(raw, num, protowire.BytesType)
			opts.ProtoReflect().SetUnknown(protowire.AppendBytes(raw, b))
		}
	}
	return nil
}

// annotationRule returns the method's google.api.http option, or nil: the
// parsed extension (compiled-in files, files compiled from .proto sources
// or discovered) or the option's bytes (descriptor sets: keepHTTPRulesRaw).
func annotationRule(md protoreflect.MethodDescriptor) (*annotations.HttpRule, error) {
	opts := md.Options()
	if opts == nil {
		return nil, nil
	}
	if proto.HasExtension(opts, annotations.E_Http) {
		rule, _ := proto.GetExtension(opts, annotations.E_Http).(*annotations.HttpRule)
		return rule, nil
	}
	// The option's bytes, merged when given twice as the protobuf
	// encoding says (as when the set was read).
	num := protowire.Number(annotations.E_Http.TypeDescriptor().Number())
	var rule *annotations.HttpRule
	for raw := opts.ProtoReflect().GetUnknown(); len(raw) > 0; {
		n, typ, tagLen := protowire.ConsumeTag(raw)
		if tagLen < 0 {
			return nil, fmt.Errorf("google.api.http option: %v", protowire.ParseError(tagLen))
		}
		fieldLen := protowire.ConsumeFieldValue(n, typ, raw[tagLen:])
		if fieldLen < 0 {
			return nil, fmt.Errorf("google.api.http option: %v", protowire.ParseError(fieldLen))
		}
		if n == num && typ == protowire.BytesType {
			b, _ := protowire.ConsumeBytes(raw[tagLen:])
			if rule == nil {
				rule = &annotations.HttpRule{}
			}
			if err := (proto.UnmarshalOptions{Merge: true}).Unmarshal(b, rule); err != nil {
				return nil, fmt.Errorf("google.api.http option: %v", err)
			}
		}
		raw = raw[tagLen+fieldLen:]
	}
	return rule, nil
}
