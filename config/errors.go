package config

import (
	"fmt"
	"strings"
)

// Error is one problem in a config file, located by a field path in the
// file's own terms, such as "apis[0].integration" or
// "integrations[1].grpc.timeout".
type Error struct {
	// Field is the path of the offending key; empty when the problem is
	// about the file as a whole (it is empty, or it is not valid YAML).
	Field string
	// Message says what is wrong.
	Message string
	// File, Line and Column locate the problem when known (Line and
	// Column count from 1; 0 means unknown). File may name the config
	// file or a file it references (a rules file, a .proto source).
	File         string
	Line, Column int
}

// Error returns "file:line:column: field: message", leaving out what is
// unknown ("line:column: field: message" when only the position is known).
// A URL the message quotes has its user info hidden (RedactURLs).
func (e *Error) Error() string {
	var b strings.Builder
	if e.File != "" || e.Line > 0 {
		b.WriteString(e.File)
		if e.Line > 0 {
			if e.File != "" {
				b.WriteByte(':')
			}
			fmt.Fprintf(&b, "%d", e.Line)
			if e.Column > 0 {
				fmt.Fprintf(&b, ":%d", e.Column)
			}
		}
		b.WriteString(": ")
	}
	if e.Field != "" {
		b.WriteString(e.Field)
		b.WriteString(": ")
	}
	b.WriteString(RedactURLs(e.Message))
	return b.String()
}

// Errors is every problem found in a config file, not just the first,
// ordered by position (see [File.Join]): problems of every kind — YAML
// syntax, keys and types, the schema's rules, references between fields —
// are reported together, except that a problem caused by another one (a
// missing value after a value of the wrong type, say) is left out.
type Errors []*Error

// Error joins the problems, one per line.
func (es Errors) Error() string {
	var b strings.Builder
	for i, e := range es {
		if i > 0 {
			b.WriteByte('\n')
		}
		b.WriteString(e.Error())
	}
	return b.String()
}

// Unwrap returns the problems as a slice of errors, so that [errors.As] can
// find an individual *Error.
func (es Errors) Unwrap() []error {
	out := make([]error, len(es))
	for i, e := range es {
		out[i] = e
	}
	return out
}

// errorList collects problems while a file is read.
type errorList struct {
	errs Errors
}

// add records a problem at field.
func (l *errorList) add(field, message string) {
	l.errs = append(l.errs, &Error{Field: field, Message: message})
}

// err returns the collected problems as an error, or nil if there are none.
func (l *errorList) err() error {
	if len(l.errs) == 0 {
		return nil
	}
	return l.errs
}
