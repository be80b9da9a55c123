package codec

import (
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/reflect/protoreflect"
	"google.golang.org/protobuf/types/known/structpb"
)

// ErrTooDeep is Decode's error for a message nested deeper than its
// limit, worded by protobuf-go itself (whose wording varies by build).
var ErrTooDeep = func() error {
	deep := &structpb.Struct{Fields: map[string]*structpb.Value{"": structpb.NewStructValue(&structpb.Struct{})}}
	b, err := proto.Marshal(deep)
	if err == nil {
		err = Decode(b, &structpb.Struct{}, 1)
	}
	return err
}()

// CheckDepth reports, without encoding m, whether Decode would refuse
// m's wire bytes for nesting deeper than limit, with Decode's error: a
// message decoded from another form (Connect JSON, whose decoder counts
// nesting its own way: a Struct level is one there and three on the wire)
// is held to the same bound as one that came as bytes.
func CheckDepth(m protoreflect.Message, limit int) error {
	if limit <= 0 {
		limit = DefaultRecursionLimit
	}
	if !nests(m.Descriptor()) {
		return nil // no message below it (no walk, nothing allocated)
	}
	if depth(m, limit) >= limit {
		return ErrTooDeep
	}
	return nil
}

// depth is the number of messages nested below m on its deepest path,
// as the wire decoder counts them (a map entry is a message), stopping
// once it passes max.
func depth(m protoreflect.Message, max int) int {
	deepest := 0
	m.Range(func(fd protoreflect.FieldDescriptor, v protoreflect.Value) bool {
		d := 0
		switch {
		case fd.IsMap():
			if fd.MapValue().Message() == nil {
				d = 1 // the entry
				break
			}
			v.Map().Range(func(_ protoreflect.MapKey, v protoreflect.Value) bool {
				d = max1(d, 2+depth(v.Message(), max-2))
				return d <= max
			})
		case fd.Message() == nil:
		case fd.IsList():
			l := v.List()
			for i := 0; i < l.Len() && d <= max; i++ {
				d = max1(d, 1+depth(l.Get(i).Message(), max-1))
			}
		default:
			d = 1 + depth(v.Message(), max-1)
		}
		deepest = max1(deepest, d)
		return deepest <= max
	})
	return deepest
}

// nests reports whether a message of type md can hold another: a
// message field, or a map (whose entries are messages).
func nests(md protoreflect.MessageDescriptor) bool {
	fs := md.Fields()
	for i := range fs.Len() {
		if fs.Get(i).Message() != nil {
			return true
		}
	}
	return false
}

func max1(a, b int) int {
	if a > b {
		return a
	}
	return b
}
