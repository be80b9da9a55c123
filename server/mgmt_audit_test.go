package server_test

import (
	"bufio"
	"context"
	"encoding/json"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/portico-gw/portico/admin"
	adminv1 "github.com/portico-gw/portico/gen/portico/admin/v1"
	configv1 "github.com/portico-gw/portico/gen/portico/config/v1"
	"github.com/portico-gw/portico/ratelimit/redistest"
	"google.golang.org/grpc/metadata"
	"google.golang.org/protobuf/types/known/durationpb"
)

// TestAdminAuditLog: every change through the admin API (REST and gRPC,
// allowed or refused for its token) and the listener's POST /reload is
// one JSON line of admin.audit_log, with the token's fingerprint, the
// client, the action, the target and the outcome; reads are not written,
// and neither a key's secret nor the token ever is.
func TestAdminAuditLog(t *testing.T) {
	const token = "audit-t0ken-0123456789"
	rd := redistest.Start(t)
	f := newFleet(t, rd.Addr)
	logPath := filepath.Join(t.TempDir(), "audit.jsonl")
	keys := f.config
	f.config = func(c *configv1.Config) {
		keys(c)
		c.Admin = &configv1.Admin{TokenFile: writeToken(t, token), AuditLog: logPath}
	}
	r := f.start("A")
	r.token = token
	ctx := metadata.AppendToOutgoingContext(context.Background(), "authorization", "Bearer "+token)

	var created adminv1.ApiKeySecret
	if code, body := adminJSON(t, r, http.MethodPost, "/v1/apikeys", `{"plan":"gold"}`, &created); code != http.StatusOK {
		t.Fatalf("create: got %d %s", code, body)
	}
	id := created.GetKey().GetId()
	rotated, err := r.admin.RotateApiKey(ctx, &adminv1.RotateApiKeyRequest{Id: id, GracePeriod: durationpb.New(0)})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := r.admin.ListApiKeys(ctx, &adminv1.ListApiKeysRequest{}); err != nil {
		t.Fatal(err)
	}
	if _, err := r.admin.RevokeApiKey(ctx, &adminv1.RevokeApiKeyRequest{Id: "file-1"}); err == nil {
		t.Fatal("revoking a keys file's key: got no error")
	}
	if _, err := r.admin.RevokeApiKey(context.Background(), &adminv1.RevokeApiKeyRequest{Id: id}); err == nil {
		t.Fatal("revoking without the token: got no error")
	}
	if code, _ := adminJSON(t, r, http.MethodDelete, "/v1/apikeys/"+id, "", nil); code != http.StatusOK {
		t.Fatalf("revoke: got %d", code)
	}
	req, _ := http.NewRequest(http.MethodPost, "http://"+r.env.Server.AdminAddr+"/reload", nil)
	req.Header.Set("Authorization", "Bearer "+token)
	req.Header.Set("Content-Type", "application/json")
	do(t, req)

	fp := admin.NewToken(token).Fingerprint()
	if len(fp) != 12 || fp != sha256Hex(token)[:12] {
		t.Fatalf("Fingerprint: got %q, want the token's SHA-256's first 12 hex digits", fp)
	}
	want := []admin.AuditEntry{
		{Token: fp, Action: "CreateApiKey", Target: "partners/" + id, Outcome: "OK"},
		{Token: fp, Action: "RotateApiKey", Target: "partners/" + id, Outcome: "OK"},
		{Token: fp, Action: "RevokeApiKey", Target: "file-1", Outcome: "FailedPrecondition"},
		{Token: "invalid", Action: "RevokeApiKey", Outcome: "Unauthenticated"},
		{Token: fp, Action: "RevokeApiKey", Target: id, Outcome: "OK"},
		{Token: fp, Action: "Reload", Outcome: "HTTP 422"},
	}
	raw, err := os.ReadFile(logPath)
	if err != nil {
		t.Fatal(err)
	}
	for _, secret := range []string{created.GetSecret(), rotated.GetSecret(), token} {
		if strings.Contains(string(raw), secret) {
			t.Errorf("the audit log holds a secret:\n%s", raw)
		}
	}
	var got []admin.AuditEntry
	sc := bufio.NewScanner(strings.NewReader(string(raw)))
	for sc.Scan() {
		var e admin.AuditEntry
		if err := json.Unmarshal(sc.Bytes(), &e); err != nil {
			t.Fatalf("line %q: %v", sc.Text(), err)
		}
		if e.Time.IsZero() || e.ClientIP == "" {
			t.Errorf("line %q: want a time and the client's address", sc.Text())
		}
		got = append(got, e)
	}
	if len(got) != len(want) {
		t.Fatalf("audit log: got %d lines, want %d:\n%s", len(got), len(want), raw)
	}
	for i, w := range want {
		g := got[i]
		if g.Token != w.Token || g.Action != w.Action || g.Target != w.Target || g.Outcome != w.Outcome {
			t.Errorf("line %d: got %+v, want %+v", i+1, g, w)
		}
	}
}
