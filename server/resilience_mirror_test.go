package server_test

// Shadow traffic (apis[].methods[].mirror) seen from the doors: copies
// of a share of a method's calls reach the mirror integration — a real
// HTTP backend — with the call's body, request ID and the shadow mark,
// and nothing the mirror does (answer, fail, hang) changes or delays the
// client's answer.

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/portico-gw/portico/auth/apikey"
	"github.com/portico-gw/portico/auth/authtest"
	"github.com/portico-gw/portico/config"
	bookstorev1 "github.com/portico-gw/portico/gen/example/bookstore/v1"
	configv1 "github.com/portico-gw/portico/gen/portico/config/v1"
	"github.com/portico-gw/portico/server/servertest"
	"github.com/portico-gw/portico/snapshot"
	"google.golang.org/grpc"
	"google.golang.org/grpc/metadata"
	"google.golang.org/protobuf/types/known/durationpb"
)

const createShelf = "example.bookstore.v1.BookstoreService.CreateShelf"

// mirroredBookstore is the bookstore (grpc) with CreateShelf mirrored to
// an http integration "shadow" at the replica's URL.
func mirroredBookstore(t *testing.T, shadow *restShelves, m *configv1.Mirror, timeout time.Duration) *servertest.Env {
	return servertest.Start(t, servertest.Options{Config: func(c *configv1.Config) {
		c.Telemetry = &configv1.Telemetry{Metrics: &configv1.Metrics{Prometheus: true}}
		c.Integrations = append(c.Integrations, &configv1.Integration{Name: "shadow", Kind: &configv1.Integration_Http{Http: &configv1.HttpIntegration{
			Url: shadow.url, Timeout: durationpb.New(timeout)}}})
		m.Integration = "shadow"
		c.Apis[0].Methods = []*configv1.MethodPolicy{{Selector: createShelf, Mirror: m}}
	}})
}

// mirrorCount is portico_mirror_total{integration="shadow",outcome}.
func mirrorCount(t *testing.T, env *servertest.Env, outcome string) float64 {
	families, text := scrape(t, env.Server)
	if !strings.Contains(text, "portico_mirror_total") {
		return 0
	}
	for _, m := range families["portico_mirror_total"].GetMetric() {
		labels := map[string]string{}
		for _, l := range m.GetLabel() {
			labels[l.GetName()] = l.GetValue()
		}
		if labels["integration"] == "shadow" && labels["outcome"] == outcome {
			return m.GetCounter().GetValue()
		}
	}
	return 0
}

// TestMirrorCopiesArrive: at 100%, every CreateShelf on both doors is
// copied to the mirror with the same body, the call's request ID and
// x-portico-shadow: 1; the mirror's headers never reach the client.
func TestMirrorCopiesArrive(t *testing.T) {
	shadow := startShelves(t, "shadow")
	env := mirroredBookstore(t, shadow, &configv1.Mirror{Percent: 100}, 5*time.Second)
	ids := map[string]bool{}
	for range 3 {
		resp, body := post(t, env.URL+"/v1/shelves", `{"theme":"poetry"}`)
		if resp.StatusCode != http.StatusOK || !strings.Contains(string(body), `"theme":"poetry"`) {
			t.Fatalf("REST CreateShelf: got %d %s", resp.StatusCode, truncate(body))
		}
		if resp.Header.Get("X-Replica") != "" {
			t.Errorf("REST answer carries the mirror's X-Replica header")
		}
		ids[resp.Header.Get("X-Request-Id")] = true
	}
	client := bookstorev1.NewBookstoreServiceClient(env.Conn)
	for range 3 {
		var hdr metadata.MD
		if _, err := client.CreateShelf(ctxT(t), &bookstorev1.CreateShelfRequest{Shelf: &bookstorev1.Shelf{Theme: "poetry"}}, grpc.Header(&hdr)); err != nil {
			t.Fatal(err)
		}
		if len(hdr.Get("x-replica")) > 0 {
			t.Errorf("gRPC answer carries the mirror's x-replica header")
		}
		ids[strings.Join(hdr.Get("x-request-id"), ",")] = true
	}
	eventually(t, "6 copies at the mirror", func() bool { return shadow.hits.Load() == 6 })
	for _, r := range shadow.requests() {
		if r.method != http.MethodPost || r.path != "/api/v1/shelves" || !strings.Contains(r.body, `"theme":"poetry"`) {
			t.Errorf("copy: got %s %s %s, want POST /api/v1/shelves with the shelf", r.method, r.path, r.body)
		}
		if got := r.header.Get("X-Portico-Shadow"); got != "1" {
			t.Errorf("copy: x-portico-shadow %q, want 1", got)
		}
		if id := r.header.Get("X-Request-Id"); id == "" || !ids[id] {
			t.Errorf("copy: request ID %q, want one of the calls' %v", id, ids)
		}
	}
	if got := env.Backend.Calls(); got != 6 {
		t.Errorf("the real backend: got %d calls, want 6", got)
	}
	eventually(t, "6 copies counted ok", func() bool { return mirrorCount(t, env, "ok") == 6 })
}

