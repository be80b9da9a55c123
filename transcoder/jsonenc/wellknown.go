package jsonenc

import (
	"fmt"
	"math"
	"strconv"

	"google.golang.org/protobuf/reflect/protoreflect"
)

// Limits of the JSON forms of Timestamp and Duration, as protojson
// enforces them.
const (
	maxNanos            = 999999999
	maxDurationSeconds  = 315576000000
	minTimestampSeconds = -62135596800 // 0001-01-01T00:00:00Z
	maxTimestampSeconds = 253402300799 // 9999-12-31T23:59:59Z
)

// appendWellKnown appends the JSON form of a well-known type.
func (e *Encoder) appendWellKnown(b []byte, p *messagePlan, m protoreflect.Message) ([]byte, error) {
	switch p.wkt {
	case wktTimestamp:
		return appendTimestamp(b, m.Get(p.seconds).Int(), m.Get(p.nanos).Int())
	case wktDuration:
		return appendDuration(b, m.Get(p.seconds).Int(), m.Get(p.nanos).Int())
	case wktWrapper:
		f := &p.fields[p.valueIndex]
		return e.appendValue(b, &f.val, m.Get(f.fd))
	case wktStruct:
		f := &p.fields[0]
		return e.appendMap(b, f, m.Get(f.fd).Map())
	case wktListValue:
		f := &p.fields[0]
		return e.appendList(b, &f.val, m.Get(f.fd).List())
	case wktValue:
		fd := m.WhichOneof(p.oneof)
		if fd == nil {
			return b, fmt.Errorf("jsonenc: %s: none of the oneof fields is set", p.desc.FullName())
		}
		v := m.Get(fd)
		if fd.Kind() == protoreflect.DoubleKind {
			if f := v.Float(); math.IsNaN(f) || math.IsInf(f, 0) {
				return b, fmt.Errorf("jsonenc: %s: invalid number value %v", p.desc.FullName(), f)
			}
		}
		return e.appendValue(b, &p.fields[fd.Index()].val, v)
	case wktFieldMask:
		return appendFieldMask(b, m.Get(p.fields[0].fd).List())
	}
	return b, fmt.Errorf("jsonenc: unhandled well-known type %s", p.desc.FullName())
}

// appendFraction appends "." and 3, 6 or 9 digits of nanos (nothing when
// nanos is 0): the fewest groups of three that represent it exactly.
func appendFraction(b []byte, nanos int64) []byte {
	if nanos == 0 {
		return b
	}
	digits := 9
	for digits > 3 && nanos%1000 == 0 {
		nanos /= 1000
		digits -= 3
	}
	b = append(b, '.')
	var buf [9]byte
	for i := digits - 1; i >= 0; i-- {
		buf[i] = byte('0' + nanos%10)
		nanos /= 10
	}
	return append(b, buf[:digits]...)
}

// appendTimestamp appends an RFC 3339 UTC timestamp string with 0, 3, 6 or 9
// fractional digits.
func appendTimestamp(b []byte, secs, nanos int64) ([]byte, error) {
	if secs < minTimestampSeconds || secs > maxTimestampSeconds {
		return b, fmt.Errorf("jsonenc: google.protobuf.Timestamp: seconds out of range %v", secs)
	}
	if nanos < 0 || nanos > maxNanos {
		return b, fmt.Errorf("jsonenc: google.protobuf.Timestamp: nanos out of range %v", nanos)
	}
	b = append(b, '"')
	b = appendDateTime(b, secs)
	b = appendFraction(b, nanos)
	return append(b, 'Z', '"'), nil
}

