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
// unknown.
func (e *Error) Error() string {
	var b strings.Builder
	if e.File != "" {
		b.WriteString(e.File)
		if e.Line > 0 {
			fmt.Fprintf(&b, ":%d", e.Line)
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
	b.WriteString(e.Message)
	return b.String()
}

// Errors is every problem found in a config file, not just the first, in a
// stable order. Problems of shape (unknown keys, wrong types; keys of a
// mapping in alphabetical order) stop the reading, since the file cannot be
// decoded; otherwise the problems found by the schema's rules come first, in
// field order, then those found by the checks across fields.
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
