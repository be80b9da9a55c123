package ratelimit

import "time"

// GCRA keeps, per key, the theoretical arrival time (TAT) of the next call
// at the configured rate. With interval T (one token) and tolerance τ
// (Burst×T), a call arriving at now is admitted when max(TAT, now) + T −
// now ≤ τ, and then TAT becomes max(TAT, now) + T. A key whose TAT is in
// the past holds a full bucket, the same as a key never seen, so stores
// may forget it. The stores keep times in their own unit (nanoseconds in
// process, microseconds in Redis); these functions work in any unit.
//
// Written here rather than taken from a library because the same
// arithmetic must run inside Redis's Lua (script.lua) and in process, and
// one call checks several buckets and quotas at once, all-or-nothing:
// the Go libraries for GCRA check one key at a time.

// gcra returns the TAT after a call at now and whether it is admitted
// (when it is not, the stored TAT must not change).
func gcra(now, tat, interval, tolerance int64) (next int64, ok bool) {
	if tat < now {
		tat = now
	}
	next = tat + interval
	return next, next-now <= tolerance
}

// bucketState describes a bucket to the client: tat is the stored TAT
// after the decision (unchanged when the call was refused or not charged).
func bucketState(now, tat, interval, tolerance int64, admitted bool, unit time.Duration) State {
	if tat < now {
		tat = now
	}
	st := State{Allowed: admitted}
	ahead := tat - now
	st.Remaining = (tolerance - ahead) / interval
	if st.Remaining < 0 {
		st.Remaining = 0
	}
	st.Reset = time.Duration(ahead) * unit
	if !admitted {
		// The next call is admitted once TAT+T−τ has passed.
		if wait := tat + interval - tolerance - now; wait > 0 {
			st.RetryAfter = time.Duration(wait) * unit
		}
	}
	return st
}
