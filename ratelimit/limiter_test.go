package ratelimit

import (
	"context"
	"log/slog"
	"net/http"
	"net/netip"
	"strings"
	"testing"
	"time"

	"github.com/portico-gw/portico/call"
	configv1 "github.com/portico-gw/portico/gen/portico/config/v1"
	"github.com/portico-gw/portico/pipeline"
	"google.golang.org/genproto/googleapis/rpc/errdetails"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/metadata"
	"google.golang.org/grpc/status"
)

const testMethod = "/example.v1.Svc/Get"

func mustPolicy(t *testing.T, name, key, rate string, burst uint32) *Policy {
	t.Helper()
	p, err := NewPolicy(&configv1.RateLimitPolicy{Name: name, Key: key, Rate: rate, Burst: burst})
	if err != nil {
		t.Fatal(err)
	}
	return p
}

func localLimiter(t *testing.T, clock *fakeClock, plans ...*configv1.UsagePlan) *Limiter {
	t.Helper()
	st, err := NewLocal(LocalOptions{Now: clock.now})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	byName := map[string]*Plan{}
	for _, p := range plans {
		pl, err := NewPlan(p)
		if err != nil {
			t.Fatal(err)
		}
		byName[pl.Name] = pl
	}
	return NewLimiter(st, LimiterOptions{Plans: byName, Now: clock.now, Logger: slog.New(slog.DiscardHandler)})
}

func restInfo(ip string) *call.Info {
	return &call.Info{Door: call.REST, ClientIP: netip.MustParseAddr(ip), HTTP: &http.Request{Header: http.Header{}}}
}

func gate(t *testing.T, g pipeline.Gate, info *call.Info) error {
	t.Helper()
	_, err := g(context.Background(), info)
	return err
}

func TestGateHeadersAndRefusal(t *testing.T) {
	clock := &fakeClock{t: time.Date(2026, 3, 10, 12, 0, 0, 0, time.UTC)}
	l := localLimiter(t, clock)
	g := l.Gate(testMethod, []*Policy{mustPolicy(t, "per-ip", "client_ip", "2/s", 2)})
	for i := 0; i < 2; i++ {
		info := restInfo("192.0.2.1")
		if err := gate(t, g, info); err != nil {
			t.Fatalf("call %d: %v", i+1, err)
		}
		h := info.ResponseHeader()
		if got, want := h.Get("RateLimit-Policy"), `"per-ip";q=2;w=1`; got != want {
			t.Errorf("RateLimit-Policy: got %q, want %q", got, want)
		}
		// After call 1 one token is left and the bucket is full again in
		// 0.5s (rounded up: 1s); after call 2, none and 1s.
		if got, want := h.Get("RateLimit"), []string{`"per-ip";r=1;t=1`, `"per-ip";r=0;t=1`}[i]; got != want {
			t.Errorf("call %d: RateLimit: got %q, want %q", i+1, got, want)
		}
		if info.Refusal != "" {
			t.Errorf("admitted call: got Refusal %q", info.Refusal)
		}
	}
	info := restInfo("192.0.2.1")
	err := gate(t, g, info)
	st := status.Convert(err)
	if st.Code() != codes.ResourceExhausted {
		t.Fatalf("call 3: got %v, want RESOURCE_EXHAUSTED", err)
	}
	if info.Refusal != "rate_limit" {
		t.Errorf("Refusal: got %q, want rate_limit", info.Refusal)
	}
	if got := info.ResponseHeader().Get("Retry-After"); got != "1" {
		t.Errorf("Retry-After: got %q, want 1", got)
	}
	var retry *errdetails.RetryInfo
	var qf *errdetails.QuotaFailure
	for _, d := range st.Details() {
		switch d := d.(type) {
		case *errdetails.RetryInfo:
			retry = d
		case *errdetails.QuotaFailure:
			qf = d
		}
	}
	if retry == nil || retry.GetRetryDelay().AsDuration() != 500*time.Millisecond {
		t.Errorf("RetryInfo: got %v, want a retry delay of 500ms", retry)
	}
	if qf == nil || len(qf.GetViolations()) != 1 || qf.GetViolations()[0].GetSubject() != "per-ip" {
		t.Errorf("QuotaFailure: got %v, want one violation of per-ip", qf)
	}
	// Another client address has its own bucket.
	if err := gate(t, g, restInfo("192.0.2.2")); err != nil {
		t.Errorf("another client: %v", err)
	}
	// Half a second later a token is back.
	clock.t = clock.t.Add(500 * time.Millisecond)
	if err := gate(t, g, restInfo("192.0.2.1")); err != nil {
		t.Errorf("after the retry delay: %v", err)
	}
}

