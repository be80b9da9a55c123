package guard

import (
	"math"
	"time"
)

// gradient is an adaptive concurrency limit in the manner of Netflix's
// gradient limiter: it compares the latency of recent calls (short) with
// the latency the backend has when it is not loaded (long, a slow moving
// average) and shrinks the limit as the first grows past the second,
// growing it by a small queue allowance (the square root of the limit)
// while they agree.
//
// Written here: the Go ports of the concurrency-limits library are not
// kept up; the rule itself is a few lines, updated under the limiter's
// lock once per window of samples.
type gradient struct {
	max, min    float64
	limit       float64
	long        float64 // ns: follows low window averages quickly, high ones slowly
	sum         float64 // ns, this window's samples
	n           int
	maxInflight int // the most calls in flight seen in this window
}

const (
	// windowSamples is how many calls a limit update looks at.
	windowSamples = 20
	// longWindow is the number of windows the long average spans.
	longWindow = 200
	// tolerance is how much slower than unloaded calls may get before
	// the limit shrinks.
	tolerance = 1.5
	// smoothing is how far the limit moves toward its new value at each
	// update.
	smoothing = 0.2
)

func newGradient(max int) *gradient {
	return &gradient{max: float64(max), min: math.Max(1, float64(max)/50), limit: float64(max)}
}

// sample adds one call's latency, seen with inflight calls in flight,
// and returns the limit.
func (g *gradient) sample(rtt time.Duration, inflight int) int {
	g.sum += float64(rtt)
	g.n++
	g.maxInflight = max(g.maxInflight, inflight)
	if g.n < windowSamples {
		return int(g.limit)
	}
	short := g.sum / float64(g.n)
	busy := float64(g.maxInflight) >= g.limit/2
	g.sum, g.n, g.maxInflight = 0, 0, 0
	switch {
	case g.long == 0:
		g.long = short
	case short < g.long:
		// The backend's unloaded latency is the least it shows: follow it
		// down quickly, up slowly.
		g.long += (short - g.long) / 2
	default:
		g.long += (short - g.long) / longWindow
	}
	if !busy {
		// Few calls in flight say nothing of what more would cost.
		return int(g.limit)
	}
	grad := math.Max(0.5, math.Min(1, tolerance*g.long/short))
	next := g.limit*grad + math.Sqrt(g.limit)
	g.limit = math.Min(g.max, math.Max(g.min, g.limit*(1-smoothing)+next*smoothing))
	return int(g.limit)
}
