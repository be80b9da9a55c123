package config

import (
	"errors"
	"fmt"
	"strings"
	"sync"

	"buf.build/gen/go/bufbuild/protovalidate/protocolbuffers/go/buf/validate"
	"buf.build/go/protovalidate"
	"google.golang.org/protobuf/reflect/protoreflect"

	configv1 "github.com/portico-gw/portico/gen/portico/config/v1"
)

// validator checks the buf.validate rules of the schema. It is built once,
// on first use, and is safe for concurrent use.
var validator = sync.OnceValues(func() (protovalidate.Validator, error) {
	return protovalidate.New(protovalidate.WithMessages(&configv1.Config{}))
})

// validateRules checks cfg against the buf.validate rules of its schema and
// records each violation with its field path. An error is returned only if
// the rules themselves cannot be compiled or evaluated, which is a bug in the
// schema, not in the file.
func validateRules(cfg *configv1.Config, errs *errorList) error {
	v, err := validator()
	if err != nil {
		return fmt.Errorf("config: compiling the schema's validation rules: %w", err)
	}
	err = v.Validate(cfg)
	if err == nil {
		return nil
	}
	var verr *protovalidate.ValidationError
	if !errors.As(err, &verr) {
		return fmt.Errorf("config: evaluating the schema's validation rules: %w", err)
	}
	root := cfg.ProtoReflect().Descriptor()
	for _, viol := range verr.Violations {
		field, message := describeViolation(root, viol)
		errs.add(field, message)
	}
	return nil
}

// describeViolation turns a violation into a field path and a message in the
// file's terms. protovalidate names fields by their proto names, which are
// the file's keys; two of its reports are reworded:
//   - a required oneof that is unset is reported at the oneof's name, which
//     is not a key of the file: it is reported at the enclosing message
//     instead, naming the keys that could be set;
//   - a standard string rule broken by an empty string says that the key is
//     required (or, for a list item, that it must not be empty), rather
//     than, say, that "" does not match a pattern.
func describeViolation(root protoreflect.MessageDescriptor, viol *protovalidate.Violation) (field, message string) {
	path := viol.Proto.GetField()
	field = protovalidate.FieldPathString(path)
	message = viol.Proto.GetMessage()
	if message == "" {
		message = "breaks rule " + viol.Proto.GetRuleId()
	}
	elems := path.GetElements()
	if len(elems) == 0 {
		return field, message
	}
	last := elems[len(elems)-1]
	if od := oneofAt(root, elems); od != nil {
		parent := validate.FieldPath_builder{Elements: elems[:len(elems)-1]}.Build()
		return protovalidate.FieldPathString(parent),
			fmt.Sprintf("one of %s must be set", strings.Join(oneofFieldNames(od), ", "))
	}
	if emptyString(viol) && strings.HasPrefix(viol.Proto.GetRuleId(), "string.") {
		if last.HasSubscript() {
			return field, "must not be empty"
		}
		return field, "is required"
	}
	return field, message
}

// emptyString reports whether the value that broke a rule is "".
func emptyString(viol *protovalidate.Violation) bool {
	if !viol.FieldValue.IsValid() {
		return false
	}
	s, ok := viol.FieldValue.Interface().(string)
	return ok && s == ""
}

// oneofAt returns the oneof that path ends at, or nil if it ends at a field.
func oneofAt(root protoreflect.MessageDescriptor, elems []*validate.FieldPathElement) protoreflect.OneofDescriptor {
	md := root
	for i, e := range elems {
		name := protoreflect.Name(e.GetFieldName())
		if i == len(elems)-1 {
			if md.Fields().ByName(name) != nil {
				return nil
			}
			return md.Oneofs().ByName(name)
		}
		fd := md.Fields().ByName(name)
		if fd == nil {
			return nil
		}
		if fd.IsMap() {
			fd = fd.MapValue()
		}
		if fd.Message() == nil {
			return nil
		}
		md = fd.Message()
	}
	return nil
}
