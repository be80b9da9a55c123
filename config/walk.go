package config

import (
	"encoding/json"
	"fmt"
	"math"
	"sort"
	"strconv"
	"strings"
	"time"

	"google.golang.org/protobuf/reflect/protoreflect"
)

// durationName is the full name of google.protobuf.Duration, the one
// well-known type the walk understands: it accepts Go-style durations.
const durationName protoreflect.FullName = "google.protobuf.Duration"

// walker checks a decoded JSON tree (from encoding/json with UseNumber)
// against a message descriptor before protojson sees it. It reports unknown
// keys and values of the wrong type with their path, which protojson's own
// errors do not give, and rewrites Go-style durations into the proto3 JSON
// form that protojson accepts.
type walker struct {
	errs *errorList
}

// message checks obj, the value at path, against md. It returns obj, with
// durations rewritten.
func (w *walker) message(path string, obj any, md protoreflect.MessageDescriptor) any {
	if md.FullName() == durationName {
		return w.duration(path, obj)
	}
	if md.FullName().Parent() == "google.protobuf" {
		// Other well-known types have JSON forms of their own; protojson
		// checks them.
		return obj
	}
	m, ok := obj.(map[string]any)
	if !ok {
		w.wrongType(path, "a mapping", obj)
		return obj
	}
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	oneofs := map[protoreflect.OneofDescriptor][]string{}
	for _, k := range keys {
		fd := md.Fields().ByName(protoreflect.Name(k))
		if fd == nil {
			msg := unknownField(k, md)
			if path == "" {
				msg = strings.Replace(msg, "unknown field", "unknown top-level field", 1)
			}
			w.errs.add(path, msg)
			continue
		}
		v := m[k]
		if v == nil {
			// null means unset, as in protojson.
			continue
		}
		if od := fd.ContainingOneof(); od != nil && !od.IsSynthetic() {
			oneofs[od] = append(oneofs[od], k)
		}
		m[k] = w.field(join(path, k), v, fd)
	}
	for i := 0; i < md.Oneofs().Len(); i++ {
		od := md.Oneofs().Get(i)
		if set := oneofs[od]; len(set) > 1 {
			w.errs.add(path, fmt.Sprintf("only one of %s may be set, got %s",
				strings.Join(oneofFieldNames(od), ", "), strings.Join(set, " and ")))
		}
	}
	return m
}

