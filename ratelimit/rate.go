// Package ratelimit enforces rate limits and usage-plan quotas.
//
// A rate limit is a token bucket checked with GCRA (the generic cell rate
// algorithm): each key keeps one number, the theoretical arrival time of
// its next call, so a check is a read, a comparison and a write — in
// process (Local) or in one Lua script on Redis (Redis), where several
// gateways share it. A quota is a count of calls per calendar period
// (UTC day, ISO week, month), kept durably: in Redis, or in a bbolt file
// under the local store's state folder.
//
// One call checks all its limits at once (Store.Take): either every
// bucket and quota admits it and all are charged, or none is charged.
package ratelimit

import (
	"fmt"
	"strconv"
	"strings"
	"time"
)

// Rate is N calls per Per.
type Rate struct {
	N   int64
	Per time.Duration
}

// ParseRate reads "N/s", "N/m" or "N/h".
func ParseRate(s string) (Rate, error) {
	num, unit, ok := strings.Cut(s, "/")
	if !ok {
		return Rate{}, fmt.Errorf("rate %q: want N/s, N/m or N/h", s)
	}
	n, err := strconv.ParseInt(num, 10, 64)
	if err != nil || n <= 0 {
		return Rate{}, fmt.Errorf("rate %q: want a count above 0 before the /", s)
	}
	var per time.Duration
	switch unit {
	case "s":
		per = time.Second
	case "m":
		per = time.Minute
	case "h":
		per = time.Hour
	default:
		return Rate{}, fmt.Errorf("rate %q: the unit is s, m or h", s)
	}
	if n > int64(per/time.Microsecond) {
		return Rate{}, fmt.Errorf("rate %q: more than one call per microsecond is not a limit", s)
	}
	return Rate{N: n, Per: per}, nil
}

// String gives the rate as written in the config.
func (r Rate) String() string {
	u := "s"
	switch r.Per {
	case time.Minute:
		u = "m"
	case time.Hour:
		u = "h"
	}
	return strconv.FormatInt(r.N, 10) + "/" + u
}

// Bucket is a token bucket: Rate tokens flow in, at most Burst are held;
// a full bucket admits Burst calls at once, then Rate.
type Bucket struct {
	Rate  Rate
	Burst int64
}

// NewBucket checks and returns a bucket; burst 0 means the rate's N.
func NewBucket(r Rate, burst int64) (Bucket, error) {
	if burst == 0 {
		burst = r.N
	}
	if burst < 0 {
		return Bucket{}, fmt.Errorf("burst %d: want 0 or more", burst)
	}
	b := Bucket{Rate: r, Burst: burst}
	// The tolerance must fit the stores' arithmetic (int64 nanoseconds in
	// process, float64 microseconds in Redis's Lua).
	if b.Interval() > 0 && b.Burst > int64(time.Duration(1<<50)/b.Interval()) {
		return Bucket{}, fmt.Errorf("burst %d is too large for rate %s", burst, r)
	}
	return b, nil
}

// Interval is the emission interval: the time one token takes to flow in.
func (b Bucket) Interval() time.Duration { return b.Rate.Per / time.Duration(b.Rate.N) }

// Tolerance is how far ahead of now the bucket's arrival time may run: a
// call is admitted when, after it, the arrival time is at most this far in
// the future.
func (b Bucket) Tolerance() time.Duration { return b.Interval() * time.Duration(b.Burst) }
