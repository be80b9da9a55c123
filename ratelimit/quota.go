package ratelimit

import "time"

// Period is a calendar period in UTC.
type Period uint8

const (
	// Day runs from 00:00 UTC to the next 00:00 UTC.
	Day Period = iota + 1
	// Week is an ISO week: Monday 00:00 UTC to the next Monday.
	Week
	// Month runs from the first of the month, 00:00 UTC.
	Month
)

// periodNames are the periods' names in the config.
var periodNames = names{Day: "day", Week: "week", Month: "month"}

// ParsePeriod reads "day", "week" or "month".
func ParsePeriod(s string) (Period, error) {
	p, err := periodNames.parse("period", s)
	return Period(p), err
}

func (p Period) String() string { return periodNames.of(int(p), "unknown") }

// Window returns the period holding t: its start and its end (exclusive).
func (p Period) Window(t time.Time) (start, end time.Time) {
	t = t.UTC()
	y, m, d := t.Date()
	switch p {
	case Day:
		start = time.Date(y, m, d, 0, 0, 0, 0, time.UTC)
		return start, start.AddDate(0, 0, 1)
	case Week:
		// time.Weekday counts from Sunday; ISO weeks start on Monday.
		back := (int(t.Weekday()) + 6) % 7
		start = time.Date(y, m, d-back, 0, 0, 0, 0, time.UTC)
		return start, start.AddDate(0, 0, 7)
	default:
		start = time.Date(y, m, 1, 0, 0, 0, 0, time.UTC)
		return start, start.AddDate(0, 1, 0)
	}
}

// Quota is at most Limit calls per calendar Period.
type Quota struct {
	Limit  int64
	Period Period
}
