package ratelimit

import (
	"context"
	"errors"
	"log/slog"
	"testing"
	"time"

	configv1 "github.com/portico-gw/portico/gen/portico/config/v1"
	"github.com/portico-gw/portico/ratelimit/redistest"
)

// slowGold is gold with a slow rate, so a bucket's use does not drain
// away between charging and reading on a busy machine.
func slowGold() *configv1.UsagePlan {
	return &configv1.UsagePlan{Name: "gold", Rate: "100/h", Burst: 100, Quota: &configv1.Quota{Limit: 3, Period: "month"}}
}

// chargeAndRead charges n calls of key on plan gold through the gate, then
// reads the key's usage.
func chargeAndRead(t *testing.T, l *Limiter, key string, n int) []Usage {
	t.Helper()
	g := l.Gate(testMethod, nil)
	for i := range n {
		if err := gate(t, g, keyed(key, "gold")); err != nil {
			t.Fatalf("call %d: %v", i+1, err)
		}
	}
	u, err := l.Usage(context.Background(), key, "gold")
	if err != nil {
		t.Fatal(err)
	}
	return u
}

func checkGoldUsage(t *testing.T, u []Usage, used int64, end time.Time) {
	t.Helper()
	if len(u) != 2 {
		t.Fatalf("Usage: got %d limits, want 2 (rate and quota): %+v", len(u), u)
	}
	rate, quota := u[0], u[1]
	if rate.Name != "gold" || rate.Quota || rate.Limit != 100 || rate.Period != "100/h" {
		t.Errorf("rate: got %+v, want gold, burst 100, 100/h", rate)
	}
	if rate.Used != used || rate.Remaining != 100-used {
		t.Errorf("rate: got used %d remaining %d, want %d and %d", rate.Used, rate.Remaining, used, 100-used)
	}
	if quota.Name != "gold-month" || !quota.Quota || quota.Limit != 3 || quota.Period != "month" {
		t.Errorf("quota: got %+v, want gold-month, 3 a month", quota)
	}
	if quota.Used != used || quota.Remaining != 3-used {
		t.Errorf("quota: got used %d remaining %d, want %d and %d", quota.Used, quota.Remaining, used, 3-used)
	}
	if !quota.Reset.Equal(end) {
		t.Errorf("quota reset: got %v, want %v", quota.Reset, end)
	}
}

func TestUsageLocalReadsTheGatesCounters(t *testing.T) {
	clock := &fakeClock{t: time.Date(2026, 3, 31, 23, 0, 0, 0, time.UTC)}
	l := localLimiter(t, clock, slowGold())
	april := time.Date(2026, 4, 1, 0, 0, 0, 0, time.UTC)
	checkGoldUsage(t, chargeAndRead(t, l, "k1", 2), 2, april)
	// Reading charges nothing.
	checkGoldUsage(t, chargeAndRead(t, l, "k1", 0), 2, april)
	// Another key has its own counters.
	checkGoldUsage(t, chargeAndRead(t, l, "k2", 0), 0, april)

	if u, err := l.Usage(context.Background(), "k1", ""); err != nil || u != nil {
		t.Errorf("Usage without a plan: got %v, %v; want nothing", u, err)
	}
	if _, err := l.Usage(context.Background(), "k1", "platinum"); !errors.Is(err, ErrUnknownPlan) {
		t.Errorf("Usage of an unknown plan: got %v, want ErrUnknownPlan", err)
	}
}

func TestUsageRedisReadsTheGatesCounters(t *testing.T) {
	srv := redistest.Start(t)
	// A generous timeout: the default 50ms is the hot path's, and a busy
	// machine can take longer.
	r := NewRedis(RedisOptions{Address: srv.Addr, Logger: slog.New(slog.DiscardHandler), KeyPrefix: "usage:", Timeout: 2 * time.Second})
	t.Cleanup(func() { r.Close() })
	pl, err := NewPlan(slowGold())
	if err != nil {
		t.Fatal(err)
	}
	now := time.Now
	l := NewLimiter(r, LimiterOptions{Plans: map[string]*Plan{"gold": pl}, Now: now, Logger: slog.New(slog.DiscardHandler)})
	_, end := Month.Window(now())
	checkGoldUsage(t, chargeAndRead(t, l, "k1", 1), 1, end)
	checkGoldUsage(t, chargeAndRead(t, l, "k1", 0), 1, end)

	srv.Kill()
	if _, err := l.Usage(context.Background(), "k1", "gold"); !errors.Is(err, ErrUnavailable) {
		t.Errorf("Usage with Redis stopped: got %v, want ErrUnavailable", err)
	}
}
