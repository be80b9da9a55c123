package jsonenc

import (
	"google.golang.org/protobuf/encoding/protojson"
	"google.golang.org/protobuf/reflect/protoreflect"
)

// appendProtojson appends protojson's encoding of m, compacted. partial
// skips protojson's required-field check, for a sub-message whose root
// message Append checks itself.
func (e *Encoder) appendProtojson(b []byte, m protoreflect.Message, partial bool) ([]byte, error) {
	start := len(b)
	out, err := protojson.MarshalOptions{EmitUnpopulated: true, AllowPartial: partial, Resolver: e.resolver}.MarshalAppend(b, m.Interface())
	if err != nil {
		return b[:start], err
	}
	return compact(out, start), nil
}

// compact removes the JSON whitespace outside strings from b[start:], in
// place, and returns the shortened slice.
func compact(b []byte, start int) []byte {
	w := start
	inString, escaped := false, false
	for r := start; r < len(b); r++ {
		c := b[r]
		switch {
		case inString:
			switch {
			case escaped:
				escaped = false
			case c == '\\':
				escaped = true
			case c == '"':
				inString = false
			}
		case c == '"':
			inString = true
		case c == ' ' || c == '\t' || c == '\n' || c == '\r':
			continue
		}
		b[w] = c
		w++
	}
	return b[:w]
}
