package httprule

import (
	"fmt"
	"slices"
	"strings"
)

// Parse parses a google.api.http path template such as
// "/v1/{name=shelves/*/books/*}:move".
//
// Beyond the grammar it enforces:
//   - the template starts with "/" and is at most MaxTemplateLen bytes;
//   - no empty segments ("//", a trailing "/", "{x=}");
//   - "**" only as the last segment (before the verb);
//   - no nested variables, and each field path at most once;
//   - identifiers are [A-Za-z_][A-Za-z0-9_]*;
//   - literals (and the verb) are non-empty and made only of what a raw
//     request path can carry in a segment (RFC 3986 pchar, less "*" and
//     ":"): letters, digits, "-._~", "!$&'()+,;=@", and well-formed
//     percent-escapes such as "%2F", which are kept as written, not decoded;
//   - the verb follows the first ":" that is outside braces and after the
//     last "/", and runs to the end. The verb is a LITERAL in http.proto's
//     grammar and, unlike a path segment, may itself contain ":", so
//     "/v1/{name}:custom:custom" has the verb "custom:custom" (grpc-gateway
//     serves that template too). A ":" inside a variable's braces or in any
//     earlier segment is an error.
//
// {x} is short for {x=*}. Errors are *ParseError.
func Parse(tpl string) (*Template, error) {
	p := &parser{tpl: tpl}
	if err := p.parse(); err != nil {
		return nil, err
	}
	return &p.t, nil
}

type parser struct {
	tpl   string // the whole template, for errors
	end   int    // where the segments end: the verb's ':' or len(tpl)
	pos   int    // next byte to read in tpl[:end]
	inVar bool   // inside a variable's braces
	t     Template
}

func (p *parser) errorf(off int, format string, args ...any) error {
	return &ParseError{Template: p.tpl, Offset: off, Reason: fmt.Sprintf(format, args...)}
}

func (p *parser) parse() error {
	tpl := p.tpl
	switch {
	case len(tpl) > MaxTemplateLen:
		return p.errorf(MaxTemplateLen, "longer than %d bytes", MaxTemplateLen)
	case tpl == "":
		return p.errorf(0, "empty template")
	case tpl[0] != '/':
		return p.errorf(0, `must start with "/"`)
	}
	if err := p.splitVerb(); err != nil {
		return err
	}
	p.t.Raw = tpl
	p.pos = 1
	if err := p.segments(); err != nil {
		return err
	}
	if p.pos != p.end {
		// segments stops only at the end or at a '}' it cannot use.
		return p.errorf(p.pos, `unmatched "}"`)
	}
	for i, s := range p.t.Segments {
		if s.Kind == DeepWildcard && i != len(p.t.Segments)-1 {
			return p.errorf(p.deepOffset(), `"**" must be the last segment`)
		}
	}
	return nil
}

// splitVerb checks that braces balance and are not nested, finds the verb
// and sets p.end and p.t.Verb.
func (p *parser) splitVerb() error {
	tpl := p.tpl
	// colon is the first ':' outside braces since the last '/', or -1.
	depth, open, colon := 0, 0, -1
	for i := 0; i < len(tpl); i++ {
		switch tpl[i] {
		case '{':
			if depth > 0 {
				return p.errorf(i, "nested variable: a variable's template cannot contain another variable")
			}
			depth, open = 1, i
		case '}':
			if depth == 0 {
				return p.errorf(i, `unmatched "}"`)
			}
			depth = 0
		case ':':
			if depth > 0 {
				return p.errorf(i, `":" inside a variable`)
			}
			if colon < 0 {
				colon = i
			}
		case '/':
			colon = -1
		}
	}
	if depth > 0 {
		return p.errorf(open, `unclosed "{"`)
	}
	p.end = len(tpl)
	if colon >= 0 {
		p.end = colon
		verb := tpl[colon+1:]
		if verb == "" {
			return p.errorf(colon, `empty verb after ":"`)
		}
		if err := p.checkLiteral(verb, colon+1, "verb"); err != nil {
			return err
		}
		p.t.Verb = verb
	}
	return nil
}

// segments parses Segments up to p.end or, inside a variable, up to its '}'.
func (p *parser) segments() error {
	for {
		if err := p.segment(); err != nil {
			return err
		}
		if p.pos == p.end {
			return nil
		}
		switch c := p.tpl[p.pos]; c {
		case '/':
			p.pos++
		case '}':
			return nil // the caller decides whether it closes a variable
		default:
			return p.errorf(p.pos, "unexpected %q after a segment", string([]byte{c}))
		}
	}
}

