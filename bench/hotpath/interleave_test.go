package hotpath

import (
	"testing"
	"time"
)

// interleave sends b.N calls to each of two gateways (calls(n) sends n),
// in slices that take turns so that load from elsewhere on the machine
// lands on both alike, and returns the process's CPU per call for each.
func interleave(b *testing.B, gateways [2]func(n int)) [2]float64 {
	const turns = 20
	per := max(b.N/turns, 1)
	var cpu [2]time.Duration
	b.ResetTimer()
	for s := range turns {
		for j := range gateways {
			k := (j + s) % len(gateways)
			before, _ := processCPU()
			gateways[k](per)
			after, _ := processCPU()
			cpu[k] += after - before
		}
	}
	b.StopTimer()
	n := float64(per * turns)
	return [2]float64{float64(cpu[0]) / n, float64(cpu[1]) / n}
}
