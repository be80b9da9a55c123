package params

import (
	"strconv"
	"strings"
)

// Defaults of Limits.
const (
	// DefaultMaxParams is the default bound on the parameters of one query
	// string (with a form body, of both together).
	DefaultMaxParams = 1000
	// DefaultMaxDepth is the default bound on message nesting, the request
	// message counted: the gateway's recursion limit
	// (codec.DefaultRecursionLimit), as for a JSON body or a gRPC message.
	DefaultMaxDepth = 130
	// DefaultMaxBytes is the default bound on a URL's query string.
	DefaultMaxBytes = 64 << 10
)

// Limits bound the work the textual parameters of one request can make the
// gateway do, as a JSON body is bounded: how many parameters there are, how
// deep their field paths reach, how long a query string is, and what the
// JSON text of a Struct, Value or ListValue may hold. Zero fields take the
// defaults; the package-level Query and Set use the zero Limits. A Limits
// is a value: set it up once, when the door is built.
type Limits struct {
	// MaxParams bounds the parameters of one query string; Form counts the
	// form's and the query's together. Default DefaultMaxParams.
	MaxParams int
	// MaxDepth bounds how deep a parameter nests into the request message,
	// the request message counted as 1: a field path of n fields reaches
	// level n+1 (n must be below MaxDepth), and the JSON of a Struct,
	// Value or ListValue at its end may nest only as far as the rest
	// allows. A deeper path is refused before anything is built. Default
	// DefaultMaxDepth.
	MaxDepth int
	// MaxBytes bounds a URL's query string. Default DefaultMaxBytes.
	MaxBytes int
	// JSON, when not nil, checks the JSON text of a Struct, Value or
	// ListValue before it is decoded (the REST door's bounds on JSON depth
	// and values); what it returns is the reason the value is refused.
	JSON func(text string) error
}

// withDefaults returns l with its zero fields set to the defaults.
func (l Limits) withDefaults() Limits {
	if l.MaxParams <= 0 {
		l.MaxParams = DefaultMaxParams
	}
	if l.MaxDepth <= 0 {
		l.MaxDepth = DefaultMaxDepth
	}
	if l.MaxBytes <= 0 {
		l.MaxBytes = DefaultMaxBytes
	}
	return l
}

// checkPath refuses a parameter key whose field path is too deep for the
// recursion limit, from its text alone: nothing is resolved or built for
// it. key is the decoded key; the dots of a [map key] are not path steps.
func (l *Limits) checkPath(key string) error {
	fieldKey, _, _ := splitMapKey(key)
	if fields := strings.Count(fieldKey, ".") + 1; fields >= l.MaxDepth {
		return invalidArgument("query parameter " + quote(key) + ": field path deeper than " +
			strconv.Itoa(l.MaxDepth-1) + " fields")
	}
	return nil
}

// jsonAt returns the JSON rules for a well-known value at the end of path
// p: what nesting is left for it under the recursion limit, and the JSON
// check.
func (l *Limits) jsonAt(p Path) jsonRules {
	left := l.MaxDepth - len(p)
	if left < 1 {
		left = 1
	}
	return jsonRules{depth: left, check: l.JSON}
}

// jsonRules bound the JSON text of a Struct, Value or ListValue: the
// message nesting protojson may build (the value's own message counted),
// and an optional check of the text before it is decoded.
type jsonRules struct {
	depth int
	check func(text string) error
}

// Values estimates, from the text alone, how many values binding a query
// string (or form body) s may set: one per parameter, one per further
// field of a path, one per element of a JSON value. A value decoded into a
// message costs hundreds of bytes however few bytes it took to send, so a
// door charges its budget by this before binding (as it does for a JSON
// body's values). Escaped forms ("%2E", "%2C", …) count like the
// characters they stand for; keys that name no field count too.
func Values(s string) int {
	if s == "" {
		return 0
	}
	n := 1
	for i := 0; i < len(s); i++ {
		switch s[i] {
		case '&', '.', ',', '[', '{':
			n++
		case '%':
			if i+2 < len(s) {
				switch s[i+1 : i+3] {
				case "2E", "2e", "2C", "2c", "5B", "5b", "7B", "7b":
					n++
				}
			}
		}
	}
	return n
}
