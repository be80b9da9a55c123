package server_test

import (
	"context"
	"net/http"
	"strings"
	"testing"
	"time"

	adminv1 "github.com/portico-gw/portico/gen/portico/admin/v1"
	"github.com/portico-gw/portico/ratelimit/redistest"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
)

// TestManagedKeyUsage: GetUsage reads the counters the limiter charged
// for a managed key on another replica, and agrees with the RateLimit
// header the caller got; a key moved to another plan at run time is
// limited by it within a second.
func TestManagedKeyUsage(t *testing.T) {
	rd := redistest.Start(t)
	f := newFleet(t, rd.Addr)
	a, b := f.start("A"), f.start("B")
	ctx := context.Background()
	created, err := a.admin.CreateApiKey(ctx, &adminv1.CreateApiKeyRequest{Key: &adminv1.ApiKey{Id: "metered", Plan: "gold"}})
	if err != nil {
		t.Fatal(err)
	}
	within(t, time.Second, "the key on B", true, created.GetSecret(), b)
	var last *http.Response
	for range 3 {
		req, _ := http.NewRequest(http.MethodGet, b.env.URL+"/v1/shelves/1", nil)
		req.Header.Set("X-Api-Key", created.GetSecret())
		last, _ = do(t, req)
	}
	// within made one call too: four in all.
	if h := last.Header.Get("RateLimit"); !strings.Contains(h, `"gold-month";r=996`) {
		t.Errorf("RateLimit after four calls: got %q, want the quota's 996 remaining", h)
	}
	var u adminv1.Usage
	if code, body := adminJSON(t, a, http.MethodGet, "/v1/apikeys/metered/usage", "", &u); code != http.StatusOK {
		t.Fatalf("GET /v1/apikeys/metered/usage: got %d %s", code, body)
	}
	if u.GetPlan() != "gold" || len(u.GetLimits()) != 2 {
		t.Fatalf("usage: got %v, want gold's rate and quota", &u)
	}
	rate, quota := u.GetLimits()[0], u.GetLimits()[1]
	if rate.GetKind() != "rate" || rate.GetName() != "gold" || rate.GetLimit() != 100 || rate.GetUsed() != 4 || rate.GetRemaining() != 96 {
		t.Errorf("usage's rate: got %v, want gold: 4 of a burst of 100 used", rate)
	}
	if quota.GetKind() != "quota" || quota.GetName() != "gold-month" || quota.GetLimit() != 1000 || quota.GetUsed() != 4 ||
		quota.GetRemaining() != 996 || quota.GetPeriod() != "month" || quota.GetPeriodStart() == nil || quota.GetResetTime() == nil {
		t.Errorf("usage's quota: got %v, want gold-month: 4 of 1000 used this month", quota)
	}

	// Moved to silver on A: B limits it by silver within a second.
	if _, err := a.admin.UpdateApiKey(ctx, &adminv1.UpdateApiKeyRequest{Key: &adminv1.ApiKey{Id: "metered", Plan: "silver"}}); err != nil {
		t.Fatal(err)
	}
	start := time.Now()
	for {
		req, _ := http.NewRequest(http.MethodGet, b.env.URL+"/v1/shelves/1", nil)
		req.Header.Set("X-Api-Key", created.GetSecret())
		resp, _ := do(t, req)
		if strings.Contains(resp.Header.Get("RateLimit-Policy"), `"silver"`) {
			break
		}
		if time.Since(start) > time.Second {
			t.Fatalf("a second after the plan changed: RateLimit-Policy %q, want silver's", resp.Header.Get("RateLimit-Policy"))
		}
		time.Sleep(10 * time.Millisecond)
	}

	// The keys file's key has no plan: no limits.
	if u, err := b.admin.GetUsage(ctx, &adminv1.GetUsageRequest{Id: "file-1"}); err != nil || u.GetPlan() != "" || len(u.GetLimits()) != 0 {
		t.Errorf("usage of a key without a plan: got %v, %v", u, err)
	}
	if _, err := b.admin.GetUsage(ctx, &adminv1.GetUsageRequest{Id: "nobody"}); status.Code(err) != codes.NotFound {
		t.Errorf("usage of an unknown key: got %v, want NOT_FOUND", err)
	}
}
