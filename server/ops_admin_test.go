package server_test

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/portico-gw/portico/admin"
	"github.com/portico-gw/portico/config"
	"github.com/portico-gw/portico/examples/bookstore"
	bookstorev1 "github.com/portico-gw/portico/gen/example/bookstore/v1"
	adminv1 "github.com/portico-gw/portico/gen/portico/admin/v1"
	configv1 "github.com/portico-gw/portico/gen/portico/config/v1"
	"github.com/portico-gw/portico/server"
	"github.com/portico-gw/portico/server/servertest"
	"github.com/portico-gw/portico/snapshot"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/credentials/insecure"
	healthpb "google.golang.org/grpc/health/grpc_health_v1"
	"google.golang.org/grpc/metadata"
	reflectionv1 "google.golang.org/grpc/reflection/grpc_reflection_v1"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/encoding/protojson"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/durationpb"
)

// adminConn is a gRPC client of the admin listener (HTTP/2 without TLS).
func adminConn(t *testing.T, s *server.Server) *grpc.ClientConn {
	t.Helper()
	conn, err := grpc.NewClient(s.AdminAddr, grpc.WithTransportCredentials(insecure.NewCredentials()))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close() })
	return conn
}

// adminREST calls the admin API over REST and decodes its answer into out
// (nil: not decoded). It returns the status and the body.
func adminREST(t *testing.T, s *server.Server, method, path, token string, out proto.Message) (int, []byte) {
	t.Helper()
	var body io.Reader
	if method == http.MethodPost {
		body = strings.NewReader("{}")
	}
	req, err := http.NewRequest(method, "http://"+s.AdminAddr+path, body)
	if err != nil {
		t.Fatal(err)
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	resp, err := servertest.Client().Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	if out != nil && resp.StatusCode == http.StatusOK {
		if err := protojson.Unmarshal(b, out); err != nil {
			t.Fatalf("%s %s: %s: %v", method, path, b, err)
		}
	}
	return resp.StatusCode, b
}

func TestAdminOverRESTAndGRPC(t *testing.T) {
	env := servertest.Start(t, servertest.Options{})
	if code, _ := opsGet(t, env.URL+"/v1/shelves/1", nil); code != 200 {
		t.Fatalf("GET /v1/shelves/1: got %d", code)
	}
	var routes adminv1.ListRoutesResponse
	if code, body := adminREST(t, env.Server, http.MethodGet, "/v1/routes", "", &routes); code != 200 {
		t.Fatalf("GET /v1/routes: got %d %s", code, body)
	}
	var bindings int
	for _, m := range env.Server.Snapshot().Catalog().MethodList() {
		bindings += len(m.Bindings())
	}
	if len(routes.GetRoutes()) != bindings {
		t.Errorf("routes: got %d, want %d", len(routes.GetRoutes()), bindings)
	}
	client := adminv1.NewAdminClient(adminConn(t, env.Server))
	grpcRoutes, err := client.ListRoutes(context.Background(), &adminv1.ListRoutesRequest{})
	if err != nil {
		t.Fatal(err)
	}
	if !proto.Equal(grpcRoutes, &routes) {
		t.Errorf("routes over gRPC and over REST differ:\n%v\n%v", grpcRoutes, &routes)
	}
	var getShelf *adminv1.Route
	for _, r := range routes.GetRoutes() {
		if r.GetGrpcMethod() == "/example.bookstore.v1.BookstoreService/GetShelf" {
			getShelf = r
		}
	}
	if getShelf.GetHttpMethod() != "GET" || getShelf.GetPattern() != "/v1/shelves/{shelf}" || getShelf.GetIntegration() != "bookstore" {
		t.Errorf("GetShelf's route: got %v", getShelf)
	}

	apis, err := client.ListApis(context.Background(), &adminv1.ListApisRequest{})
	if err != nil {
		t.Fatal(err)
	}
	if len(apis.GetServices()) != 1 || apis.GetServices()[0].GetName() != "example.bookstore.v1.BookstoreService" ||
		apis.GetServices()[0].GetIntegration() != "bookstore" || len(apis.GetServices()[0].GetMethods()) != len(env.Server.Snapshot().Catalog().Methods()) {
		t.Errorf("ListApis: got %v", apis)
	}
	var ints adminv1.ListIntegrationsResponse
	adminREST(t, env.Server, http.MethodGet, "/v1/integrations", "", &ints)
	want := &adminv1.ListIntegrationsResponse{Integrations: []*adminv1.Integration{{
		Name: "bookstore", Kind: "grpc", Health: adminv1.Health_HEALTH_READY, State: "READY", Methods: int32(len(env.Server.Snapshot().Catalog().Methods())),
	}}}
	if !proto.Equal(&ints, want) {
		t.Errorf("integrations: got %v, want %v", &ints, want)
	}

	// grpcurl needs reflection; probes use health.
	rc, err := reflectionv1.NewServerReflectionClient(adminConn(t, env.Server)).ServerReflectionInfo(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if err := rc.Send(&reflectionv1.ServerReflectionRequest{MessageRequest: &reflectionv1.ServerReflectionRequest_ListServices{}}); err != nil {
		t.Fatal(err)
	}
	resp, err := rc.Recv()
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, s := range resp.GetListServicesResponse().GetService() {
		names = append(names, s.GetName())
	}
	if !opsContains(names, "portico.admin.v1.Admin") || opsContains(names, "example.bookstore.v1.BookstoreService") {
		t.Errorf("reflection on the admin port lists %v, want the admin API and not the gateway's APIs", names)
	}
	h, err := healthpb.NewHealthClient(adminConn(t, env.Server)).Check(context.Background(), &healthpb.HealthCheckRequest{})
	if err != nil || h.GetStatus() != healthpb.HealthCheckResponse_SERVING {
		t.Errorf("health on the admin port: got %v %v, want SERVING", h, err)
	}
}

func writeToken(t *testing.T, token string) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "admin.token")
	if err := os.WriteFile(path, []byte(token+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

func TestAdminToken(t *testing.T) {
	const token = "adm1n-t0ken"
	path := writeToken(t, token)
	env := servertest.Start(t, servertest.Options{Config: func(c *configv1.Config) {
		c.Admin = &configv1.Admin{TokenFile: path}
		c.Telemetry = &configv1.Telemetry{Metrics: &configv1.Metrics{Prometheus: true}}
	}})
	for _, tc := range []struct {
		path, token string
		want        int
	}{
		{"/v1/routes", "", 401},
		{"/v1/routes", "wrong", 401},
		{"/v1/routes", token, 200},
		{"/metrics", "", 401},
		{"/metrics", token, 200},
		{"/healthz", "", 200},
		{"/readyz", "", 200},
	} {
		req, _ := http.NewRequest(http.MethodGet, "http://"+env.Server.AdminAddr+tc.path, nil)
		if tc.token != "" {
			req.Header.Set("Authorization", "Bearer "+tc.token)
		}
		resp, err := servertest.Client().Do(req)
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != tc.want {
			t.Errorf("GET %s with token %q: got %d, want %d", tc.path, tc.token, resp.StatusCode, tc.want)
		}
		if tc.want == 401 {
			var e struct {
				Code int `json:"code"`
			}
			if err := json.Unmarshal(body, &e); err != nil || e.Code != int(codes.Unauthenticated) || resp.Header.Get("WWW-Authenticate") == "" {
				t.Errorf("GET %s refused: got %s WWW-Authenticate %q, want a JSON error with code 16 and a challenge", tc.path, body, resp.Header.Get("WWW-Authenticate"))
			}
		}
	}
	client := adminv1.NewAdminClient(adminConn(t, env.Server))
	if _, err := client.ListApis(context.Background(), &adminv1.ListApisRequest{}); status.Code(err) != codes.Unauthenticated {
		t.Errorf("gRPC without the token: got %v, want UNAUTHENTICATED", err)
	}
	ctx := metadata.AppendToOutgoingContext(context.Background(), "authorization", "Bearer "+token)
	if _, err := client.ListApis(ctx, &adminv1.ListApisRequest{}); err != nil {
		t.Errorf("gRPC with the token: %v", err)
	}
}

func TestAdminRefusesToStartBeyondLoopbackWithoutToken(t *testing.T) {
	cfg := servertest.BookstoreConfig("127.0.0.1:1")
	snap := opsBuild(t, cfg)
	_, err := server.New(snap, server.Listen{HTTP: "127.0.0.1:0", Admin: "0.0.0.0:0"}, nil)
	if err == nil || !strings.Contains(err.Error(), "admin.token_file") {
		t.Fatalf("admin on 0.0.0.0 without a token: got %v, want an error naming admin.token_file", err)
	}
	// The listeners it bound are released: the same config starts on
	// loopback.
	srv, err := server.New(snap, server.Listen{HTTP: "127.0.0.1:0", Admin: "127.0.0.1:0"}, nil)
	if err != nil {
		t.Fatalf("admin on loopback without a token: %v", err)
	}
	opsShutdown(t, srv)

	cfg.Admin = &configv1.Admin{TokenFile: writeToken(t, "x")}
	snap = opsBuild(t, cfg)
	srv, err = server.New(snap, server.Listen{HTTP: "127.0.0.1:0", Admin: "0.0.0.0:0"}, nil)
	if err != nil {
		t.Fatalf("admin on 0.0.0.0 with a token: %v", err)
	}
	opsShutdown(t, srv)
}

func TestAdminTokenFileErrors(t *testing.T) {
	empty := writeToken(t, "  ")
	for _, tc := range []struct{ file, want string }{
		{filepath.Join(t.TempDir(), "missing"), "no such file"},
		{empty, "empty"},
	} {
		cfg := servertest.BookstoreConfig("127.0.0.1:1")
		cfg.Admin = &configv1.Admin{TokenFile: tc.file}
		_, err := server.New(opsBuild(t, cfg), server.Listen{HTTP: "127.0.0.1:0", Admin: "127.0.0.1:0"}, nil)
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("token file %s: got %v, want an error about %q", tc.file, err, tc.want)
		}
	}
}

func TestAdminConfigRedactedAndHashed(t *testing.T) {
	const secret = "backend-s3cret"
	var cfg *configv1.Config
	env := servertest.Start(t, servertest.Options{Config: func(c *configv1.Config) {
		c.Apis[0].Request = &configv1.RequestMapping{SetMetadata: map[string]string{"authorization": "Bearer " + secret}}
		c.Telemetry = &configv1.Telemetry{Traces: &configv1.Traces{OtlpEndpoint: "127.0.0.1:1"}}
		c.Auth = &configv1.Auth{Providers: []*configv1.AuthProvider{{Name: "idp", Kind: &configv1.AuthProvider_Jwt{Jwt: &configv1.JwtProvider{
			Issuer: "https://idp.example.com", Audiences: []string{"portico"}, JwksUri: "https://user:" + secret + "@idp.example.com/jwks"}}}}}
		cfg = c
	}})
	var got adminv1.GetConfigResponse
	code, body := adminREST(t, env.Server, http.MethodGet, "/v1/config", "", &got)
	if code != 200 {
		t.Fatalf("GET /v1/config: got %d %s", code, body)
	}
	if strings.Contains(string(body), secret) {
		t.Errorf("the config shown holds a secret: %s", body)
	}
	wantRedacted := []string{`apis[0].request.set_metadata["authorization"]`, "auth.providers[0].jwt.jwks_uri"}
	if strings.Join(got.GetRedacted(), " ") != strings.Join(wantRedacted, " ") {
		t.Errorf("redacted: got %v, want %v", got.GetRedacted(), wantRedacted)
	}
	apis := got.GetConfig().GetFields()["apis"].GetListValue().GetValues()[0].GetStructValue()
	if v := apis.GetFields()["request"].GetStructValue().GetFields()["set_metadata"].GetStructValue().GetFields()["authorization"].GetStringValue(); v != admin.Redacted {
		t.Errorf("set_metadata.authorization: got %q, want %q", v, admin.Redacted)
	}
	if v := got.GetConfig().GetFields()["telemetry"].GetStructValue().GetFields()["traces"].GetStructValue().GetFields()["otlp_endpoint"].GetStringValue(); v != "127.0.0.1:1" {
		t.Errorf("telemetry.traces.otlp_endpoint (snake_case, as in the file): got %q", v)
	}
	want := config.Hash(cfg)
	if got.GetSha256() != want {
		t.Errorf("sha256: got %s, want %s", got.GetSha256(), want)
	}
}

func TestAdminReload(t *testing.T) {
	env := servertest.Start(t, servertest.Options{})
	code, body := adminREST(t, env.Server, http.MethodPost, "/v1/reload", "", nil)
	if code != 400 || !strings.Contains(string(body), "not available") {
		t.Errorf("reload without a way to rebuild: got %d %s, want 400 FAILED_PRECONDITION", code, body)
	}
	broken := true
	env.Server.SetRebuild(func(context.Context, *snapshot.Snapshot) (*snapshot.Snapshot, error) {
		cfg := servertest.BookstoreConfig(env.BackendAddr)
		cfg.Apis[0].DefaultBindings = true
		if broken {
			cfg.Apis[0].Integration = "bookstor"
		}
		return snapshot.Build(&config.File{Config: cfg, Dir: "."}, snapshot.Options{})
	})
	code, body = adminREST(t, env.Server, http.MethodPost, "/v1/reload", "", nil)
	if code != 400 || !strings.Contains(string(body), `apis[0].integration`) || !strings.Contains(string(body), `"code":9`) {
		t.Errorf("a reload that does not build: got %d %s, want 400 FAILED_PRECONDITION naming the problem", code, body)
	}
	if code, _ := opsGet(t, env.URL+"/v1/shelves/1", nil); code != 200 {
		t.Errorf("after a failed reload the running config stops serving: got %d", code)
	}
	broken = false
	var st adminv1.ReloadStatus
	if code, body := adminREST(t, env.Server, http.MethodPost, "/v1/reload", "", &st); code != 200 {
		t.Fatalf("reload: got %d %s", code, body)
	}
	if st.GetCount() != 2 || st.GetFailed() != 1 || st.GetError() != "" || st.GetAt() == nil {
		t.Errorf("reload status: got %v, want 2 tried, 1 failed, no error now", &st)
	}
	sum := config.Hash(env.Server.Snapshot().Config().Config)
	if st.GetConfigSha256() != sum {
		t.Errorf("config_sha256: got %s, want the new config's %s", st.GetConfigSha256(), sum)
	}
	var routes adminv1.ListRoutesResponse
	adminREST(t, env.Server, http.MethodGet, "/v1/routes", "", &routes)
	found := false
	for _, r := range routes.GetRoutes() {
		found = found || (r.GetDefaultBinding() && r.GetGrpcMethod() == "/example.bookstore.v1.BookstoreService/Reindex")
	}
	if !found {
		t.Errorf("after the reload, the routes do not list the default binding of Reindex")
	}
	var again adminv1.ReloadStatus
	adminREST(t, env.Server, http.MethodGet, "/v1/reload", "", &again)
	if !proto.Equal(&again, &st) {
		t.Errorf("GET /v1/reload: got %v, want %v", &again, &st)
	}
}

// TestAdminDrain: the drain is the SIGTERM drain: readiness first, the
// call in flight finishes (reported while it runs), then the gateway stops.
func TestAdminDrain(t *testing.T) {
	lis, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	arrived, release := make(chan struct{}), make(chan struct{})
	srv := grpc.NewServer(grpc.UnaryInterceptor(func(ctx context.Context, req any, info *grpc.UnaryServerInfo, h grpc.UnaryHandler) (any, error) {
		if strings.HasSuffix(info.FullMethod, "/GetShelf") {
			close(arrived)
			<-release
		}
		return h(ctx, req)
	}))
	bookstore.NewServer().Register(srv)
	go srv.Serve(lis)
	t.Cleanup(srv.Stop)
	env := servertest.StartGateway(t, lis.Addr().String(), servertest.Options{Config: func(c *configv1.Config) {
		c.Shutdown = &configv1.Shutdown{GracePeriod: durationpb.New(20 * time.Second)}
	}})

	done := make(chan error, 1)
	go func() {
		_, err := bookstorev1.NewBookstoreServiceClient(env.Conn).GetShelf(context.Background(), &bookstorev1.GetShelfRequest{Shelf: 1})
		done <- err
	}()
	<-arrived

	var st adminv1.DrainStatus
	if code, body := adminREST(t, env.Server, http.MethodPost, "/v1/drain", "", &st); code != 200 {
		t.Fatalf("POST /v1/drain: got %d %s", code, body)
	}
	if !st.GetDraining() || st.GetStarted() == nil || st.GetGracePeriod().AsDuration() != 20*time.Second || st.GetInFlightGrpc() != 1 {
		t.Errorf("drain status: got %v, want draining since now, grace 20s, 1 gRPC call in flight", &st)
	}
	if code, body := opsGet(t, "http://"+env.Server.AdminAddr+"/readyz", nil); code != http.StatusServiceUnavailable || !strings.Contains(string(body), "draining") {
		t.Errorf("/readyz while draining: got %d %s, want 503 draining", code, body)
	}
	var again adminv1.DrainStatus
	adminREST(t, env.Server, http.MethodGet, "/v1/drain", "", &again)
	if again.GetInFlightGrpc() != 1 {
		t.Errorf("GET /v1/drain: got %v, want the call still in flight", &again)
	}
	if code, _ := adminREST(t, env.Server, http.MethodPost, "/v1/drain", "", nil); code != 200 {
		t.Errorf("draining twice: got %d, want 200", code)
	}

	close(release)
	if err := <-done; err != nil {
		t.Errorf("the call in flight during the drain: got %v, want it to finish", err)
	}
	// The drain ends once the doors are done: Shutdown, called again,
	// returns when they are.
	opsShutdown(t, env.Server)
	if _, err := net.DialTimeout("tcp", env.Server.AdminAddr, time.Second); err == nil {
		t.Errorf("the admin listener still accepts connections after the drain")
	}
}

// adminAttackPage is a page of another site that tries to drain a
// gateway whose admin listener is at %[1]s, as a real one would: a no-cors
// fetch (the answer is opaque, but the request is sent) and an HTML form
// posted into a frame. Its title says when both were answered.
const adminAttackPage = `<!doctype html><title>loading</title>
<iframe name="sink"></iframe>
<form id="f" method="post" action="%[1]s/v1/drain" target="sink"><input name="a" value="b"></form>
<script>
fetch("%[1]s/v1/drain", {method: "POST", mode: "no-cors", credentials: "include", body: ""}).then(
  () => post("fetch answered"), e => post("fetch failed: " + e));
function post(fetched) {
  document.querySelector("iframe").addEventListener("load", () => { document.title = "done: " + fetched; });
  document.getElementById("f").submit();
}
</script>`

// TestAdminFromAWebPageInChromium: a page on another site, opened in a
// real browser on the gateway's machine, cannot drain the gateway through
// its loopback admin listener (no token set).
func TestAdminFromAWebPageInChromium(t *testing.T) {
	env := servertest.Start(t, servertest.Options{})
	evil := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/html")
		fmt.Fprintf(w, adminAttackPage, "http://"+env.Server.AdminAddr)
	}))
	t.Cleanup(evil.Close)
	_, port, _ := net.SplitHostPort(evil.Listener.Addr().String())
	ctx, _ := startBrowser(t)
	sctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	// localhost and 127.0.0.1 are different sites.
	if err := chromedp.Do(sctx, chromedp.Navigate("http://localhost:"+port+"/"),
		chromedp.Poll[chromedp.Void](`document.title.startsWith("done")`, chromedp.WithPollingTimeout(20*time.Second))); err != nil {
		t.Fatalf("the page did not finish: %v", err)
	}
	title, err := chromedp.Run(ctx, chromedp.Evaluate[string](`document.title`))
	if err != nil {
		t.Fatal(err)
	}
	if title != "done: fetch answered" {
		t.Fatalf("page: got %q, want both requests sent and answered", title)
	}
	if env.Server.Draining() {
		t.Errorf("a web page drained the gateway through its admin listener")
	}
}
