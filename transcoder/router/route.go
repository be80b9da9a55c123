package router

import (
	"errors"
	"fmt"
	"strings"

	"github.com/portico-gw/portico/catalog/httprule"
)

// route is a registered template. Its value is the Router's values[id].
type route struct {
	id   int
	tpl  *httprule.Template
	vars []span // one per tpl.Vars, in order
}

// span is a variable's run of template segments [start, end). When toEnd is
// set the run ends with "**" and extends to the end of the path.
type span struct {
	start, end int
	toEnd      bool
}

// newRoute checks the invariants the trie relies on, which Parse guarantees
// but a hand-built Template might not, and copies what Lookup needs.
func newRoute(tpl *httprule.Template, id int) (*route, error) {
	if tpl == nil {
		return nil, errors.New("router: nil template")
	}
	name := tpl.Raw
	if name == "" {
		name = tpl.Shape() // String could drop a malformed variable
	}
	n := len(tpl.Segments)
	if n == 0 {
		return nil, fmt.Errorf("router: template %q has no segments", name)
	}
	for i, s := range tpl.Segments {
		switch s.Kind {
		case httprule.Literal:
			if s.Literal == "" || strings.Contains(s.Literal, "/") {
				return nil, fmt.Errorf("router: template %q: segment %d: literal %q is empty or has a \"/\"", name, i, s.Literal)
			}
		case httprule.Wildcard:
		case httprule.DeepWildcard:
			if i != n-1 {
				return nil, fmt.Errorf("router: template %q: \"**\" must be the last segment", name)
			}
		default:
			return nil, fmt.Errorf("router: template %q: segment %d has unknown kind %d", name, i, s.Kind)
		}
	}
	rt := &route{id: id, tpl: tpl, vars: make([]span, len(tpl.Vars))}
	prev := 0
	for i, tv := range tpl.Vars {
		if tv.Start < prev || tv.End <= tv.Start || tv.End > n {
			return nil, fmt.Errorf("router: template %q: variable %d covers segments [%d,%d), want ordered, non-overlapping runs within %d segments",
				name, i, tv.Start, tv.End, n)
		}
		prev = tv.End
		rt.vars[i] = span{start: tv.Start, end: tv.End, toEnd: tpl.Segments[tv.End-1].Kind == httprule.DeepWildcard}
	}
	return rt, nil
}

// extract returns the raw text of each variable in path, the part of the
// request path that rt's segments matched. Template segment i matched path
// segment i, except the final "**", which matched all the rest.
func (rt *route) extract(path string) []string {
	if len(rt.vars) == 0 {
		return nil
	}
	vals := make([]string, len(rt.vars))
	seg, pos := 0, 1 // path segment seg starts at byte pos
	for i, v := range rt.vars {
		for seg < v.start {
			pos = segmentEnd(path, pos) + 1
			seg++
		}
		if pos > len(path) {
			// Only a variable that is just "**" matching zero segments
			// starts past the end.
			break
		}
		if v.toEnd {
			vals[i] = path[pos:]
			break
		}
		start, end := pos, pos
		for seg < v.end {
			end = segmentEnd(path, pos)
			pos = end + 1
			seg++
		}
		vals[i] = path[start:end]
	}
	return vals
}
