package server_test

// One test per finding of issue 14's operator-correctness and
// grpc-gateway-parity items ("The edge holds"), named for it. (The
// hardening findings are in the other regress_*_test.go files.)

import (
	"bytes"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/portico-gw/portico/config"
	messagingv1 "github.com/portico-gw/portico/gen/example/messaging/v1"
	configv1 "github.com/portico-gw/portico/gen/portico/config/v1"
	"github.com/portico-gw/portico/pool"
	"github.com/portico-gw/portico/server/servertest"
	"github.com/portico-gw/portico/snapshot"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
)

// TestRegressReflectionDescribesErrorDetails: the gateway sends
// google.rpc error details (a BadRequest for a request that fails
// validation, QuotaFailure and RetryInfo when a rate limit refuses), but
// server reflection did not describe google/rpc/error_details.proto, so
// grpcurl printed the detail as undecodable bytes.
func TestRegressReflectionDescribesErrorDetails(t *testing.T) {
	grpcurl := buildGRPCurl(t)
	env := servertest.Start(t, servertest.Options{})
	var out bytes.Buffer
	cmd := exec.Command(grpcurl, "-plaintext", "-max-time", "10", "-d", `{"shelf": 0}`,
		env.Server.GRPCAddr, "example.bookstore.v1.BookstoreService/GetShelf")
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Run(); err == nil {
		t.Fatalf("grpcurl GetShelf with shelf 0: got success, want InvalidArgument\n%s", out.String())
	}
	got := out.String()
	for _, want := range []string{"Code: InvalidArgument", `"@type": "type.googleapis.com/google.rpc.BadRequest"`, `"fieldViolations"`, `"field": "shelf"`} {
		if !strings.Contains(got, want) {
			t.Errorf("grpcurl's error output lacks %s; got\n%s", want, got)
		}
	}
}

// TestRegressMockWithoutSomeResponses: a mock integration with no
// response for some methods of its API was a config error, so an API
// could not be mocked one method at a time. Now those methods answer
// UNIMPLEMENTED (501 on the REST door) and the snapshot warns, naming
// them; the others answer from the config.
func TestRegressMockWithoutSomeResponses(t *testing.T) {
	responses := []*configv1.MockResponse{{Selector: messaging + ".GetMessage", Json: `{"name": "rooms/mock/messages/1"}`}}
	cfg := servertest.BookstoreConfig("127.0.0.1:1")
	mockConfig(responses...)(cfg)
	snap, err := snapshot.Build(&config.File{Config: cfg, Dir: t.TempDir()}, snapshot.Options{})
	if err != nil {
		t.Fatalf("Build: got %v, want no error", err)
	}
	t.Cleanup(func() { snap.Close() })
	var warned []string
	for _, w := range snap.Warnings() {
		if w.Field == "integrations[0].mock" {
			warned = append(warned, w.Message)
		}
	}
	if len(warned) != 1 {
		t.Fatalf("got warnings %v at integrations[0].mock, want one", snap.Warnings())
	}
	for _, want := range []string{messaging + ".GetFile", messaging + ".CancelOperation", "UNIMPLEMENTED"} {
		if !strings.Contains(warned[0], want) {
			t.Errorf("warning %q does not name %s", warned[0], want)
		}
	}
	if strings.Contains(warned[0], messaging+".GetMessage,") || strings.HasSuffix(warned[0], messaging+".GetMessage") {
		t.Errorf("warning %q names GetMessage, which has a response", warned[0])
	}

	env := servertest.StartGateway(t, "127.0.0.1:1", servertest.Options{Config: mockConfig(responses...)})
	if code, body := restGet(t, env.URL+"/v1/rooms/a/messages/b"); code != http.StatusOK || !strings.Contains(string(body), "rooms/mock/messages/1") {
		t.Errorf("REST GetMessage: got %d %s, want 200 and the mock's message", code, body)
	}
	if code, body := restGet(t, env.URL+"/v1/files/x"); code != http.StatusNotImplemented || !strings.Contains(string(body), `"code":12`) {
		t.Errorf("REST GetFile (no response): got %d %s, want 501 with code 12", code, body)
	}
	c := messagingv1.NewMessagingServiceClient(env.Conn)
	if _, err := c.GetFile(ctxT(t), &messagingv1.GetFileRequest{Path: "x"}); status.Code(err) != codes.Unimplemented {
		t.Errorf("gRPC GetFile (no response): got %v, want Unimplemented", err)
	}
	if got, err := c.GetMessage(ctxT(t), &messagingv1.GetMessageRequest{Name: "x"}); err != nil || got.GetName() != "rooms/mock/messages/1" {
		t.Errorf("gRPC GetMessage: got %v, %v, want the mock's message", got, err)
	}
}

// dialCounter accepts TCP connections on a loopback :0 port, counts
// them and closes them at once: it tells whether anything dialled it.
func dialCounter(t *testing.T) (addr string, accepted *atomic.Int64) {
	t.Helper()
	lis, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { lis.Close() })
	accepted = new(atomic.Int64)
	go func() {
		for {
			c, err := lis.Accept()
			if err != nil {
				return
			}
			accepted.Add(1)
			c.Close()
		}
	}()
	return lis.Addr().String(), accepted
}

