package ratelimit

import (
	"fmt"
	"strings"
)

// names is the text form of an enumeration (Period, FailureMode): the name
// of each value, at its index; "" for a value without one.
type names []string

// parse returns the value named s. key is the setting s was read from, for
// the error, which lists the names.
func (n names) parse(key, s string) (int, error) {
	var known []string
	for v, name := range n {
		if name == "" {
			continue
		}
		if name == s {
			return v, nil
		}
		known = append(known, name)
	}
	last := len(known) - 1
	return 0, fmt.Errorf("%s %q: want %s or %s", key, s, strings.Join(known[:last], ", "), known[last])
}

// of returns the name of v, or other when v has none.
func (n names) of(v int, other string) string {
	if v >= 0 && v < len(n) && n[v] != "" {
		return n[v]
	}
	return other
}
