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
	// part: the parameter is one wildcard of a variable with literal
	// segments ({name=shelves/*/books/*}); the field gets the whole text.
	part bool
	// variable is the variable as written, for descriptions.
	variable string
	// pattern is what the parameter's value must look like when it spans
	// several segments, e.g. ^[^/]+/[^/]+$.
	pattern string
	// multi: the value may contain "/" (clients must not escape it).
	multi bool
}

// openAPIPath turns a google.api.http template into an OpenAPI path and
// its parameters. A variable with literal segments is expanded, as
// protoc-gen-openapiv2's expand_slashed_path_patterns does:
// {name=shelves/*/books/*} becomes shelves/{shelf}/books/{book}, one
// parameter per wildcard, so that templates that differ only in their
// literals (/v1/{name=shelves/*} and /v1/{name=zones/*}) stay distinct
// paths, as they are to the router. A variable of wildcards only is one
// parameter ({name=**} may hold "/"). The custom verb stays a literal
// (":move").
func openAPIPath(t *httprule.Template) (string, []pathVar) {
	var b strings.Builder
	var vars []pathVar
	used := map[string]bool{}
	unique := func(name string) string {
		n, i := name, 1
		for used[n] {
			i++
			n = fmt.Sprintf("%s_%d", name, i)
		}
		used[n] = true
		return n
	}
	unnamed := 0
	vi := 0
	for i := 0; i < len(t.Segments); i++ {
		b.WriteByte('/')
		if vi < len(t.Vars) && t.Vars[vi].Start == i {
			v := t.Vars[vi]
			vi++
			field := strings.Join(v.FieldPath, ".")
			segs := t.Segments[v.Start:v.End]
			if !hasLiteral(segs) {
				pv := pathVar{name: unique(field), field: field}
				if !(len(segs) == 1 && segs[0].Kind == httprule.Wildcard) {
					pv.pattern = segmentsPattern(segs)
					pv.multi = true
				}
				vars = append(vars, pv)
				b.WriteString("{" + pv.name + "}")
				i = v.End - 1
				continue
			}
			text := variableText(segs)
			prev := ""
			for j, seg := range segs {
				if j > 0 {
					b.WriteByte('/')
				}
				switch seg.Kind {
				case httprule.Literal:
					b.WriteString(seg.Literal)
					prev = seg.Literal
				default:
					base := singular(prev)
					if base == "" {
						base = fmt.Sprintf("%s_%d", v.FieldPath[len(v.FieldPath)-1], j+1)
					}
					pv := pathVar{name: unique(base), field: field, part: true, variable: field + "=" + text}
					if seg.Kind == httprule.DeepWildcard {
						pv.pattern, pv.multi = "^.+$", true
					}
					vars = append(vars, pv)
					b.WriteString("{" + pv.name + "}")
					prev = ""
				}
			}
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
			pv := pathVar{name: unique(fmt.Sprintf("wildcard%d", unnamed))}
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

func hasLiteral(segs []httprule.Segment) bool {
	for _, s := range segs {
		if s.Kind == httprule.Literal {
			return true
		}
	}
	return false
}

// variableText is a variable's segments as written: shelves/*/books/*.
func variableText(segs []httprule.Segment) string {
	parts := make([]string, len(segs))
	for i, s := range segs {
		switch s.Kind {
		case httprule.Wildcard:
			parts[i] = "*"
		case httprule.DeepWildcard:
			parts[i] = "**"
		default:
			parts[i] = s.Literal
		}
	}
	return strings.Join(parts, "/")
}

// singular names the parameter after the collection before it: shelves ->
// shelf, books -> book, categories -> category; a word it cannot make
// singular gets _id (data -> data_id).
func singular(collection string) string {
	c := collection
	switch {
	case c == "":
		return ""
	case strings.HasSuffix(c, "ies") && len(c) > 3:
		return c[:len(c)-3] + "y"
	case strings.HasSuffix(c, "ves") && len(c) > 3:
		return c[:len(c)-3] + "f"
	case strings.HasSuffix(c, "sses"), strings.HasSuffix(c, "xes"), strings.HasSuffix(c, "ches"), strings.HasSuffix(c, "shes"):
		return c[:len(c)-2]
	case strings.HasSuffix(c, "s") && !strings.HasSuffix(c, "ss") && len(c) > 1:
		return c[:len(c)-1]
	}
	return c + "_id"
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