// TestRegressCheckBuildOpensNothing: a check-only build (portico
// validate, portico routes) opened what a running gateway owns or serves
// with: the quota state file (which the running gateway holds: "in use by
// another process"), a JWKS cache that fetches, and a discover: true
// integration's backend (dialled for its reflection). With
// BuildOptions.Check it opens none of them, and says which APIs it could
// not check without the backend's descriptors.
func TestRegressCheckBuildOpensNothing(t *testing.T) {
	backend, dialled := dialCounter(t)
	var fetched atomic.Int64
	idp := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		fetched.Add(1)
		http.Error(w, "no keys", http.StatusNotFound)
	}))
	t.Cleanup(idp.Close)
	stateDir := filepath.Join(t.TempDir(), "state")

	cfg := servertest.BookstoreConfig(backend)
	cfg.Integrations = append(cfg.Integrations, &configv1.Integration{Name: "billing",
		Kind: &configv1.Integration_Grpc{Grpc: &configv1.GrpcIntegration{Target: backend, Discover: true}}})
	cfg.Apis = append(cfg.Apis, &configv1.Api{Services: []string{"acme.billing.v1.Invoices"}, Integration: "billing"})
	cfg.Auth = &configv1.Auth{Providers: []*configv1.AuthProvider{{Name: "corp", Kind: &configv1.AuthProvider_Jwt{Jwt: &configv1.JwtProvider{
		Issuer: idp.URL, Audiences: []string{"portico"}, JwksUri: idp.URL + "/jwks"}}}}}
	cfg.Apis[0].Auth = &configv1.ApiAuth{Providers: []string{"corp"}}
	cfg.RateLimits = &configv1.RateLimits{StateDir: stateDir}
	cfg.UsagePlans = []*configv1.UsagePlan{{Name: "gold", Rate: "10/s", Quota: &configv1.Quota{Limit: 100, Period: "day"}}}

	states := pool.New()
	snap, err := snapshot.Build(&config.File{Config: cfg, Dir: t.TempDir()}, snapshot.Options{Check: true, Pool: states})
	if err != nil {
		t.Fatalf("Build(Check): got %v, want no error", err)
	}
	var unchecked []string
	for _, u := range snap.Unchecked() {
		unchecked = append(unchecked, u.Field+": "+u.Message)
	}
	states.Each(func(key string, _ any) {
		if strings.HasPrefix(key, "auth/jwks") || strings.HasPrefix(key, "ratelimit/local|"+stateDir) {
			t.Errorf("the check acquired %q from the pool, want nothing a gateway serves with", key)
		}
	})
	if err := snap.Close(); err != nil {
		t.Errorf("Close: %v", err)
	}
	if _, err := os.Stat(stateDir); !os.IsNotExist(err) {
		t.Errorf("state_dir after the check: got %v, want it not created", err)
	}
	if n := dialled.Load(); n != 0 {
		t.Errorf("the backend was dialled %d times, want 0", n)
	}
	if n := fetched.Load(); n != 0 {
		t.Errorf("the JWKS was fetched %d times, want 0", n)
	}
	if len(unchecked) != 1 || !strings.HasPrefix(unchecked[0], "integrations[1].grpc.discover: ") || !strings.Contains(unchecked[0], "acme.billing.v1.Invoices") {
		t.Errorf("Unchecked: got %q, want the billing API, at integrations[1].grpc.discover", unchecked)
	}
}

// TestRegressGRPCGatewayGeneratedClients: the Go clients grpc-gateway
// generates from its examples' OpenAPI documents work against Portico as
// against grpc-gateway. ABitOfEverythingService.Create failed with "json:
// cannot unmarshal object into Go value of type string": the client sends
// the path parameter "strprefix/foo" of {string_value=strprefix/*}
// escaped (strprefix%2Ffoo), which grpc-gateway's default matches as two
// segments and Portico did not match at all; its 404 error body (an
// object, in both gateways) met the spec's declared 404 schema (a string).
// The field was never a field: it was the route.
func TestRegressGRPCGatewayGeneratedClients(t *testing.T) {
	harness := buildGGHarness(t)
	servers := startGGExamples(t, harness)
	portico := startPorticoForGGExamples(t, servers.GRPC)
	for _, gw := range []struct{ name, url string }{{"grpc-gateway", servers.Gateway}, {"Portico", portico.URL}} {
		out, err := exec.Command(harness, "clients", gw.url).CombinedOutput()
		if err != nil {
			t.Fatalf("the clients against %s: %v\n%s", gw.name, err, out)
		}
		lines := strings.Split(strings.TrimSpace(string(out)), "\n")
		if len(lines) != 6 {
			t.Errorf("the clients against %s: got %d results, want 6:\n%s", gw.name, len(lines), out)
		}
		for _, l := range lines {
			if !strings.HasSuffix(l, " ok") {
				t.Errorf("the generated client against %s: got %q, want ok", gw.name, l)
			}
		}
	}
}