func TestGateKeys(t *testing.T) {
	clock := &fakeClock{t: time.Date(2026, 3, 10, 12, 0, 0, 0, time.UTC)}
	l := localLimiter(t, clock)
	withHeader := func(v string) *call.Info {
		i := restInfo("192.0.2.1")
		i.HTTP.Header.Set("X-Tenant", v)
		return i
	}
	grpcWithHeader := func(v string) *call.Info {
		return &call.Info{Door: call.GRPC, ClientIP: netip.MustParseAddr("192.0.2.9"), MD: metadata.Pairs("x-tenant", v)}
	}
	who := func(principal, key string) *call.Info {
		i := restInfo("192.0.2.1")
		i.Identity = &call.Identity{Principal: principal, APIKey: key}
		return i
	}
	for _, tc := range []struct {
		key         string
		first, same *call.Info // same: counted with first
		other       *call.Info // counted apart
	}{
		{key: "header:x-tenant", first: withHeader("a"), same: grpcWithHeader("a"), other: withHeader("b")},
		{key: "principal", first: who("alice", "k1"), same: who("alice", "k2"), other: who("bob", "k1")},
		{key: "api_key", first: who("alice", "k1"), same: who("bob", "k1"), other: who("alice", "k2")},
		{key: "method", first: restInfo("192.0.2.1"), same: restInfo("198.51.100.7"), other: nil},
		// No value: one shared counter, so leaving the header out does
		// not escape the limit.
		{key: "header:x-absent", first: restInfo("192.0.2.1"), same: restInfo("192.0.2.2"), other: nil},
	} {
		t.Run(tc.key, func(t *testing.T) {
			g := l.Gate(testMethod, []*Policy{mustPolicy(t, "p"+strings.NewReplacer(":", "-", "_", "-").Replace(tc.key), tc.key, "1/h", 1)})
			if err := gate(t, g, tc.first); err != nil {
				t.Fatalf("first call: %v", err)
			}
			if err := gate(t, g, tc.same); status.Code(err) != codes.ResourceExhausted {
				t.Errorf("call with the same key: got %v, want RESOURCE_EXHAUSTED", err)
			}
			if tc.other != nil {
				if err := gate(t, g, tc.other); err != nil {
					t.Errorf("call with another key: %v", err)
				}
			}
		})
	}
}

func TestGateNothingToLimit(t *testing.T) {
	l := localLimiter(t, &fakeClock{t: time.Now()})
	if g := l.Gate(testMethod, nil); g != nil {
		t.Error("no policy and no plans: got a gate, want none")
	}
}

func gold() *configv1.UsagePlan {
	return &configv1.UsagePlan{Name: "gold", Rate: "100/s", Burst: 100, Quota: &configv1.Quota{Limit: 3, Period: "month"}}
}

func keyed(key, plan string) *call.Info {
	i := restInfo("192.0.2.1")
	i.Identity = &call.Identity{Provider: "keys", Principal: "key:" + key, APIKey: key, Plan: plan}
	return i
}

