//go:build !unix

package hotpath

import "time"

// processCPU is not available here: no cpu-ns/op metric.
func processCPU() (time.Duration, bool) { return 0, false }
