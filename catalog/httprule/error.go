package httprule

import "fmt"

// MaxTemplateLen is the length in bytes of the longest template Parse accepts.
const MaxTemplateLen = 4096

// errTemplateShown is how much of a template a ParseError's message quotes.
const errTemplateShown = 128

// ParseError reports why Parse rejected a template.
type ParseError struct {
	// Template is the template as given to Parse.
	Template string
	// Offset is the byte offset in Template where the problem was found.
	Offset int
	// Reason says what is wrong, e.g. `"**" must be the last segment`.
	Reason string
}

// Error returns a message naming the template (shortened when very long),
// the problem and its byte offset.
func (e *ParseError) Error() string {
	tpl := e.Template
	if len(tpl) > errTemplateShown {
		tpl = tpl[:errTemplateShown] + "..."
	}
	return fmt.Sprintf("httprule: template %q: %s (at offset %d)", tpl, e.Reason, e.Offset)
}
