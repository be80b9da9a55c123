package guard

import (
	"context"
	"testing"
	"time"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
)

// The breaker's ratio counted calls their client cancelled (excluded:
// neither failures nor successes) in its denominator, so cancellations
// kept a failing backend's breaker closed: 4 failures among 4 counted
// calls did not open it after 10 cancellations.
func TestRegressCancelledCallsDoNotDiluteTheRatio(t *testing.T) {
	g := New("books", []string{"a"}, Settings{Breaker: &BreakerSettings{FailureRatio: 0.5, MinimumCalls: 4, Window: time.Second, OpenFor: time.Minute, HalfOpenCalls: 1}})
	call := func(err error) error {
		done, aerr := g.Admit(context.Background(), 0, true)
		if aerr != nil {
			return aerr
		}
		done(err)
		return nil
	}
	for range 10 {
		if err := call(status.Error(codes.Canceled, "client went away")); err != nil {
			t.Fatalf("cancelled calls opened the breaker: %v", err)
		}
	}
	for range 4 {
		if err := call(status.Error(codes.Unavailable, "down")); err != nil {
			t.Fatalf("a failing call was refused before the window filled: %v", err)
		}
	}
	if err := call(nil); !Refused(err) {
		t.Errorf("after 4 failures of 4: got %v, want a refusal", err)
	}
}