func (p *parser) segment() error {
	if p.pos == p.end || p.tpl[p.pos] == '/' || p.tpl[p.pos] == '}' {
		return p.errorf(p.pos, "empty segment")
	}
	switch p.tpl[p.pos] {
	case '{':
		return p.variable()
	case '*':
		kind := Wildcard
		start := p.pos
		p.pos++
		if p.pos < p.end && p.tpl[p.pos] == '*' {
			kind = DeepWildcard
			p.pos++
		}
		if p.pos < p.end && p.tpl[p.pos] != '/' && p.tpl[p.pos] != '}' {
			return p.errorf(start, `"*" and "**" must be a whole segment`)
		}
		p.t.Segments = append(p.t.Segments, Segment{Kind: kind})
		return nil
	}
	start := p.pos
	for p.pos < p.end && p.tpl[p.pos] != '/' && p.tpl[p.pos] != '{' && p.tpl[p.pos] != '}' {
		p.pos++
	}
	if p.pos < p.end && p.tpl[p.pos] == '{' {
		return p.errorf(p.pos, `a variable must be a whole segment`)
	}
	lit := p.tpl[start:p.pos]
	if err := p.checkLiteral(lit, start, "literal"); err != nil {
		return err
	}
	p.t.Segments = append(p.t.Segments, Segment{Kind: Literal, Literal: lit})
	return nil
}

func (p *parser) variable() error {
	if p.inVar {
		// splitVerb already rejects nesting; kept for safety.
		return p.errorf(p.pos, "nested variable")
	}
	open := p.pos
	p.pos++
	path, err := p.fieldPath()
	if err != nil {
		return err
	}
	for _, v := range p.t.Vars {
		if slices.Equal(v.FieldPath, path) {
			return p.errorf(open+1, "field path %q bound more than once", strings.Join(path, "."))
		}
	}
	start := len(p.t.Segments)
	switch {
	case p.pos < p.end && p.tpl[p.pos] == '}':
		p.t.Segments = append(p.t.Segments, Segment{Kind: Wildcard})
	case p.pos < p.end && p.tpl[p.pos] == '=':
		p.pos++
		p.inVar = true
		err := p.segments()
		p.inVar = false
		if err != nil {
			return err
		}
		if p.pos == p.end || p.tpl[p.pos] != '}' {
			return p.errorf(open, `unclosed "{"`)
		}
	case p.pos == p.end:
		return p.errorf(open, `unclosed "{"`)
	default:
		return p.errorf(p.pos, `unexpected %q in variable, want "=" or "}"`, p.tpl[p.pos:p.pos+1])
	}
	p.pos++ // the '}'
	if p.pos < p.end && p.tpl[p.pos] != '/' {
		return p.errorf(p.pos, "a variable must be a whole segment")
	}
	p.t.Vars = append(p.t.Vars, Variable{FieldPath: path, Start: start, End: len(p.t.Segments)})
	return nil
}

// fieldPath parses IDENT { "." IDENT }.
func (p *parser) fieldPath() ([]string, error) {
	var path []string
	for {
		start := p.pos
		for p.pos < p.end && isIdentByte(p.tpl[p.pos], p.pos == start) {
			p.pos++
		}
		if p.pos == start {
			if p.pos < p.end && isIdentByte(p.tpl[p.pos], false) {
				return nil, p.errorf(p.pos, "field name must not start with a digit")
			}
			return nil, p.errorf(p.pos, "missing field name")
		}
		path = append(path, p.tpl[start:p.pos])
		if p.pos == p.end || p.tpl[p.pos] != '.' {
			return path, nil
		}
		p.pos++
	}
}

// checkLiteral checks a literal segment or verb that starts at offset off.
func (p *parser) checkLiteral(lit string, off int, what string) error {
	if lit == "" {
		return p.errorf(off, "empty %s", what)
	}
	for i := 0; i < len(lit); i++ {
		c := lit[i]
		switch {
		case c == '%':
			if i+2 >= len(lit) || !isHex(lit[i+1]) || !isHex(lit[i+2]) {
				return p.errorf(off+i, `malformed percent-escape in %s, want "%%" and two hex digits`, what)
			}
			i += 2
		case c == ':' && what == "verb":
			// A verb is a LITERAL that may contain ':' (see Parse).
		case c == '*' || c == ':' || c == '/' || c == '{' || c == '}':
			return p.errorf(off+i, "%q not allowed in a %s", string([]byte{c}), what)
		case !isPathByte(c):
			return p.errorf(off+i, "%q not allowed in a %s; percent-encode it", string([]byte{c}), what)
		}
	}
	return nil
}

// isPathByte reports whether c may appear unescaped in a path segment
// (RFC 3986 pchar, without '%', which is handled separately).
func isPathByte(c byte) bool {
	switch {
	case 'a' <= c && c <= 'z', 'A' <= c && c <= 'Z', '0' <= c && c <= '9':
		return true
	}
	return strings.IndexByte("-._~!$&'()*+,;=:@", c) >= 0
}

func isHex(c byte) bool {
	return '0' <= c && c <= '9' || 'a' <= c && c <= 'f' || 'A' <= c && c <= 'F'
}

func isIdentByte(c byte, first bool) bool {
	return c == '_' || 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || !first && '0' <= c && c <= '9'
}

// deepOffset returns the offset of the first "**" in the template, for an
// error message.
func (p *parser) deepOffset() int {
	return strings.Index(p.tpl, "**")
}
