package gatewayresponses

import (
	"encoding/json"
	"fmt"
	"strings"
)

// The placeholders a template may hold.
const (
	phRequestID = "request_id"
	phStatus    = "status"
	phCode      = "code"
	phMessage   = "message"
)

// values are what a refusal's placeholders are replaced with.
type values struct {
	requestID, status, code, message string
}

func (v values) get(name string) string {
	switch name {
	case phRequestID:
		return v.requestID
	case phStatus:
		return v.status
	case phCode:
		return v.code
	default:
		return v.message
	}
}

// template is a body or message with ${name} placeholders, split once at
// build. It is parsed here rather than with text/template or os.Expand:
// text/template's {{ }} would make the operator's JSON template a Go
// template, and os.Expand also reads $name without braces (JSON bodies
// may hold a literal "$ref"); only ${known} is a placeholder, and an
// unknown one is a config error, not an empty string.
type template struct {
	parts []part
}

// part is literal text, or a placeholder when name is set.
type part struct {
	text, name string
}

// parseTemplate splits s at its placeholders.
func parseTemplate(s string) (template, error) {
	var t template
	for {
		i := strings.Index(s, "${")
		if i < 0 {
			break
		}
		end := strings.IndexByte(s[i:], '}')
		if end < 0 {
			return template{}, fmt.Errorf("%q is not closed (a placeholder is ${name})", s[i:])
		}
		name := s[i+2 : i+end]
		switch name {
		case phRequestID, phStatus, phCode, phMessage:
		default:
			return template{}, fmt.Errorf("unknown placeholder ${%s} (known: ${request_id}, ${status}, ${code}, ${message})", name)
		}
		if i > 0 {
			t.parts = append(t.parts, part{text: s[:i]})
		}
		t.parts = append(t.parts, part{name: name})
		s = s[i+end+1:]
	}
	if s != "" {
		t.parts = append(t.parts, part{text: s})
	}
	return t, nil
}

// render replaces the placeholders with v's values, JSON-escaped when
// jsonEscape is set (the values then go inside JSON strings).
func (t template) render(v values, jsonEscape bool) []byte {
	var b []byte
	for _, p := range t.parts {
		if p.name == "" {
			b = append(b, p.text...)
			continue
		}
		val := v.get(p.name)
		if jsonEscape {
			b = appendJSONEscaped(b, val)
		} else {
			b = append(b, val...)
		}
	}
	return b
}

// appendJSONEscaped appends s as the inside of a JSON string: quotes,
// backslashes and control characters escaped (encoding/json's escaping,
// which also escapes <, > and & so a body is safe in HTML).
func appendJSONEscaped(b []byte, s string) []byte {
	q, _ := json.Marshal(s) // a string always marshals
	return append(b, q[1:len(q)-1]...)
}

// sample are values that break a template which puts a placeholder
// outside a JSON string: checked at build.
var sample = values{requestID: "sample-id", status: "429", code: "RESOURCE_EXHAUSTED", message: `a "quoted" \ message`}
