package server_test

import (
	"context"
	"net/http"
	"strings"
	"testing"
	"time"

	adminv1 "github.com/portico-gw/portico/gen/portico/admin/v1"
	"github.com/portico-gw/portico/ratelimit/redistest"
	"github.com/redis/go-redis/v9"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/types/known/durationpb"
	"google.golang.org/protobuf/types/known/fieldmaskpb"
)

// TestManagedKeysThreeReplicas: three gateways on one real redis-server
// (append-only, fsync always). A key created through A's admin API is
// accepted by B and C within a second; disabled, re-enabled, rotated (the
// old secret accepted for the grace period, then refused everywhere) and
// revoked through the others, each in force everywhere within a second.
// Redis restarted: the keys are still there. Redis stopped: the keys
// known keep working, a replica started meanwhile knows none and refuses
// them, and catches up when Redis returns.
func TestManagedKeysThreeReplicas(t *testing.T) {
	rd := redistest.StartPersistent(t)
	f := newFleet(t, rd.Addr)
	a, b, c := f.start("A"), f.start("B"), f.start("C")
	all := []*replica{a, b, c}
	ctx := context.Background()
	var slowest time.Duration
	note := func(d time.Duration) { slowest = max(slowest, d) }

	// Create over REST on A: the secret once, only its hash in Redis.
	var created adminv1.ApiKeySecret
	if code, body := adminJSON(t, a, http.MethodPost, "/v1/apikeys", `{"id":"k1","principal":"acme","plan":"gold"}`, &created); code != http.StatusOK {
		t.Fatalf("POST /v1/apikeys: got %d %s", code, body)
	}
	secret := created.GetSecret()
	if !strings.HasPrefix(secret, "pk_") || created.GetKey().GetId() != "k1" || created.GetKey().GetSource() != adminv1.ApiKeySource_API_KEY_SOURCE_MANAGED {
		t.Fatalf("created: got %v", &created)
	}
	if code := a.restCode(t, secret); code != http.StatusOK {
		t.Errorf("the new key on A at once: got %d, want 200", code)
	}
	note(within(t, time.Second, "created on A, accepted by B and C", true, secret, b, c))
	if !b.grpcOK(secret) || !c.grpcOK(secret) {
		t.Error("the new key on the gRPC doors of B and C: refused")
	}
	stored, err := redis.NewClient(&redis.Options{Addr: rd.Addr}).HGetAll(ctx, "portico:apikeys:partners").Result()
	if err != nil {
		t.Fatal(err)
	}
	if len(stored) != 1 || strings.Contains(stored["k1"], secret) || !strings.Contains(stored["k1"], sha256Hex(secret)) {
		t.Errorf("Redis holds %v, want k1 with the secret's SHA-256 and never the secret", stored)
	}

	// List and get: never a secret; the keys file's key read-only.
	code, listed := adminJSON(t, b, http.MethodGet, "/v1/apikeys", "", nil)
	if code != http.StatusOK || strings.Contains(listed, secret) || strings.Contains(listed, sha256Hex(secret)) ||
		!strings.Contains(listed, `"id":"file-1"`) || !strings.Contains(listed, `"API_KEY_SOURCE_FILE"`) || !strings.Contains(listed, `"id":"k1"`) {
		t.Errorf("GET /v1/apikeys: got %d %s, want k1 and file-1, no secret nor hash", code, listed)
	}
	if _, err := c.admin.RevokeApiKey(ctx, &adminv1.RevokeApiKeyRequest{Id: "file-1"}); status.Code(err) != codes.FailedPrecondition {
		t.Errorf("revoking a keys file's key: got %v, want FAILED_PRECONDITION", err)
	}
	if code := a.restCode(t, "file-secret"); code != http.StatusOK {
		t.Errorf("the keys file's key: got %d, want 200", code)
	}

	// Update on B (gRPC): disabled, then enabled again.
	off := false
	if _, err := b.admin.UpdateApiKey(ctx, &adminv1.UpdateApiKeyRequest{Key: &adminv1.ApiKey{Id: "k1", Enabled: &off},
		UpdateMask: &fieldmaskpb.FieldMask{Paths: []string{"enabled"}}}); err != nil {
		t.Fatal(err)
	}
	note(within(t, time.Second, "disabled on B, refused everywhere", false, secret, all...))
	on := true
	got, err := b.admin.UpdateApiKey(ctx, &adminv1.UpdateApiKeyRequest{Key: &adminv1.ApiKey{Id: "k1", Enabled: &on, Plan: "silver"}})
	if err != nil || got.GetPlan() != "silver" || !got.GetEnabled() || got.GetPrincipal() != "acme" {
		t.Fatalf("UpdateApiKey without a mask: got %v, %v; want enabled, plan silver, principal kept", got, err)
	}
	note(within(t, time.Second, "enabled on B, accepted everywhere", true, secret, all...))
	if _, err := b.admin.UpdateApiKey(ctx, &adminv1.UpdateApiKeyRequest{Key: &adminv1.ApiKey{Id: "k1", Plan: "platinum"}}); status.Code(err) != codes.InvalidArgument {
		t.Errorf("a plan the config does not have: got %v, want INVALID_ARGUMENT", err)
	}

	// Rotate on C with a grace period: both secrets, then the new one only.
	const grace = 2 * time.Second
	rotated, err := c.admin.RotateApiKey(ctx, &adminv1.RotateApiKeyRequest{Id: "k1", GracePeriod: durationpb.New(grace)})
	if err != nil {
		t.Fatal(err)
	}
	rotatedAt, fresh := time.Now(), rotated.GetSecret()
	if fresh == secret || rotated.GetKey().GetPreviousSecretExpireTime() == nil {
		t.Fatalf("rotated: got %v, want a new secret and the old one's end", rotated)
	}
	note(within(t, time.Second, "rotated on C, the new secret accepted everywhere", true, fresh, all...))
	for _, r := range all {
		if time.Since(rotatedAt) < grace-200*time.Millisecond && r.restCode(t, secret) != http.StatusOK {
			t.Errorf("replica %s refuses the old secret within its grace period", r.name)
		}
	}
	within(t, grace+time.Second, "the old secret refused everywhere after the grace period", false, secret, all...)
	if elapsed := time.Since(rotatedAt); elapsed < grace-100*time.Millisecond {
		t.Errorf("the old secret was refused after %v, before its grace period of %v ended", elapsed, grace)
	}

	// Revoke on A: refused everywhere.
	if code, body := adminJSON(t, a, http.MethodDelete, "/v1/apikeys/k1", "", nil); code != http.StatusOK {
		t.Fatalf("DELETE /v1/apikeys/k1: got %d %s", code, body)
	}
	note(within(t, time.Second, "revoked on A, refused everywhere", false, fresh, all...))
	if _, err := a.admin.GetApiKey(ctx, &adminv1.GetApiKeyRequest{Id: "k1"}); status.Code(err) != codes.NotFound {
		t.Errorf("GetApiKey of a revoked key: got %v, want NOT_FOUND", err)
	}
	t.Logf("slowest change to reach every replica: %v", slowest)

	// Redis restarted (persistent): the keys are still there.
	kept, err := a.admin.CreateApiKey(ctx, &adminv1.CreateApiKeyRequest{Key: &adminv1.ApiKey{Id: "k2"}})
	if err != nil {
		t.Fatal(err)
	}
	within(t, time.Second, "k2 accepted everywhere", true, kept.GetSecret(), all...)
	rd.Restart()
	if got, err := b.admin.GetApiKey(ctx, &adminv1.GetApiKeyRequest{Id: "k2"}); err != nil || got.GetId() != "k2" {
		t.Errorf("after Redis restarted, GetApiKey(k2): got %v, %v", got, err)
	}

	// Redis stopped: known keys work, changes are refused, a replica that
	// never read the keys refuses them, and catches up when Redis returns.
	rd.Kill()
	for _, r := range all {
		if code := r.restCode(t, kept.GetSecret()); code != http.StatusOK {
			t.Errorf("Redis stopped: replica %s refuses a key it knows: %d", r.name, code)
		}
	}
	if _, err := a.admin.CreateApiKey(ctx, &adminv1.CreateApiKeyRequest{Key: &adminv1.ApiKey{Id: "k3"}}); status.Code(err) != codes.Unavailable {
		t.Errorf("CreateApiKey with Redis stopped: got %v, want UNAVAILABLE", err)
	}
	d := f.start("D")
	if code := d.restCode(t, kept.GetSecret()); code != http.StatusUnauthorized {
		t.Errorf("Redis stopped: a replica that never read the keys: got %d, want 401", code)
	}
	if code := d.restCode(t, "file-secret"); code != http.StatusOK {
		t.Errorf("Redis stopped: the keys file's key on a new replica: got %d, want 200", code)
	}
	rd.Restart()
	within(t, 5*time.Second, "Redis back: the new replica reads the keys", true, kept.GetSecret(), d)
}
