package router

import (
	"slices"
	"strings"

	"github.com/portico-gw/portico/catalog/httprule"
)

// This file holds a deliberately naive reference implementation of the
// matching rules in the package doc: a linear scan over all routes, each
// compared with the path split into segments. The trie must agree with it.

type oracleRoute struct {
	method string
	tpl    *httprule.Template
}

// oracleMatch matches one template against path. verb is the verb taken
// from the path ("" when matching the whole last segment).
func oracleMatch(tpl *httprule.Template, body, verb string) ([]string, bool) {
	if tpl.Verb != verb {
		return nil, false
	}
	segs := strings.Split(body[1:], "/")
	n := len(tpl.Segments)
	deep := tpl.Segments[n-1].Kind == httprule.DeepWildcard
	switch {
	case deep && n == 1 && len(segs) < 1:
		return nil, false
	case deep && len(segs) < n-1:
		return nil, false
	case !deep && len(segs) != n:
		return nil, false
	}
	for i, s := range tpl.Segments {
		if s.Kind == httprule.Literal && segs[i] != s.Literal {
			return nil, false
		}
	}
	var vars []string
	for _, v := range tpl.Vars {
		end := v.End
		if end == n && deep {
			end = len(segs)
		}
		start := min(v.Start, len(segs))
		vars = append(vars, strings.Join(segs[start:end], "/"))
	}
	return vars, true
}

// rank orders templates that match the same path: smaller wins.
func rank(a, b *httprule.Template) int {
	for i := 0; i < len(a.Segments) && i < len(b.Segments); i++ {
		if c := int(a.Segments[i].Kind) - int(b.Segments[i].Kind); c != 0 {
			return c
		}
	}
	return len(a.Segments) - len(b.Segments)
}

// oracleLookup is Lookup done the slow way.
func oracleLookup(routes []oracleRoute, method, path string) (tpl *httprule.Template, vars []string, allowed []string) {
	if len(path) < 2 || path[0] != '/' || path[len(path)-1] == '/' || strings.Contains(path, "//") {
		return nil, nil, nil
	}
	best := func(m string) (*httprule.Template, []string) {
		// Every ":" of the last segment, from the first (the longest verb).
		last := path[strings.LastIndexByte(path, '/')+1:]
		for c := 0; c < len(last); c++ {
			if last[c] != ':' || c == 0 || c == len(last)-1 {
				continue
			}
			body, verb := path[:len(path)-len(last)+c], last[c+1:]
			if t, v := oracleBest(routes, m, body, verb); t != nil {
				return t, v
			}
		}
		return oracleBest(routes, m, path, "")
	}
	if t, v := best(method); t != nil {
		return t, v, nil
	}
	if t, v := best(AnyMethod); t != nil && method != AnyMethod {
		return t, v, nil // a route for every method, after the method's own
	}
	for _, r := range routes {
		if r.method != method && r.method != AnyMethod && !slices.Contains(allowed, r.method) {
			if t, _ := best(r.method); t != nil {
				allowed = append(allowed, r.method)
			}
		}
	}
	slices.Sort(allowed)
	return nil, nil, allowed
}

func oracleBest(routes []oracleRoute, method, body, verb string) (*httprule.Template, []string) {
	var bt *httprule.Template
	var bv []string
	for _, r := range routes {
		if r.method != method {
			continue
		}
		if v, ok := oracleMatch(r.tpl, body, verb); ok && (bt == nil || rank(r.tpl, bt) < 0) {
			bt, bv = r.tpl, v
		}
	}
	return bt, bv
}
