package main

import (
	"math/rand/v2"
	"testing"
	"time"
)

// TestHistogramQuantiles checks bucket round trips and quantiles against
// exact ones, within the histogram's 1/64 relative precision.
func TestHistogramQuantiles(t *testing.T) {
	for _, v := range []uint64{0, 1, 63, 64, 65, 127, 128, 129, 1000, 123456789, 1 << 62, 1<<63 - 1} {
		i := bucketOf(v)
		if i < 0 || i >= numBuckets {
			t.Fatalf("bucketOf(%d) = %d, out of range", v, i)
		}
		mid := uint64(bucketMid(i))
		if diff := float64(mid) - float64(v); diff > float64(v)/64+1 || -diff > float64(v)/64+1 {
			t.Errorf("bucketMid(bucketOf(%d)) = %d, want within 1/64", v, mid)
		}
	}
	var h histogram
	vals := make([]time.Duration, 100000)
	for i := range vals {
		vals[i] = time.Duration(rand.ExpFloat64() * float64(200*time.Microsecond))
		h.record(vals[i])
	}
	// Exact quantiles by counting.
	for _, q := range []float64{0.5, 0.9, 0.99} {
		got := h.quantile(q)
		below := 0
		for _, v := range vals {
			if v <= got {
				below++
			}
		}
		frac := float64(below) / float64(len(vals))
		if frac < q-0.01 || frac > q+0.01 {
			t.Errorf("quantile(%v) = %v, which has %.3f of values at or below it", q, got, frac)
		}
	}
}
