package catalog

import (
	"fmt"
	"sort"

	"github.com/portico-gw/portico/config"
)

// problems collects the errors (and, in New, the warnings) found while
// something is built, in the shape of config errors: each names the config
// key it is about and, when it points into a file other than the config (a
// rules file, a .proto source), that file's line and column.
type problems struct {
	errs config.Errors
}

// add records a problem with the config key field.
func (p *problems) add(field, format string, args ...any) {
	p.errs = append(p.errs, &config.Error{Field: field, Message: fmt.Sprintf(format, args...)})
}

// addAt records a problem with the config key field located in file.
func (p *problems) addAt(field, file string, line, column int, format string, args ...any) {
	p.errs = append(p.errs, &config.Error{Field: field, File: file, Line: line, Column: column, Message: fmt.Sprintf(format, args...)})
}

// addErr records e as it is.
func (p *problems) addErr(e *config.Error) {
	p.errs = append(p.errs, e)
}

// list returns the problems in a stable order (by their text), or nil.
func (p *problems) list() config.Errors {
	if len(p.errs) == 0 {
		return nil
	}
	out := append(config.Errors(nil), p.errs...)
	sort.SliceStable(out, func(i, j int) bool { return out[i].Error() < out[j].Error() })
	return out
}

// err returns the problems as an error (config.Errors), or nil.
func (p *problems) err() error {
	if l := p.list(); l != nil {
		return l
	}
	return nil
}
