package params

import (
	"net/url"
	"strconv"
	"strings"

	"google.golang.org/protobuf/reflect/protoreflect"
)

// Query parses a raw URL query string (r.URL.RawQuery) onto msg the way
// grpc-gateway's default query parser does, within the default Limits:
//
//   - a key is a dotted field path, each step a proto field name or a JSON
//     name ("min_review.stars", "pageSize"); every step but the last must be
//     a singular message field;
//   - a key of the form field[key] sets one entry of a map field;
//   - a repeated field gets one element per value, in order; a singular
//     field, or a map entry, given twice is an error;
//   - values have the syntax given in the package documentation;
//   - keys naming no field are ignored, and so are keys for which
//     skip(dotted proto path) reports true: fields already bound by the path
//     or the body (see SkipBound). The path is in proto names whatever the
//     key's spelling, without any [map key]; skip may be nil.
//
// A query over 64 KiB or with more than 1000 parameters, a key whose path
// is deeper than the recursion limit (DefaultMaxDepth), malformed
// percent-encoding, a semicolon separator, a bad value, a non-UTF-8 string
// or a conflicting oneof member is a codes.InvalidArgument status error.
// Query never panics on any input.
func Query(msg protoreflect.Message, rawQuery string, skip func(path string) bool) error {
	return Limits{}.Query(msg, rawQuery, skip)
}

// Query is the package-level Query within l.
func (l Limits) Query(msg protoreflect.Message, rawQuery string, skip func(path string) bool) error {
	return l.Form(msg, "", rawQuery, skip)
}

// Form binds an application/x-www-form-urlencoded body and the URL's
// query string onto msg as one list of parameters, the form's first and
// then the query's, as net/http's Request.Form orders them (and
// grpc-gateway's generated handlers bind Request.Form): a repeated field
// gets the form's values before the query's, and a singular field given
// in both is given twice. The rules are Query's; l.MaxParams counts the
// parameters of both, l.MaxBytes bounds the query string only (the form
// is a body: its caller bounds it).
func (l Limits) Form(msg protoreflect.Message, form, rawQuery string, skip func(path string) bool) error {
	l = l.withDefaults()
	if err := l.Check(form, rawQuery); err != nil {
		return err
	}
	var seen seenPaths
	for _, q := range [2]string{form, rawQuery} {
		if err := l.bindAll(msg, q, skip, &seen); err != nil {
			return err
		}
	}
	return nil
}

// Check makes the checks of Form that need only the text's size: the
// bytes of the query string and the number of parameters. A door runs it
// before it charges its budget for the parameters (see Values), so that a
// request refused anyway waits for nothing.
func (l Limits) Check(form, rawQuery string) error {
	l = l.withDefaults()
	if len(rawQuery) > l.MaxBytes {
		return invalidArgument("query string longer than " + strconv.Itoa(l.MaxBytes) + " bytes")
	}
	if pairs(form)+pairs(rawQuery) > l.MaxParams {
		what := "query string"
		if form != "" {
			what = "form and query string"
		}
		return invalidArgument(what + " with more than " + strconv.Itoa(l.MaxParams) + " parameters")
	}
	return nil
}

// pairs counts the parameters of a query string (empty ones included).
func pairs(q string) int {
	if q == "" {
		return 0
	}
	return strings.Count(q, "&") + 1
}

// bindAll binds every parameter of the query string q.
func (l *Limits) bindAll(msg protoreflect.Message, q string, skip func(string) bool, seen *seenPaths) error {
	for q != "" {
		var pair string
		pair, q, _ = strings.Cut(q, "&")
		if pair == "" {
			continue
		}
		if strings.IndexByte(pair, ';') >= 0 {
			// Like net/url.ParseQuery, which grpc-gateway's handlers rely on.
			return invalidArgument("invalid semicolon separator in query")
		}
		rawKey, rawValue, _ := strings.Cut(pair, "=")
		key, err := unescape(rawKey)
		if err != nil {
			return invalidArgument("invalid percent-encoding in query parameter " + quote(rawKey))
		}
		if err := l.checkPath(key); err != nil {
			return err
		}
		value, err := unescape(rawValue)
		if err != nil {
			return invalidArgument("invalid percent-encoding in the value of query parameter " + quote(key))
		}
		if err := l.bind(msg, key, value, skip, seen); err != nil {
			return err
		}
	}
	return nil
}

// unescape decodes a query component: "+" is a space and %XX a byte. It
// allocates only when s holds an escape.
func unescape(s string) (string, error) {
	if strings.IndexByte(s, '%') < 0 && strings.IndexByte(s, '+') < 0 {
		return s, nil
	}
	return url.QueryUnescape(s)
}

