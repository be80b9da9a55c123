package guard

import (
	"context"
	"math"
	"strconv"
	"time"

	"github.com/portico-gw/portico/call"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
)

// Refusal reasons, as call.Info.Refusal (and portico_refusals_total)
// names them.
const (
	// Overload: no room under max_in_flight within max_queue_wait.
	Overload = "overload"
	// CircuitOpen: the breaker of every endpoint is open.
	CircuitOpen = "circuit_open"
)

var (
	errOverload    = status.Error(codes.Unavailable, "backend overloaded: retry later")
	errCircuitOpen = status.Error(codes.Unavailable, "backend failing: retry later")
)

// refuse marks the call refused for reason with Retry-After (whole
// seconds, at least 1) and returns its UNAVAILABLE status (HTTP 503).
func refuse(ctx context.Context, reason string, after time.Duration) error {
	if info := call.FromContext(ctx); info != nil {
		info.Refusal = reason
		info.SetResponseHeader("Retry-After", strconv.Itoa(max(1, int(math.Ceil(after.Seconds())))))
	}
	if reason == Overload {
		return errOverload
	}
	return errCircuitOpen
}

// Refused reports whether err is a refusal of a guard (overload or an
// open circuit): it did not reach the backend, so it is not retried
// elsewhere and not counted as the backend's failure.
func Refused(err error) bool { return err == errOverload || err == errCircuitOpen }
