// Package router is the REST door's route table: a trie over
// google.api.http path templates (catalog/httprule) whose lookup cost depends
// on the request path, not on the number of routes.
//
// # Matching
//
// The request path is taken raw (still percent-encoded, as from
// url.URL.EscapedPath) and split on "/" without decoding, so "%2F" stays
// inside its segment and variables are returned raw. A path with an empty
// segment ("//", a trailing "/", or "/" itself) matches nothing.
//
// Literal segments match byte for byte ("%2f" and "%2F" differ). "*" matches
// one segment. "**" matches the remaining segments: zero or more of them,
// except when "**" is the first segment of the template, where it matches
// one or more. (Every path that can match has at least one segment, so the
// exception shows only in that "/" matches no template, "/**" included.)
//
// Verbs: when the path's last segment contains ":", the text after a ":" is
// tried as a verb first, for each ":" of the last segment from the first to
// the last (the longest verb first, since a verb may itself contain ":", as in
// "/v1/{uuid}:custom:custom"): a route with that verb matches if the part
// before the ":" is non-empty and matches the rest of the route. If no route
// with a verb matches, the whole last segment, ":" included, is matched
// against routes without a verb, so "/v1/files/{path=**}" matches
// "/v1/files/a:b" with path "a:b". Only the splits that can give a registered
// verb are tried (a verb with n colons can only start after one of the last
// n+1 colons), so a path full of ":" costs no more than one with a few.
//
// When several routes match, the one chosen is decided segment by segment
// from the left: a literal beats "*", which beats "**", and a route that ends
// at the path's end beats one whose "**" matches zero segments there. The
// search backtracks: a literal branch that dead-ends falls back to "*", then
// "**".
//
// # Use
//
// Build a Router with Add, then call Lookup from any number of goroutines.
// Add must not run concurrently with Lookup or another Add; the intended use
// is an immutable router built into a snapshot and replaced whole.
package router

import (
	"errors"
	"fmt"
	"slices"
	"strings"

	"github.com/portico-gw/portico/catalog/httprule"
)

// Router maps an HTTP method and a request path to a value of type T. The
// zero value is an empty Router, as is New's result.
type Router[T any] struct {
	methods []*methodTrie // sorted by method
	values  []T           // by route.id
}

// methodTrie is the trie of one HTTP method's routes.
type methodTrie struct {
	method string
	root   node
	// hasVerbs is set when a route has a verb; verbColons is the most ":"
	// any of those verbs contains.
	hasVerbs   bool
	verbColons int
}

// Match is the result of a successful Lookup.
type Match[T any] struct {
	// Value is the value given to Add with Template.
	Value T
	// Template is the template of the route that matched, as given to Add.
	Template *httprule.Template
	// Vars holds, for each Template.Vars[i], the raw (still percent-encoded)
	// text of the path segments it covers, joined by "/". A variable whose
	// "**" matched zero segments gets the text of its other segments, or ""
	// when it has none. Vars is nil when the template has no variables.
	Vars []string
}

// AnyMethod is the method of a route that takes every HTTP method (an
// HttpRule's custom kind "*"). A route of the request's own method is
// preferred to it.
const AnyMethod = "*"

// New returns an empty router.
func New[T any]() *Router[T] {
	return &Router[T]{}
}

// Add registers value v for the HTTP method (matched exactly, e.g. "GET",
// or AnyMethod) and template tpl. It returns an error when the method
// already has a template of the same Shape, which would match the same
// paths; the error names both templates. tpl must not be modified after
// Add.
func (r *Router[T]) Add(method string, tpl *httprule.Template, v T) error {
	if err := checkMethod(method); err != nil {
		return err
	}
	rt, err := newRoute(tpl, len(r.values))
	if err != nil {
		return err
	}
	mt := r.trie(method)
	if mt == nil {
		mt = &methodTrie{method: method}
		i, _ := slices.BinarySearchFunc(r.methods, method, func(m *methodTrie, s string) int {
			return strings.Compare(m.method, s)
		})
		r.methods = slices.Insert(r.methods, i, mt)
	}
	if old := mt.root.insert(rt); old != nil {
		return fmt.Errorf("router: %s %q conflicts with %s %q: both match the paths %q",
			method, templateName(tpl), method, templateName(old.tpl), tpl.Shape())
	}
	if tpl.Verb != "" {
		mt.hasVerbs = true
		mt.verbColons = max(mt.verbColons, strings.Count(tpl.Verb, ":"))
	}
	r.values = append(r.values, v)
	return nil
}

// Lookup finds the route for method and path, the raw request path starting
// with "/" (for example r.URL.EscapedPath()). When found is false, allowed
// lists, sorted, the methods under which the path would match (for the Allow
// header of a 405); when allowed is empty as well, nothing matches (404).
func (r *Router[T]) Lookup(method, path string) (m Match[T], allowed []string, found bool) {
	lastSlash, lastColon, ok := scanPath(path)
	if !ok {
		return m, nil, false
	}
	colons := lastColon > lastSlash // the last segment has a ":"
	// The method's own routes first, then those for every method.
	for _, m := range [...]string{method, AnyMethod} {
		if mt := r.trie(m); mt != nil {
			if rt, p := mt.find(path, lastSlash, colons); rt != nil {
				return Match[T]{Value: r.values[rt.id], Template: rt.tpl, Vars: rt.extract(p)}, nil, true
			}
		}
	}
	for _, mt := range r.methods {
		if mt.method == method || mt.method == AnyMethod {
			continue
		}
		if rt, _ := mt.find(path, lastSlash, colons); rt != nil {
			allowed = append(allowed, mt.method)
		}
	}
	return m, allowed, false
}

// trie returns the trie of method, or nil.
func (r *Router[T]) trie(method string) *methodTrie {
	for _, mt := range r.methods {
		if mt.method == method {
			return mt
		}
	}
	return nil
}

// find matches path, a path checked by scanPath whose last "/" is at
// lastSlash, as the package doc describes: when colons (the last segment has
// a ":") and the trie has routes with verbs, first split into body and verb
// at each ":" that can start a registered verb, then whole. It returns the
// route and the part of path that the route's segments matched (the body
// when a verb matched).
func (mt *methodTrie) find(path string, lastSlash int, colons bool) (*route, string) {
	if colons && mt.hasVerbs {
		for c := firstVerbColon(path, lastSlash, mt.verbColons); c >= 0; c = nextColon(path, c+1) {
			if c == lastSlash+1 || c == len(path)-1 {
				continue // nothing before or after the ":"
			}
			if rt := mt.root.match(path[:c], path[c+1:]); rt != nil {
				return rt, path[:c]
			}
		}
	}
	return mt.root.match(path, ""), path
}

// checkMethod accepts an HTTP method token (RFC 9110).
func checkMethod(method string) error {
	if method == "" {
		return errors.New("router: empty HTTP method")
	}
	for i := 0; i < len(method); i++ {
		c := method[i]
		if c <= ' ' || c >= 0x7f || strings.IndexByte(`"(),/:;<=>?@[\]{}`, c) >= 0 {
			return fmt.Errorf("router: invalid HTTP method %q", method)
		}
	}
	return nil
}

// templateName is the template as written, or its canonical form when it was
// built by hand without Raw.
func templateName(tpl *httprule.Template) string {
	if tpl.Raw != "" {
		return tpl.Raw
	}
	return tpl.String()
}
