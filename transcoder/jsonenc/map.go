package jsonenc

import (
	"cmp"
	"fmt"
	"slices"
	"strconv"
	"sync"

	"google.golang.org/protobuf/reflect/protoreflect"
)

// mapEntry is one map entry with its key decoded for sorting.
type mapEntry struct {
	s string // string keys
	n uint64 // integer keys (signed keys as int64 bits), bool keys as 0/1
	v protoreflect.Value
}

// entryPool recycles the scratch slices used to sort map entries.
var entryPool = sync.Pool{New: func() any { return new([]mapEntry) }}

// appendMap appends m as a JSON object with its entries sorted as protojson
// sorts them: false before true, integers in numeric order, strings in byte
// (UTF-8 code point) order. Keys are always JSON strings.
func (e *Encoder) appendMap(b []byte, f *fieldPlan, m protoreflect.Map) ([]byte, error) {
	n := m.Len()
	if n == 0 {
		return append(b, '{', '}'), nil
	}
	p := entryPool.Get().(*[]mapEntry)
	entries := (*p)[:0]
	defer func() {
		clear(entries)
		if cap(entries) <= 1024 {
			*p = entries[:0]
			entryPool.Put(p)
		}
	}()
	kind := f.key
	m.Range(func(k protoreflect.MapKey, v protoreflect.Value) bool {
		ent := mapEntry{v: v}
		switch kind {
		case protoreflect.StringKind:
			ent.s = k.String()
		case protoreflect.BoolKind:
			if k.Bool() {
				ent.n = 1
			}
		case protoreflect.Int32Kind, protoreflect.Int64Kind, protoreflect.Sint32Kind,
			protoreflect.Sint64Kind, protoreflect.Sfixed32Kind, protoreflect.Sfixed64Kind:
			ent.n = uint64(k.Int())
		default:
			ent.n = k.Uint()
		}
		entries = append(entries, ent)
		return true
	})
	switch kind {
	case protoreflect.StringKind:
		slices.SortFunc(entries, func(x, y mapEntry) int { return cmp.Compare(x.s, y.s) })
	case protoreflect.Int32Kind, protoreflect.Int64Kind, protoreflect.Sint32Kind,
		protoreflect.Sint64Kind, protoreflect.Sfixed32Kind, protoreflect.Sfixed64Kind:
		slices.SortFunc(entries, func(x, y mapEntry) int { return cmp.Compare(int64(x.n), int64(y.n)) })
	default:
		slices.SortFunc(entries, func(x, y mapEntry) int { return cmp.Compare(x.n, y.n) })
	}
	b = append(b, '{')
	var err error
	for i := range entries {
		ent := &entries[i]
		if i > 0 {
			b = append(b, ',')
		}
		switch kind {
		case protoreflect.StringKind:
			if b, err = appendString(b, ent.s); err != nil {
				return b, fmt.Errorf("jsonenc: map key of %s: %w", f.fd.FullName(), err)
			}
		case protoreflect.BoolKind:
			b = append(b, '"')
			b = appendBool(b, ent.n == 1)
			b = append(b, '"')
		case protoreflect.Int32Kind, protoreflect.Int64Kind, protoreflect.Sint32Kind,
			protoreflect.Sint64Kind, protoreflect.Sfixed32Kind, protoreflect.Sfixed64Kind:
			b = appendQuotedInt(b, int64(ent.n))
		default:
			b = append(b, '"')
			b = strconv.AppendUint(b, ent.n, 10)
			b = append(b, '"')
		}
		b = append(b, ':')
		if b, err = e.appendValue(b, &f.val, ent.v); err != nil {
			return b, err
		}
	}
	return append(b, '}'), nil
}