// field checks v, the non-null value at path, against fd.
func (w *walker) field(path string, v any, fd protoreflect.FieldDescriptor) any {
	switch {
	case fd.IsMap():
		m, ok := v.(map[string]any)
		if !ok {
			w.wrongType(path, "a mapping", v)
			return v
		}
		keys := make([]string, 0, len(m))
		for k := range m {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		for _, k := range keys {
			m[k] = w.single(path+"["+strconv.Quote(k)+"]", m[k], fd.MapValue())
		}
		return m
	case fd.IsList():
		l, ok := v.([]any)
		if !ok {
			w.wrongType(path, "a list", v)
			return v
		}
		for i, item := range l {
			l[i] = w.single(path+"["+strconv.Itoa(i)+"]", item, fd)
		}
		return l
	default:
		return w.single(path, v, fd)
	}
}

// single checks v, one value of fd's kind at path (a singular field, a list
// item or a map value).
func (w *walker) single(path string, v any, fd protoreflect.FieldDescriptor) any {
	switch fd.Kind() {
	case protoreflect.MessageKind, protoreflect.GroupKind:
		if v == nil && fd.Message().FullName() != "google.protobuf.Value" {
			w.wrongType(path, "a mapping", v)
			return v
		}
		return w.message(path, v, fd.Message())
	case protoreflect.StringKind, protoreflect.BytesKind:
		if _, ok := v.(string); !ok {
			w.wrongType(path, "a string", v)
		}
	case protoreflect.BoolKind:
		if _, ok := v.(bool); !ok {
			w.wrongType(path, "true or false", v)
		}
	case protoreflect.EnumKind:
		w.enum(path, v, fd.Enum())
	case protoreflect.FloatKind, protoreflect.DoubleKind:
		w.float(path, v, fd.Kind())
	default:
		w.integer(path, v, fd.Kind())
	}
	return v
}

// duration accepts a Go-style duration string ("1h30m", "500ms", "10s") and
// returns it in the proto3 JSON form ("5400s", "0.500000000s").
func (w *walker) duration(path string, v any) any {
	s, ok := v.(string)
	if !ok {
		w.wrongType(path, `a duration such as "10s", "500ms" or "1m30s"`, v)
		return v
	}
	d, err := time.ParseDuration(s)
	if err != nil {
		w.errs.add(path, fmt.Sprintf(`invalid duration %q: want a duration such as "10s", "500ms" or "1m30s"`, s))
		return v
	}
	return durationJSON(d)
}

// durationJSON formats d as protojson writes a google.protobuf.Duration.
func durationJSON(d time.Duration) string {
	sign := ""
	u := uint64(d)
	if d < 0 {
		sign = "-"
		u = -u // two's complement: also right for math.MinInt64
	}
	secs, nanos := u/uint64(time.Second), u%uint64(time.Second)
	if nanos == 0 {
		return fmt.Sprintf("%s%ds", sign, secs)
	}
	return fmt.Sprintf("%s%d.%09ds", sign, secs, nanos)
}

// enum accepts a value name of ed, or a number.
func (w *walker) enum(path string, v any, ed protoreflect.EnumDescriptor) {
	switch v := v.(type) {
	case string:
		if ed.Values().ByName(protoreflect.Name(v)) == nil {
			w.errs.add(path, fmt.Sprintf("unknown value %q (known: %s)", v, strings.Join(enumValueNames(ed), ", ")))
		}
	case json.Number:
		if _, err := strconv.ParseInt(v.String(), 10, 32); err != nil {
			w.wrongType(path, "one of "+strings.Join(enumValueNames(ed), ", "), v)
		}
	default:
		w.wrongType(path, "one of "+strings.Join(enumValueNames(ed), ", "), v)
	}
}

// float accepts a number, or one of the strings protojson gives special
// values.
func (w *walker) float(path string, v any, kind protoreflect.Kind) {
	switch v := v.(type) {
	case string:
		if v != "NaN" && v != "Infinity" && v != "-Infinity" {
			w.wrongType(path, "a number", v)
		}
	case json.Number:
		bits := 64
		if kind == protoreflect.FloatKind {
			bits = 32
		}
		if f, err := strconv.ParseFloat(v.String(), bits); err != nil || math.IsInf(f, 0) {
			w.errs.add(path, fmt.Sprintf("number %s is out of range", v))
		}
	default:
		w.wrongType(path, "a number", v)
	}
}

// integer accepts a whole number in the range of kind.
func (w *walker) integer(path string, v any, kind protoreflect.Kind) {
	n, ok := v.(json.Number)
	if !ok {
		w.wrongType(path, "a whole number", v)
		return
	}
	var err error
	switch kind {
	case protoreflect.Int32Kind, protoreflect.Sint32Kind, protoreflect.Sfixed32Kind:
		_, err = strconv.ParseInt(n.String(), 10, 32)
	case protoreflect.Uint32Kind, protoreflect.Fixed32Kind:
		_, err = strconv.ParseUint(n.String(), 10, 32)
	case protoreflect.Uint64Kind, protoreflect.Fixed64Kind:
		_, err = strconv.ParseUint(n.String(), 10, 64)
	default:
		_, err = strconv.ParseInt(n.String(), 10, 64)
	}
	if err != nil {
		w.errs.add(path, fmt.Sprintf("want a whole number in range, got %s", n))
	}
}

// wrongType reports that the value at path is got but want was expected.
func (w *walker) wrongType(path, want string, got any) {
	w.errs.add(path, fmt.Sprintf("want %s, got %s", want, describe(got)))
}

// describe names a JSON value for an error message.
func describe(v any) string {
	switch v := v.(type) {
	case nil:
		return "nothing"
	case string:
		return "string " + strconv.Quote(v)
	case json.Number:
		return "number " + v.String()
	case bool:
		return "boolean " + strconv.FormatBool(v)
	case []any:
		return "a list"
	case map[string]any:
		return "a mapping"
	default:
		return fmt.Sprintf("%T", v)
	}
}

// unknownField says that key is not a field of md, suggesting the field the
// writer probably meant.
func unknownField(key string, md protoreflect.MessageDescriptor) string {
	names := make([]string, 0, md.Fields().Len())
	best, bestDist := "", 3 // suggest only within an edit distance of 2
	for i := 0; i < md.Fields().Len(); i++ {
		fd := md.Fields().Get(i)
		name := string(fd.Name())
		names = append(names, name)
		if fd.JSONName() == key || strings.EqualFold(name, key) {
			// The lowerCamel (JSON) spelling, or a case slip.
			best, bestDist = name, 0
			continue
		}
		if d := editDistance(key, name); d < bestDist && d < len(key) {
			best, bestDist = name, d
		}
	}
	if best != "" {
		return fmt.Sprintf("unknown field %q (did you mean %q?)", key, best)
	}
	sort.Strings(names)
	return fmt.Sprintf("unknown field %q (known: %s)", key, strings.Join(names, ", "))
}

// oneofFieldNames lists the names of the fields of od.
func oneofFieldNames(od protoreflect.OneofDescriptor) []string {
	names := make([]string, od.Fields().Len())
	for i := range names {
		names[i] = string(od.Fields().Get(i).Name())
	}
	return names
}

// enumValueNames lists the value names of ed.
func enumValueNames(ed protoreflect.EnumDescriptor) []string {
	names := make([]string, ed.Values().Len())
	for i := range names {
		names[i] = string(ed.Values().Get(i).Name())
	}
	return names
}

// editDistance is the Levenshtein distance between a and b, in bytes.
func editDistance(a, b string) int {
	prev := make([]int, len(b)+1)
	cur := make([]int, len(b)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(a); i++ {
		cur[0] = i
		for j := 1; j <= len(b); j++ {
			cost := 1
			if a[i-1] == b[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
		}
		prev, cur = cur, prev
	}
	return prev[len(b)]
}

// join appends a key to a field path.
func join(path, key string) string {
	if path == "" {
		return key
	}
	return path + "." + key
}