// TestMirrorPercent: percent 10 copies 10 of 100 calls (the sampler is
// deterministic), the others are not sent.
func TestMirrorPercent(t *testing.T) {
	shadow := startShelves(t, "shadow")
	env := mirroredBookstore(t, shadow, &configv1.Mirror{Percent: 10}, 5*time.Second)
	client := bookstorev1.NewBookstoreServiceClient(env.Conn)
	for range 100 {
		if _, err := client.CreateShelf(ctxT(t), &bookstorev1.CreateShelfRequest{Shelf: &bookstorev1.Shelf{Theme: "x"}}); err != nil {
			t.Fatal(err)
		}
	}
	eventually(t, "10 copies counted", func() bool { return mirrorCount(t, env, "ok") == 10 })
	if got := shadow.hits.Load(); got != 10 {
		t.Errorf("copies at the mirror: got %d, want 10 of 100", got)
	}
}

// TestMirrorHangsOrFails: a mirror that never answers, then one that
// answers 500, changes nothing for the client: every answer is the
// backend's, none waits for the copy (each well under the copy's 2s
// deadline); copies past max_in_flight are dropped and counted, the
// hung ones end at their deadline and count as errors.
func TestMirrorHangsOrFails(t *testing.T) {
	shadow := startShelves(t, "shadow")
	shadow.hang = make(chan struct{}) // set before the server serves; closed once to stop hanging
	var release sync.Once
	stopHanging := func() { release.Do(func() { close(shadow.hang) }) }
	t.Cleanup(stopHanging)
	env := mirroredBookstore(t, shadow, &configv1.Mirror{Percent: 100, MaxInFlight: 2}, 2*time.Second)
	const calls = 20
	for k := range calls {
		start := time.Now()
		resp, body := post(t, env.URL+"/v1/shelves", `{"theme":"hung"}`)
		if d := time.Since(start); d > time.Second {
			t.Errorf("call %d with the mirror hung: took %v, want no wait for the copy (2s)", k, d)
		}
		if resp.StatusCode != http.StatusOK || !strings.Contains(string(body), `"theme":"hung"`) {
			t.Errorf("call %d with the mirror hung: got %d %s, want the backend's answer", k, resp.StatusCode, truncate(body))
		}
	}
	eventually(t, "every copy sent or dropped, and done", func() bool {
		return mirrorCount(t, env, "dropped")+mirrorCount(t, env, "error") == calls
	})
	if got := mirrorCount(t, env, "dropped"); got < calls/2 {
		t.Errorf("dropped copies: got %v, want most of %d (2 in flight at most, each hung 2s)", got, calls)
	}
	if got := int(mirrorCount(t, env, "error")); int64(got) != shadow.hits.Load() {
		t.Errorf("copies that reached the hung mirror: %d counted as errors, %d arrived; want the same", got, shadow.hits.Load())
	}

	stopHanging()
	shadow.code.Store(http.StatusInternalServerError)
	before := mirrorCount(t, env, "error")
	for range 2 {
		resp, body := post(t, env.URL+"/v1/shelves", `{"theme":"fails"}`)
		if resp.StatusCode != http.StatusOK || !strings.Contains(string(body), `"theme":"fails"`) {
			t.Errorf("mirror failing: got %d %s, want the backend's answer", resp.StatusCode, truncate(body))
		}
	}
	eventually(t, "2 failed copies counted", func() bool { return mirrorCount(t, env, "error") == before+2 })
}

