package ratelimit

import (
	"strings"
	"testing"
	"time"
)

func TestParseRate(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want Rate
		err  string
	}{
		{in: "100/s", want: Rate{100, time.Second}},
		{in: "5/m", want: Rate{5, time.Minute}},
		{in: "1000/h", want: Rate{1000, time.Hour}},
		{in: "0/s", err: "above 0"},
		{in: "x/s", err: "above 0"},
		{in: "10/d", err: "unit"},
		{in: "10", err: "want N/s"},
		{in: "2000000/s", err: "microsecond"},
	} {
		got, err := ParseRate(tc.in)
		if tc.err != "" {
			if err == nil || !strings.Contains(err.Error(), tc.err) {
				t.Errorf("ParseRate(%q): got error %v, want one containing %q", tc.in, err, tc.err)
			}
			continue
		}
		if err != nil || got != tc.want {
			t.Errorf("ParseRate(%q): got %v, %v; want %v", tc.in, got, err, tc.want)
		}
		if got.String() != tc.in {
			t.Errorf("Rate(%q).String(): got %q", tc.in, got.String())
		}
	}
}

func TestNewBucket(t *testing.T) {
	b, err := NewBucket(Rate{100, time.Second}, 0)
	if err != nil {
		t.Fatal(err)
	}
	if b.Burst != 100 {
		t.Errorf("burst 0: got burst %d, want the rate's N (100)", b.Burst)
	}
	if got := b.Interval(); got != 10*time.Millisecond {
		t.Errorf("Interval: got %v, want 10ms", got)
	}
	if got := b.Tolerance(); got != time.Second {
		t.Errorf("Tolerance: got %v, want 1s", got)
	}
	if _, err := NewBucket(Rate{1, time.Hour}, 1<<40); err == nil {
		t.Error("a burst whose tolerance overflows: got no error")
	}
}

func TestPeriodWindow(t *testing.T) {
	at := func(s string) time.Time {
		v, err := time.Parse(time.RFC3339, s)
		if err != nil {
			t.Fatal(err)
		}
		return v
	}
	for _, tc := range []struct {
		p          Period
		t          string
		start, end string
	}{
		{Day, "2026-03-15T23:59:59Z", "2026-03-15T00:00:00Z", "2026-03-16T00:00:00Z"},
		// A time in another zone is read in UTC.
		{Day, "2026-03-15T23:30:00-02:00", "2026-03-16T00:00:00Z", "2026-03-17T00:00:00Z"},
		// ISO weeks start on Monday; a Sunday belongs to the week before.
		{Week, "2026-03-15T12:00:00Z", "2026-03-09T00:00:00Z", "2026-03-16T00:00:00Z"},
		{Week, "2026-03-16T00:00:00Z", "2026-03-16T00:00:00Z", "2026-03-23T00:00:00Z"},
		{Week, "2026-01-01T08:00:00Z", "2025-12-29T00:00:00Z", "2026-01-05T00:00:00Z"},
		{Month, "2026-12-31T23:59:59Z", "2026-12-01T00:00:00Z", "2027-01-01T00:00:00Z"},
		{Month, "2028-02-29T10:00:00Z", "2028-02-01T00:00:00Z", "2028-03-01T00:00:00Z"},
	} {
		s, e := tc.p.Window(at(tc.t))
		if !s.Equal(at(tc.start)) || !e.Equal(at(tc.end)) {
			t.Errorf("%v.Window(%s): got [%s, %s), want [%s, %s)", tc.p, tc.t, s.Format(time.RFC3339), e.Format(time.RFC3339), tc.start, tc.end)
		}
	}
	if _, err := ParsePeriod("year"); err == nil {
		t.Error(`ParsePeriod("year"): got no error`)
	}
}

func TestGCRA(t *testing.T) {
	// 10 per second (interval 100), burst 3 (tolerance 300), in ms.
	const iv, tol = 100, 300
	tat := int64(0)
	now := int64(1000)
	for i := 0; i < 3; i++ {
		next, ok := gcra(now, tat, iv, tol)
		if !ok {
			t.Fatalf("call %d of the burst refused", i+1)
		}
		tat = next
		st := bucketState(now, tat, iv, tol, true, time.Millisecond)
		if want := int64(2 - i); st.Remaining != want {
			t.Errorf("after call %d: got remaining %d, want %d", i+1, st.Remaining, want)
		}
	}
	if _, ok := gcra(now, tat, iv, tol); ok {
		t.Fatal("call past the burst admitted")
	}
	st := bucketState(now, tat, iv, tol, false, time.Millisecond)
	if st.RetryAfter != 100*time.Millisecond || st.Remaining != 0 || st.Reset != 300*time.Millisecond {
		t.Errorf("refused: got %+v, want retry after 100ms, 0 remaining, reset 300ms", st)
	}
	// One interval later, one token is back.
	now += 100
	next, ok := gcra(now, tat, iv, tol)
	if !ok {
		t.Fatal("call after one interval refused")
	}
	if _, ok := gcra(now, next, iv, tol); ok {
		t.Fatal("second call after one interval admitted")
	}
	// Long idle: the bucket is full again, not fuller.
	now += 10_000
	st = bucketState(now, next, iv, tol, true, time.Millisecond)
	if st.Remaining != 3 {
		t.Errorf("after a long idle: got remaining %d, want 3 (the burst)", st.Remaining)
	}
}
