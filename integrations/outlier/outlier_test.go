package outlier

import (
	"testing"
	"time"

	configv1 "github.com/portico-gw/portico/gen/portico/config/v1"
	"google.golang.org/protobuf/types/known/durationpb"
)

type clock struct{ t time.Time }

func (c *clock) now() time.Time { return c.t }

func TestFromDefaults(t *testing.T) {
	got := From(&configv1.OutlierDetection{})
	want := Settings{Interval: 10 * time.Second, BaseEjection: 30 * time.Second, FailurePercentage: 50, MinimumRequests: 10, ConsecutiveFailures: 5}
	if got != want {
		t.Errorf("From({}): got %+v, want %+v", got, want)
	}
	got = From(&configv1.OutlierDetection{ConsecutiveFailures: 2, BaseEjectionTime: durationpb.New(time.Second)})
	if got.ConsecutiveFailures != 2 || got.BaseEjection != time.Second {
		t.Errorf("From: got %+v, want 2 consecutive failures, 1s", got)
	}
}

// TestEjectorEjectsAndReturns: consecutive failures eject an endpoint
// for the base time; it returns when the time is up; ejected again
// without a success in between, it stays out twice as long; a success
// starts the count again.
func TestEjectorEjectsAndReturns(t *testing.T) {
	c := &clock{t: time.Unix(1000, 0)}
	e := NewEjector(4, Settings{ConsecutiveFailures: 3, BaseEjection: 10 * time.Second}, c.now, nil)
	for k := range 2 {
		if e.Observe(0, true) {
			t.Fatalf("failure %d ejected the endpoint; want 3 in a row first", k+1)
		}
	}
	e.Observe(0, false) // a success: the count starts again
	e.Observe(0, true)
	e.Observe(0, true)
	if e.Ejected(0) {
		t.Fatal("ejected after a success and two failures")
	}
	if !e.Observe(0, true) || !e.Ejected(0) {
		t.Fatal("three failures in a row: got not ejected, want ejected")
	}
	c.t = c.t.Add(10*time.Second - time.Millisecond)
	if !e.Ejected(0) {
		t.Error("ejected 10s: got back before its time")
	}
	c.t = c.t.Add(time.Millisecond)
	if e.Ejected(0) {
		t.Error("after base_ejection_time: got still ejected, want back")
	}
	for range 3 {
		e.Observe(0, true)
	}
	c.t = c.t.Add(10 * time.Second)
	if !e.Ejected(0) {
		t.Error("second ejection: got back after 10s, want 20s")
	}
	c.t = c.t.Add(10 * time.Second)
	if e.Ejected(0) {
		t.Error("second ejection: got still ejected after 20s")
	}
}

// TestEjectorBounds: at most half of the endpoints are out at once, and
// never the last one in rotation (counting those failing their health
// check).
func TestEjectorBounds(t *testing.T) {
	c := &clock{t: time.Unix(1000, 0)}
	e := NewEjector(4, Settings{ConsecutiveFailures: 1, BaseEjection: time.Minute}, c.now, nil)
	for k := range 4 {
		e.Observe(k, true)
	}
	out := 0
	for k := range 4 {
		if e.Ejected(k) {
			out++
		}
	}
	if out != 2 {
		t.Errorf("4 endpoints all failing: got %d ejected, want 2 (50%%)", out)
	}
	healthy := []bool{true, false}
	e = NewEjector(2, Settings{ConsecutiveFailures: 1, BaseEjection: time.Minute}, c.now, func(k int) bool { return healthy[k] })
	if e.Observe(0, true) || e.Ejected(0) {
		t.Error("the only endpoint passing its health check was ejected")
	}
}