// splitMapKey splits "field[key]" into "field" and "key". As grpc-gateway's
// pattern `^(.*)\[(.*)\]$` does, it takes the last "[" before a final "]".
func splitMapKey(key string) (field, mapKey string, ok bool) {
	n := len(key)
	if n == 0 || key[n-1] != ']' {
		return key, "", false
	}
	i := strings.LastIndexByte(key[:n-1], '[')
	if i < 0 {
		return key, "", false
	}
	return key[:i], key[i+1 : n-1], true
}

// bind applies one decoded query parameter to msg.
func (l *Limits) bind(msg protoreflect.Message, key, value string, skip func(string) bool, seen *seenPaths) error {
	fieldKey, mapKey, isMapKey := splitMapKey(key)

	// Resolve the key against the descriptors only; msg is not touched until
	// the key is known to name a field that is neither skipped nor bound.
	var buf [8]protoreflect.FieldDescriptor
	p := Path(buf[:0])
	md := msg.Descriptor()
	protoNames := true // every step is spelt as its proto name, so fieldKey is the proto path
	rest, blocked := fieldKey, ""
	for {
		name, tail, more := strings.Cut(rest, ".")
		fields := md.Fields()
		fd := fields.ByName(protoreflect.Name(name))
		if fd == nil {
			if fd = fields.ByJSONName(name); fd == nil {
				return nil // not a field: ignored, as grpc-gateway does
			}
			protoNames = false
		}
		p = append(p, fd)
		if !more {
			break
		}
		if fd.Message() == nil || fd.IsList() || fd.IsMap() {
			blocked = tail // the path goes on through a field that is not a singular message
			break
		}
		md = fd.Message()
		rest = tail
	}

	path := fieldKey
	if !protoNames {
		path = p.String()
		if blocked != "" {
			path += "." + blocked
		}
	}
	if skip != nil && skip(path) {
		return nil
	}
	if blocked != "" {
		return invalidArgument("cannot set " + quote(fieldKey) + ": field " + strconv.Quote(p.String()) +
			" is not a singular message field")
	}

	leaf := p[len(p)-1]
	switch {
	case isMapKey && !leaf.IsMap():
		return invalidArgument("cannot set " + quote(key) + ": field " + strconv.Quote(path) + " is not a map")
	case !isMapKey && leaf.IsMap():
		return fieldError(path, leaf, errMapNeedsKey, "a query parameter")
	case !leaf.IsList() && !leaf.IsMap() && !seen.add(path):
		return invalidArgument("field " + strconv.Quote(path) + " is given more than once in the query")
	}

	parent, err := walk(msg, p)
	if err != nil {
		return err
	}
	if isMapKey {
		return setMapEntry(parent, leaf, path, mapKey, value, l.jsonAt(p))
	}
	if err := setField(parent, leaf, value, l.jsonAt(p)); err != nil {
		return fieldError(path, leaf, err, "a query parameter")
	}
	return nil
}

// setMapEntry sets the entry key of map field fd of m, at path, from
// value; j bounds a JSON value.
func setMapEntry(m protoreflect.Message, fd protoreflect.FieldDescriptor, path, key, value string, j jsonRules) error {
	k, err := parseScalar(fd.MapKey(), key)
	if err != nil {
		return invalidArgument("invalid key for map field " + strconv.Quote(path) + ": " + err.Error())
	}
	mk := k.MapKey()
	mp := m.Mutable(fd).Map()
	if mp.Has(mk) {
		return invalidArgument("map entry " + quote(path+"["+key+"]") + " is given more than once in the query")
	}
	vfd := fd.MapValue()
	var v protoreflect.Value
	if vfd.Message() != nil {
		v = mp.NewValue()
		err = setWellKnown(v.Message(), value, j)
	} else {
		v, err = parseScalar(vfd, value)
	}
	if err != nil {
		return fieldError(path+"["+key+"]", vfd, err, "a query parameter")
	}
	mp.Set(mk, v)
	return nil
}

// seenPaths records the singular fields a query has set, by dotted proto
// path, to refuse a second value. It allocates nothing for a handful.
type seenPaths struct {
	n     int
	small [16]string
	big   map[string]struct{}
}

// add records path and reports whether it was new.
func (s *seenPaths) add(path string) bool {
	if s.big != nil {
		if _, ok := s.big[path]; ok {
			return false
		}
		s.big[path] = struct{}{}
		return true
	}
	for _, q := range s.small[:s.n] {
		if q == path {
			return false
		}
	}
	if s.n < len(s.small) {
		s.small[s.n] = path
		s.n++
		return true
	}
	s.big = make(map[string]struct{}, 2*len(s.small))
	for _, q := range s.small {
		s.big[q] = struct{}{}
	}
	s.big[path] = struct{}{}
	return true
}