func TestPlanQuota(t *testing.T) {
	clock := &fakeClock{t: time.Date(2026, 3, 31, 23, 0, 0, 0, time.UTC)}
	l := localLimiter(t, clock, gold())
	g := l.Gate(testMethod, nil)
	if g == nil {
		t.Fatal("plans configured: got no gate")
	}
	for i := 0; i < 3; i++ {
		info := keyed("k1", "gold")
		if err := gate(t, g, info); err != nil {
			t.Fatalf("call %d of a quota of 3: %v", i+1, err)
		}
		want := `"gold";q=100;w=1, "gold-month";q=3;w=2678400`
		if got := info.ResponseHeader().Get("RateLimit-Policy"); got != want {
			t.Errorf("RateLimit-Policy: got %q, want %q", got, want)
		}
		// An hour is left in March: t=3600 for the quota.
		if got := info.ResponseHeader().Get("RateLimit"); !strings.HasSuffix(got, `"gold-month";r=`+string(rune('2'-i))+`;t=3600`) {
			t.Errorf("call %d: RateLimit: got %q, want the quota's remaining %d and t=3600", i+1, got, 2-i)
		}
	}
	info := keyed("k1", "gold")
	err := gate(t, g, info)
	if status.Code(err) != codes.ResourceExhausted || !strings.Contains(status.Convert(err).Message(), "quota") {
		t.Fatalf("call 4 of a quota of 3: got %v, want RESOURCE_EXHAUSTED quota exceeded", err)
	}
	if got := info.ResponseHeader().Get("Retry-After"); got != "3600" {
		t.Errorf("Retry-After: got %q, want 3600 (until April)", got)
	}
	// Another key of the same plan has its own quota.
	if err := gate(t, g, keyed("k2", "gold")); err != nil {
		t.Errorf("another key: %v", err)
	}
	// The month turns: a fresh quota.
	clock.t = clock.t.Add(time.Hour)
	if err := gate(t, g, keyed("k1", "gold")); err != nil {
		t.Errorf("in April: %v", err)
	}
}

func TestPlanRateAndBinding(t *testing.T) {
	clock := &fakeClock{t: time.Date(2026, 3, 10, 12, 0, 0, 0, time.UTC)}
	silver := &configv1.UsagePlan{Name: "silver", Rate: "2/m", Burst: 2}
	l := localLimiter(t, clock, silver)
	g := l.Gate(testMethod, nil)
	for i := 0; i < 2; i++ {
		if err := gate(t, g, keyed("k1", "silver")); err != nil {
			t.Fatalf("call %d: %v", i+1, err)
		}
	}
	info := keyed("k1", "silver")
	if err := gate(t, g, info); status.Code(err) != codes.ResourceExhausted {
		t.Fatalf("call 3 of a burst of 2: got %v, want RESOURCE_EXHAUSTED", err)
	}
	if got := info.ResponseHeader().Get("Retry-After"); got != "30" {
		t.Errorf("Retry-After: got %q, want 30 (2/m)", got)
	}
	// A key without a plan, and a caller without a key, get none of the
	// plan's limits (and no headers).
	for _, info := range []*call.Info{keyed("k9", ""), restInfo("192.0.2.1")} {
		for i := 0; i < 5; i++ {
			if err := gate(t, g, info); err != nil {
				t.Fatalf("no plan, call %d: %v", i+1, err)
			}
		}
		if h := info.ResponseHeader(); h != nil {
			t.Errorf("no plan: got headers %v, want none", h)
		}
	}
	// A key naming a plan the config lacks is refused, not unlimited.
	info = keyed("k1", "platinum")
	if err := gate(t, g, info); status.Code(err) != codes.PermissionDenied {
		t.Errorf("unknown plan: got %v, want PERMISSION_DENIED", err)
	}
}

func TestPlanNamesIgnoredWithoutPlans(t *testing.T) {
	l := localLimiter(t, &fakeClock{t: time.Now()})
	g := l.Gate(testMethod, []*Policy{mustPolicy(t, "per-ip", "client_ip", "10/s", 10)})
	if err := gate(t, g, keyed("k1", "gold")); err != nil {
		t.Errorf("a key naming a plan, no usage_plans configured: got %v, want admitted by the policies", err)
	}
}

