package validate

import (
	"buf.build/gen/go/bufbuild/protovalidate/protocolbuffers/go/buf/validate"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/reflect/protoreflect"
)

// HasRules reports whether md, or any message reachable through its fields,
// carries a buf.validate rule. Messages without rules skip validation
// entirely.
func HasRules(md protoreflect.MessageDescriptor) bool {
	return hasRules(md, map[protoreflect.FullName]bool{})
}

func hasRules(md protoreflect.MessageDescriptor, seen map[protoreflect.FullName]bool) bool {
	if seen[md.FullName()] {
		return false
	}
	seen[md.FullName()] = true
	if hasExt(md.Options(), validate.E_Message) {
		return true
	}
	oneofs := md.Oneofs()
	for i := 0; i < oneofs.Len(); i++ {
		if hasExt(oneofs.Get(i).Options(), validate.E_Oneof) {
			return true
		}
	}
	fields := md.Fields()
	for i := 0; i < fields.Len(); i++ {
		fd := fields.Get(i)
		if hasExt(fd.Options(), validate.E_Field) {
			return true
		}
		if fd.IsMap() {
			if v := fd.MapValue(); v.Message() != nil && hasRules(v.Message(), seen) {
				return true
			}
			continue
		}
		if fd.Message() != nil && hasRules(fd.Message(), seen) {
			return true
		}
	}
	return false
}

// hasExt reports whether options carry ext, either decoded (the generated
// types were linked in) or still as unknown bytes (descriptor loaded at
// run time before the extension was known).
func hasExt(opts proto.Message, ext protoreflect.ExtensionType) bool {
	if opts == nil {
		return false
	}
	if proto.HasExtension(opts, ext) {
		return true
	}
	unknown := opts.ProtoReflect().GetUnknown()
	num := ext.TypeDescriptor().Number()
	for len(unknown) > 0 {
		n, _, l := protowireConsume(unknown)
		if l < 0 {
			return false
		}
		if n == num {
			return true
		}
		unknown = unknown[l:]
	}
	return false
}
