package jsonenc

import (
	"math/rand/v2"
	"testing"
	"time"
)

// TestAppendDateTime checks the civil-date arithmetic against package time
// across the whole Timestamp range, including its ends and leap days.
func TestAppendDateTime(t *testing.T) {
	check := func(secs int64) {
		want := time.Unix(secs, 0).UTC().Format("2006-01-02T15:04:05")
		if got := string(appendDateTime(nil, secs)); got != want {
			t.Fatalf("appendDateTime(%d) = %s, want %s", secs, got, want)
		}
	}
	for _, s := range []int64{minTimestampSeconds, maxTimestampSeconds, 0, -1, 1, 951782400, 951868799, 4107542400, -2203891200} {
		check(s)
	}
	r := rand.New(rand.NewPCG(1, 2))
	for i := 0; i < 200000; i++ {
		check(r.Int64N(maxTimestampSeconds-minTimestampSeconds+1) + minTimestampSeconds)
	}
}