func TestPlanValidation(t *testing.T) {
	for _, p := range []*configv1.UsagePlan{
		{Name: "a", Burst: 5},
		{Name: "b", Rate: "1/d"},
		{Name: "c", Quota: &configv1.Quota{Limit: 1, Period: "year"}},
	} {
		if _, err := NewPlan(p); err == nil {
			t.Errorf("NewPlan(%v): got no error", p)
		}
	}
	for _, p := range []*configv1.RateLimitPolicy{
		{Name: "a", Key: "cookie", Rate: "1/s"},
		{Name: "b", Key: "client_ip"},
		{Name: "c", Key: "client_ip", Rate: "1/w"},
	} {
		if _, err := NewPolicy(p); err == nil {
			t.Errorf("NewPolicy(%v): got no error", p)
		}
	}
}

func TestGateAllOrNothingAcrossPolicyAndPlan(t *testing.T) {
	clock := &fakeClock{t: time.Date(2026, 3, 10, 12, 0, 0, 0, time.UTC)}
	l := localLimiter(t, clock, gold())
	g := l.Gate(testMethod, []*Policy{mustPolicy(t, "per-ip", "client_ip", "1/h", 1)})
	if err := gate(t, g, keyed("k1", "gold")); err != nil {
		t.Fatal(err)
	}
	// Refused by per-ip: the quota is not charged.
	for i := 0; i < 5; i++ {
		if err := gate(t, g, keyed("k1", "gold")); status.Code(err) != codes.ResourceExhausted {
			t.Fatalf("refused call: got %v", err)
		}
	}
	other := keyed("k1", "gold")
	other.ClientIP = netip.MustParseAddr("198.51.100.1")
	if err := gate(t, g, other); err != nil {
		t.Fatalf("from another address: %v", err)
	}
	if got := other.ResponseHeader().Get("RateLimit"); !strings.Contains(got, `"gold-month";r=1;`) {
		t.Errorf("RateLimit: got %q, want the quota charged twice (r=1), not by refused calls", got)
	}
}

// TestPolicyGate: a PolicyGate applies its policies and no plan (it runs
// before the caller is known); a Gate after it on the same call adds its
// limits to the RateLimit fields instead of replacing them.
func TestPolicyGate(t *testing.T) {
	clock := &fakeClock{t: time.Date(2026, 3, 10, 12, 0, 0, 0, time.UTC)}
	l := localLimiter(t, clock, &configv1.UsagePlan{Name: "gold", Rate: "1/h"})
	if g := l.PolicyGate(testMethod, nil); g != nil {
		t.Error("PolicyGate without policies: got a gate, want nil (plans do not apply before authentication)")
	}
	before := l.PolicyGate(testMethod, []*Policy{mustPolicy(t, "per-ip", "client_ip", "2/s", 2)})
	after := l.Gate(testMethod, []*Policy{mustPolicy(t, "per-user", "principal", "5/s", 5)})
	info := restInfo("192.0.2.1")
	if err := gate(t, before, info); err != nil {
		t.Fatal(err)
	}
	info.Identity = &call.Identity{Principal: "alice", APIKey: "k1", Plan: "gold"}
	if err := gate(t, after, info); err != nil {
		t.Fatal(err)
	}
	h := info.ResponseHeader()
	if got, want := h.Get("RateLimit-Policy"), `"per-ip";q=2;w=1, "per-user";q=5;w=1, "gold";q=1;w=3600`; got != want {
		t.Errorf("RateLimit-Policy: got %q, want %q", got, want)
	}
	if got, want := h.Get("RateLimit"), `"per-ip";r=1;t=1, "per-user";r=4;t=1, "gold";r=0;t=3600`; got != want {
		t.Errorf("RateLimit: got %q, want %q", got, want)
	}
	// The plan's bucket is spent; the PolicyGate does not look at it.
	again := restInfo("192.0.2.1")
	again.Identity = info.Identity
	if err := gate(t, before, again); err != nil {
		t.Errorf("PolicyGate with a spent plan: got %v, want the call admitted", err)
	}
	if err := gate(t, after, again); status.Code(err) != codes.ResourceExhausted {
		t.Errorf("Gate with a spent plan: got %v, want RESOURCE_EXHAUSTED", err)
	}
}
