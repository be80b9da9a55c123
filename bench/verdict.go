package main

import (
	"fmt"
	"io"
)

// verdict is one target of the issue: a measured ratio (or figure) and
// its goal, printed as it is measured and again in the final table.
type verdict struct {
	section, what string
	value         float64
	unit          string // "x" for a ratio; otherwise the figure's unit
	goal          string
	ok            bool
}

// verdicts collects the targets of a run.
type verdicts struct {
	list []verdict
}

// check prints one target line, the measured ratio against its goal, and
// records it for the final table.
func (v *verdicts) check(w io.Writer, section, what string, ratio float64, ok bool, goal string) {
	v.record(w, verdict{section: section, what: what, value: ratio, unit: "x", goal: goal, ok: ok})
}

// figure is check for a measured figure that is not a ratio (seconds,
// KB per connection).
func (v *verdicts) figure(w io.Writer, section, what string, value float64, unit string, ok bool, goal string) {
	v.record(w, verdict{section: section, what: what, value: value, unit: unit, goal: goal, ok: ok})
}

func (v *verdicts) record(w io.Writer, x verdict) {
	v.list = append(v.list, x)
	fmt.Fprintf(w, "  %-48s %s   target %-24s %s\n", x.what, x.value4(), x.goal, x.verdict())
}

// value4 renders the value in a fixed width.
func (x verdict) value4() string {
	if x.unit == "x" {
		return fmt.Sprintf("%8.3fx", x.value)
	}
	return fmt.Sprintf("%7.2f %s", x.value, x.unit)
}

func (x verdict) verdict() string {
	if x.ok {
		return "MET"
	}
	return "MISSED"
}

// print prints every target of the run, by section, and how many were met.
func (v *verdicts) print(w io.Writer) {
	if len(v.list) == 0 {
		return
	}
	fmt.Fprintln(w, "\n== targets (issue 19), this run ==")
	met := 0
	section := ""
	for _, x := range v.list {
		if x.section != section {
			section = x.section
			fmt.Fprintf(w, "%s:\n", section)
		}
		fmt.Fprintf(w, "  %-48s %s   target %-24s %s\n", x.what, x.value4(), x.goal, x.verdict())
		if x.ok {
			met++
		}
	}
	fmt.Fprintf(w, "%d of %d targets met\n", met, len(v.list))
}