// TestMirrorBuildErrors: a mirror to an integration that does not exist
// or cannot serve the method, to the method's own integration, or of a
// streaming method is a config error at its key.
func TestMirrorBuildErrors(t *testing.T) {
	for _, tc := range []struct {
		selector, integration, want string
	}{
		{createShelf, "nope", `no integration "nope"`},
		{createShelf, "bookstore", "the method's own integration"},
		{"example.bookstore.v1.BookstoreService.Reindex", "shadow", "cannot serve"},
		{"example.bookstore.v1.BookstoreService.WatchBooks", "shadow", "unary calls only"},
	} {
		cfg := servertest.BookstoreConfig("127.0.0.1:1")
		cfg.Integrations = append(cfg.Integrations, &configv1.Integration{Name: "shadow", Kind: &configv1.Integration_Http{Http: &configv1.HttpIntegration{Url: "http://127.0.0.1:1"}}})
		cfg.Apis[0].Methods = []*configv1.MethodPolicy{{Selector: tc.selector, Mirror: &configv1.Mirror{Integration: tc.integration, Percent: 5}}}
		_, err := snapshot.Build(&config.File{Config: cfg, Dir: "."}, snapshot.Options{Check: true, Context: context.Background()})
		var errs config.Errors
		if !errors.As(err, &errs) {
			t.Errorf("%s → %s: got %v, want config errors", tc.selector, tc.integration, err)
			continue
		}
		found := false
		for _, e := range errs {
			if e.Field == "apis[0].methods[0].mirror.integration" && strings.Contains(e.Message, tc.want) {
				found = true
			}
		}
		if !found {
			t.Errorf("%s → %s: got %v, want apis[0].methods[0].mirror.integration: …%s…", tc.selector, tc.integration, errs, tc.want)
		}
	}
}

// TestMirrorWithholdsCredentials: the copy of an API-key-authenticated
// call carries what the real backend gets — the principal, not the key —
// on the gRPC door, which forwards the client's metadata.
func TestMirrorWithholdsCredentials(t *testing.T) {
	shadow := startShelves(t, "shadow")
	keys := authtest.WriteFile(t, t.TempDir(), "keys.yaml", []byte(fmt.Sprintf("- {id: partner-1, sha256: %s, principal: acme}\n", apikey.Hash("s3cret-one"))))
	e := startAuth(t, func(c *configv1.Config, _ *authtest.Issuer) {
		c.Auth.Providers = append(c.Auth.Providers, &configv1.AuthProvider{Name: "partners", Kind: &configv1.AuthProvider_ApiKey{ApiKey: &configv1.ApiKeyProvider{KeysFile: keys}}})
		c.Apis[0].Auth.Providers = []string{"partners"}
		c.Integrations = append(c.Integrations, &configv1.Integration{Name: "shadow", Kind: &configv1.Integration_Http{Http: &configv1.HttpIntegration{Url: shadow.url}}})
		c.Apis[0].Methods = []*configv1.MethodPolicy{{Selector: createShelf, Mirror: &configv1.Mirror{Integration: "shadow", Percent: 100}}}
	})
	ctx := metadata.AppendToOutgoingContext(ctxT(t), "x-api-key", "s3cret-one")
	if _, err := bookstorev1.NewBookstoreServiceClient(e.Conn).CreateShelf(ctx, &bookstorev1.CreateShelfRequest{Shelf: &bookstorev1.Shelf{Theme: "keyed"}}); err != nil {
		t.Fatal(err)
	}
	if got := e.rec.lastMD().Get("x-api-key"); len(got) != 0 {
		t.Fatalf("the real backend got the key %q", got)
	}
	eventually(t, "the copy at the mirror", func() bool { return shadow.hits.Load() == 1 })
	h := shadow.requests()[0].header
	if got := h.Values("X-Api-Key"); len(got) != 0 {
		t.Errorf("copy: got the API key %q, want it withheld as from the real backend", got)
	}
	if got := h.Get("X-Portico-Principal"); got != "acme" {
		t.Errorf("copy: principal %q, want acme (as the real backend gets it)", got)
	}
}
