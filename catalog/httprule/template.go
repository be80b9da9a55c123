// Package httprule parses the path templates of google.api.http rules.
//
// The grammar is the one documented in google/api/http.proto:
//
//	Template = "/" Segments [ Verb ] ;
//	Segments = Segment { "/" Segment } ;
//	Segment  = "*" | "**" | LITERAL | Variable ;
//	Variable = "{" FieldPath [ "=" Segments ] "}" ;
//	FieldPath = IDENT { "." IDENT } ;
//	Verb     = ":" LITERAL ;
//
// Parse checks a template completely and returns a Template, or a *ParseError
// naming the template and the problem. A Template is a plain value: it can be
// printed back in canonical form (String) or with its variables erased (Shape),
// which is what two rules must differ in to be told apart by a router.
package httprule

import "strings"

// SegmentKind tells what a Segment matches.
type SegmentKind int

const (
	// Literal matches exactly one path segment equal to Segment.Literal.
	Literal SegmentKind = iota
	// Wildcard ("*") matches exactly one path segment.
	Wildcard
	// DeepWildcard ("**") matches the remaining path segments. It can only be
	// the last segment of a template (before the verb).
	DeepWildcard
)

// String returns "literal", "*" or "**".
func (k SegmentKind) String() string {
	switch k {
	case Literal:
		return "literal"
	case Wildcard:
		return "*"
	case DeepWildcard:
		return "**"
	}
	return "SegmentKind(?)"
}

// Segment is one "/"-separated element of a template's path.
type Segment struct {
	// Kind is what the segment matches.
	Kind SegmentKind
	// Literal is the text of a Literal segment, exactly as written in the
	// template (percent-escapes are kept, not decoded). It is "" for
	// Wildcard and DeepWildcard.
	Literal string
}

// Variable binds a run of segments to a request field.
type Variable struct {
	// FieldPath is the dotted field path split on ".", e.g. ["book","name"]
	// for {book.name=shelves/*/books/*}.
	FieldPath []string
	// Start and End are the indexes [Start, End) in Template.Segments of the
	// segments the variable covers. {x} alone covers a single Wildcard
	// segment. Variables never overlap and are ordered by Start.
	Start, End int
}

// Template is a parsed path template.
type Template struct {
	// Raw is the template exactly as given to Parse. String gives the
	// canonical form.
	Raw string
	// Segments are the template's path segments, variables expanded: the
	// segments of {name=shelves/*} appear here in place of the variable.
	// There is always at least one.
	Segments []Segment
	// Verb is the custom verb without its leading colon; "" when there is
	// none. It may contain ":" ("custom:custom"), a path segment never does.
	Verb string
	// Vars are the template's variables in the order they appear.
	Vars []Variable
}

// String returns the canonical form of the template, for example
// "/v1/{name=shelves/*/books/*}:move". A variable covering a single "*" is
// printed in its short form "{x}". Parse(t.String()) gives back a Template
// equal to t in everything but Raw. Variables of a hand-built Template whose
// Start and End are out of order or out of range are left out.
func (t *Template) String() string {
	var b strings.Builder
	b.Grow(len(t.Raw) + 8)
	vi := 0
	for i := 0; i < len(t.Segments); i++ {
		b.WriteByte('/')
		// Skip variables a hand-built Template got wrong (overlapping or
		// out of range) rather than panic; Parse never makes them.
		for vi < len(t.Vars) && (t.Vars[vi].Start < i || t.Vars[vi].Start == i &&
			(t.Vars[vi].End <= i || t.Vars[vi].End > len(t.Segments))) {
			vi++
		}
		if vi < len(t.Vars) && t.Vars[vi].Start == i {
			v := t.Vars[vi]
			vi++
			b.WriteByte('{')
			b.WriteString(strings.Join(v.FieldPath, "."))
			if !(v.End-v.Start == 1 && t.Segments[v.Start].Kind == Wildcard) {
				b.WriteByte('=')
				writeSegments(&b, t.Segments[v.Start:v.End], false)
			}
			b.WriteByte('}')
			i = v.End - 1
			continue
		}
		writeSegment(&b, t.Segments[i])
	}
	if t.Verb != "" {
		b.WriteByte(':')
		b.WriteString(t.Verb)
	}
	return b.String()
}

// Shape returns the template with its variables erased: each variable is
// replaced by the segments it covers, so "/v1/{name=shelves/*}/books/{book}:move"
// has the shape "/v1/shelves/*/books/*:move". Two templates with the same
// shape match exactly the same paths; a router uses it to detect conflicts.
func (t *Template) Shape() string {
	var b strings.Builder
	b.Grow(len(t.Raw))
	writeSegments(&b, t.Segments, true)
	if t.Verb != "" {
		b.WriteByte(':')
		b.WriteString(t.Verb)
	}
	return b.String()
}

// writeSegments writes segs separated by "/", with a leading "/" when
// leadingSlash is set (a whole path) and without one inside a variable.
func writeSegments(b *strings.Builder, segs []Segment, leadingSlash bool) {
	for i, s := range segs {
		if i > 0 || leadingSlash {
			b.WriteByte('/')
		}
		writeSegment(b, s)
	}
}

func writeSegment(b *strings.Builder, s Segment) {
	switch s.Kind {
	case Wildcard:
		b.WriteByte('*')
	case DeepWildcard:
		b.WriteString("**")
	default:
		b.WriteString(s.Literal)
	}
}