// appendDateTime appends secs (seconds since the Unix epoch, within the
// Timestamp range) as "YYYY-MM-DDTHH:MM:SS" in UTC, computing the civil date
// directly (Howard Hinnant's days-to-civil algorithm) rather than through
// time.Time formatting.
func appendDateTime(b []byte, secs int64) []byte {
	days := secs / 86400
	rem := secs % 86400
	if rem < 0 {
		rem += 86400
		days--
	}
	z := days + 719468 // days since 0000-03-01
	era := z / 146097  // z is positive over the Timestamp range
	doe := z - era*146097
	yoe := (doe - doe/1460 + doe/36524 - doe/146096) / 365
	y := yoe + era*400
	doy := doe - (365*yoe + yoe/4 - yoe/100)
	mp := (5*doy + 2) / 153
	d := doy - (153*mp+2)/5 + 1
	m := mp + 3
	if m > 12 {
		m -= 12
	}
	if m <= 2 {
		y++
	}
	b = append(b,
		byte('0'+y/1000), byte('0'+y/100%10), byte('0'+y/10%10), byte('0'+y%10), '-',
		byte('0'+m/10), byte('0'+m%10), '-',
		byte('0'+d/10), byte('0'+d%10), 'T',
		byte('0'+rem/36000), byte('0'+rem/3600%10), ':',
		byte('0'+rem%3600/600), byte('0'+rem%3600/60%10), ':',
		byte('0'+rem%60/10), byte('0'+rem%10))
	return b
}

// appendDuration appends a duration string such as "-1.500s".
func appendDuration(b []byte, secs, nanos int64) ([]byte, error) {
	if secs < -maxDurationSeconds || secs > maxDurationSeconds {
		return b, fmt.Errorf("jsonenc: google.protobuf.Duration: seconds out of range %v", secs)
	}
	if nanos < -maxNanos || nanos > maxNanos {
		return b, fmt.Errorf("jsonenc: google.protobuf.Duration: nanos out of range %v", nanos)
	}
	if (secs > 0 && nanos < 0) || (secs < 0 && nanos > 0) {
		return b, fmt.Errorf("jsonenc: google.protobuf.Duration: signs of seconds and nanos do not match")
	}
	b = append(b, '"')
	if secs < 0 || nanos < 0 {
		b = append(b, '-')
		secs, nanos = -secs, -nanos
	}
	b = strconv.AppendInt(b, secs, 10)
	b = appendFraction(b, nanos)
	return append(b, 's', '"'), nil
}

// appendFieldMask appends the paths as one comma-separated string of
// lowerCamel paths, refusing paths that are not valid names or whose
// camel-casing would not round-trip, as protojson does.
func appendFieldMask(b []byte, paths protoreflect.List) ([]byte, error) {
	b = append(b, '"')
	for i := 0; i < paths.Len(); i++ {
		s := paths.Get(i).String()
		if !protoreflect.FullName(s).IsValid() {
			return b, fmt.Errorf("jsonenc: google.protobuf.FieldMask.paths contains invalid path: %q", s)
		}
		if i > 0 {
			b = append(b, ',')
		}
		start := len(b)
		b = appendCamel(b, s)
		if !isSnakeOf(s, b[start:]) {
			return b, fmt.Errorf("jsonenc: google.protobuf.FieldMask.paths contains irreversible value %q", s)
		}
	}
	return append(b, '"'), nil
}

// appendCamel appends the JSON lowerCamel form of the ASCII path s: each
// '_' is dropped and a lowercase letter after it is upper-cased.
func appendCamel(b []byte, s string) []byte {
	underscore := false
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c != '_' {
			if underscore && 'a' <= c && c <= 'z' {
				c -= 'a' - 'A'
			}
			b = append(b, c)
		}
		underscore = c == '_'
	}
	return b
}

// isSnakeOf reports whether converting camel back to snake_case (an
// uppercase letter becomes '_' and its lowercase) yields s.
func isSnakeOf(s string, camel []byte) bool {
	j := 0
	for _, c := range camel {
		if 'A' <= c && c <= 'Z' {
			if j+1 >= len(s) || s[j] != '_' || s[j+1] != c+('a'-'A') {
				return false
			}
			j += 2
			continue
		}
		if j >= len(s) || s[j] != c {
			return false
		}
		j++
	}
	return j == len(s)
}
