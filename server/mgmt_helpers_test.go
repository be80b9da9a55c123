package server_test

// Managed API keys: replicas sharing one Redis, and calls to their doors
// and admin APIs.

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/portico-gw/portico/examples/bookstore"
	bookstorev1 "github.com/portico-gw/portico/gen/example/bookstore/v1"
	adminv1 "github.com/portico-gw/portico/gen/portico/admin/v1"
	configv1 "github.com/portico-gw/portico/gen/portico/config/v1"
	"github.com/portico-gw/portico/server/servertest"
	"google.golang.org/grpc/metadata"
	"google.golang.org/protobuf/encoding/protojson"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/durationpb"
)

// replica is one gateway of a fleet sharing a Redis.
type replica struct {
	name  string
	env   *servertest.Env
	admin adminv1.AdminClient
	token string // the admin token adminJSON sends, if any
}

// fleet is gateways in front of one bookstore, sharing one Redis for
// rate limits and managed keys (provider "partners", store: redis, plus a
// keys file holding "file-1" with the secret "file-secret").
type fleet struct {
	t       *testing.T
	backend string
	config  func(*configv1.Config)
}

func newFleet(t *testing.T, redisAddr string) *fleet {
	t.Helper()
	lis, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	gs := bookstore.NewServer().Serve(lis)
	t.Cleanup(gs.Stop)
	dir := t.TempDir()
	keys := filepath.Join(dir, "keys.yaml")
	sum := sha256.Sum256([]byte("file-secret"))
	if err := os.WriteFile(keys, []byte("- {id: file-1, sha256: "+hex.EncodeToString(sum[:])+", principal: legacy}\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	return &fleet{t: t, backend: lis.Addr().String(), config: func(c *configv1.Config) {
		c.Auth = &configv1.Auth{Providers: []*configv1.AuthProvider{{Name: "partners",
			Kind: &configv1.AuthProvider_ApiKey{ApiKey: &configv1.ApiKeyProvider{Header: "x-api-key", KeysFile: keys, Store: "redis"}}}}}
		c.Apis[0].Auth = &configv1.ApiAuth{Providers: []string{"partners"}}
		// A generous timeout: the test machine is busy; the default 50ms is
		// for production Redis.
		c.RateLimits = &configv1.RateLimits{Store: "redis", Redis: &configv1.Redis{Address: redisAddr, Timeout: durationpb.New(2 * time.Second)}}
		c.UsagePlans = []*configv1.UsagePlan{
			{Name: "gold", Rate: "100/h", Burst: 100, Quota: &configv1.Quota{Limit: 1000, Period: "month"}},
			{Name: "silver", Rate: "1000/h", Burst: 1000},
		}
	}}
}

// start starts one more replica.
func (f *fleet) start(name string) *replica {
	f.t.Helper()
	env := servertest.StartGateway(f.t, f.backend, servertest.Options{Config: f.config})
	return &replica{name: name, env: env, admin: adminv1.NewAdminClient(adminConn(f.t, env.Server))}
}

// restCode is the REST door's status for GET /v1/shelves/1 with key.
func (r *replica) restCode(t *testing.T, key string) int {
	t.Helper()
	req, _ := http.NewRequest(http.MethodGet, r.env.URL+"/v1/shelves/1", nil)
	req.Header.Set("X-Api-Key", key)
	resp, _ := do(t, req)
	return resp.StatusCode
}

// grpcOK reports whether GetShelf with key succeeds on the gRPC door.
func (r *replica) grpcOK(key string) bool {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	ctx = metadata.AppendToOutgoingContext(ctx, "x-api-key", key)
	_, err := bookstorev1.NewBookstoreServiceClient(r.env.Conn).GetShelf(ctx, &bookstorev1.GetShelfRequest{Shelf: 1})
	return err == nil
}

// within polls every replica until each accepts (200) or refuses (401,
// 403) key on the REST door, failing when one takes longer than limit; it returns the
// longest time taken.
func within(t *testing.T, limit time.Duration, what string, accepted bool, key string, rs ...*replica) time.Duration {
	t.Helper()
	start := time.Now()
	var slowest time.Duration
	for _, r := range rs {
		for !answers(r.restCode(t, key), accepted) {
			if time.Since(start) > limit {
				t.Fatalf("%s: replica %s not done after %v", what, r.name, limit)
			}
			time.Sleep(10 * time.Millisecond)
		}
		slowest = max(slowest, time.Since(start))
	}
	return slowest
}

// answers reports whether code is an acceptance (accepted) or a refusal
// of the key.
func answers(code int, accepted bool) bool {
	if accepted {
		return code == http.StatusOK
	}
	return code == http.StatusUnauthorized || code == http.StatusForbidden
}

// adminJSON calls a replica's admin API over REST with a JSON body ("":
// none; every call but a GET says Content-Type: application/json) and decodes a 200 answer into out; it returns the status and body.
func adminJSON(t *testing.T, r *replica, method, path, body string, out proto.Message) (int, string) {
	t.Helper()
	var req *http.Request
	if body == "" {
		req, _ = http.NewRequest(method, "http://"+r.env.Server.AdminAddr+path, nil)
	} else {
		req, _ = http.NewRequest(method, "http://"+r.env.Server.AdminAddr+path, strings.NewReader(body))
	}
	if method != http.MethodGet {
		req.Header.Set("Content-Type", "application/json") // the admin listener's guard wants it
	}
	if r.token != "" {
		req.Header.Set("Authorization", "Bearer "+r.token)
	}
	resp, b := do(t, req)
	if out != nil && resp.StatusCode == http.StatusOK {
		if err := protojson.Unmarshal(b, out); err != nil {
			t.Fatalf("%s %s: %s: %v", method, path, b, err)
		}
	}
	return resp.StatusCode, string(b)
}

// sha256Hex is the hex SHA-256 of s.
func sha256Hex(s string) string {
	sum := sha256.Sum256([]byte(s))
	return hex.EncodeToString(sum[:])
}
