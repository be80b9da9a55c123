package openapi

import (
	"fmt"
	"regexp"
	"strings"

	"github.com/portico-gw/portico/catalog/httprule"
)

// pathVar is one path parameter of an OpenAPI path.
type pathVar struct {
	// name is the parameter's name in the OpenAPI path.
	name string
	// field is the request field it sets (dotted proto names); empty for
	// a wildcard bound to no field.
	field string
	// pattern is what the parameter's value must look like when it spans
	// several segments or is not a single "*" (e.g. ^shelves/[^/]+$).
	pattern string
	// multi: the value may contain "/" (a clients must not escape it).
	multi bool
}

// openAPIPath turns a google.api.http template into an OpenAPI path and
// its parameters, grpc-gateway's way: {name=shelves/*/books/*} becomes
// {name} with a pattern for its value; the custom verb stays a literal
// (":move").
func openAPIPath(t *httprule.Template) (string, []pathVar) {
	var b strings.Builder
	var vars []pathVar
	unnamed := 0
	vi := 0
	for i := 0; i < len(t.Segments); i++ {
		b.WriteByte('/')
		if vi < len(t.Vars) && t.Vars[vi].Start == i {
			v := t.Vars[vi]
			vi++
			field := strings.Join(v.FieldPath, ".")
			pv := pathVar{name: field, field: field}
			segs := t.Segments[v.Start:v.End]
			if !(len(segs) == 1 && segs[0].Kind == httprule.Wildcard) {
				pv.pattern = segmentsPattern(segs)
				pv.multi = len(segs) > 1 || segs[0].Kind == httprule.DeepWildcard
			}
			vars = append(vars, pv)
			b.WriteString("{" + pv.name + "}")
			i = v.End - 1
			continue
		}
		switch s := t.Segments[i]; s.Kind {
		case httprule.Literal:
			b.WriteString(s.Literal)
		default:
			// A wildcard outside any variable: it matches, but binds no
			// field.
			unnamed++
			pv := pathVar{name: fmt.Sprintf("wildcard%d", unnamed)}
			if s.Kind == httprule.DeepWildcard {
				pv.pattern, pv.multi = "^.+$", true
			}
			vars = append(vars, pv)
			b.WriteString("{" + pv.name + "}")
		}
	}
	if t.Verb != "" {
		b.WriteString(":" + t.Verb)
	}
	return b.String(), vars
}

// segmentsPattern is the regular expression a variable's value matches.
func segmentsPattern(segs []httprule.Segment) string {
	parts := make([]string, len(segs))
	for i, s := range segs {
		switch s.Kind {
		case httprule.Wildcard:
			parts[i] = "[^/]+"
		case httprule.DeepWildcard:
			parts[i] = ".+"
		default:
			parts[i] = regexp.QuoteMeta(s.Literal)
		}
	}
	return "^" + strings.Join(parts, "/") + "$"
}

var pathParam = regexp.MustCompile(`\{[^}]*\}`)

// normalizedPath erases parameter names: two paths OpenAPI considers the
// same have the same normalized path.
func normalizedPath(p string) string {
	return pathParam.ReplaceAllString(p, "{}")
}

// pathNames keeps, for each normalized path, the parameter names of the
// first path that used it: OpenAPI forbids two paths that differ only in
// their parameters' names (GET /v1/{name} and PATCH /v1/{book.name}), so
// later ones take the first one's names (each parameter still says which
// field it sets).
type pathNames map[string][]string

func (pn pathNames) unify(path string, vars []pathVar) (string, []pathVar) {
	key := normalizedPath(path)
	names, ok := pn[key]
	if !ok {
		for _, v := range vars {
			names = append(names, v.name)
		}
		pn[key] = names
		return path, vars
	}
	out := make([]pathVar, len(vars))
	copy(out, vars)
	i := 0
	path = pathParam.ReplaceAllStringFunc(path, func(string) string {
		name := names[i]
		out[i].name = name
		i++
		return "{" + name + "}"
	})
	return path, out
}
