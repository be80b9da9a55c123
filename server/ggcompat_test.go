package server_test

// The grpc-gateway compatibility test: Portico serves grpc-gateway's own
// example APIs (examples/internal/proto/examplepb in the grpc-gateway
// module, compiled from their .proto sources) exactly as grpc-gateway's
// example gateway is generated — with standalone_echo_service.yaml as
// http_rules, the rules its UnannotatedEchoService handler is generated
// from (examples/internal/proto/examplepb/standalone_echo_service.buf.gen.yaml)
// — and with the eight services that gateway registers, in its order, in
// front of a generic backend that knows the APIs only from the same .proto
// files. (ggintegration_test.go runs grpc-gateway's integration scenarios
// against the real example backend.)
//
// Nothing of grpc-gateway's is copied here: the .proto files are read from
// the module cache, where `go test` put them.

import (
	"encoding/json"
	"io"
	"net/http"
	"os/exec"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/portico-gw/portico/catalog"
	"github.com/portico-gw/portico/config"
	configv1 "github.com/portico-gw/portico/gen/portico/config/v1"
	"github.com/portico-gw/portico/server/servertest"
	"github.com/portico-gw/portico/snapshot"
)

const examplePkg = "grpc.gateway.examples.internal.proto.examplepb."

// exampleServices are the services grpc-gateway's example gateway
// (examples/internal/gateway/gateway.go) registers, in its order.
var exampleServices = []string{
	examplePkg + "EchoService",
	examplePkg + "UnannotatedEchoService",
	examplePkg + "StreamService",
	examplePkg + "ABitOfEverythingService",
	examplePkg + "FlowCombination",
	examplePkg + "ExcessBodyService",
	examplePkg + "NonStandardService",
	examplePkg + "ResponseBodyService",
}

// ggExamples locates the example APIs in the module cache.
type ggExamples struct {
	module   string // the grpc-gateway module's folder: the proto path
	protos   string // examples/internal/proto/examplepb
	rulesYML string // standalone_echo_service.yaml: what the example gateway is generated from
	// unannotatedYML binds UnannotatedEchoService on EchoService's own
	// /v1 paths (the rules grpc-gateway's OpenAPI examples use): a real
	// file full of route conflicts.
	unannotatedYML string
}

func findExamples(t *testing.T) ggExamples {
	t.Helper()
	out, err := exec.Command("go", "list", "-m", "-f", "{{.Dir}}", "github.com/grpc-ecosystem/grpc-gateway/v2").Output()
	if err != nil {
		t.Fatalf("go list -m github.com/grpc-ecosystem/grpc-gateway/v2: %v", err)
	}
	mod := strings.TrimSpace(string(out))
	if mod == "" {
		t.Fatal("the grpc-gateway module is not in the module cache (go mod download github.com/grpc-ecosystem/grpc-gateway/v2)")
	}
	protos := filepath.Join(mod, "examples", "internal", "proto", "examplepb")
	return ggExamples{module: mod, protos: protos, rulesYML: filepath.Join(protos, "standalone_echo_service.yaml"),
		unannotatedYML: filepath.Join(protos, "unannotated_echo_service.yaml")}
}

// TestGRPCGatewayExamplesRepeatedPathVariables: GetRepeatedQuery binds
// sixteen repeated fields to path variables, each segment holding its
// values separated by commas, as grpc-gateway's generated code splits
// them; served as annotated (this was the last rule of the example set
// Portico refused).
func TestGRPCGatewayExamplesRepeatedPathVariables(t *testing.T) {
	g := findExamples(t)
	target := startExamplesBackend(t, g)
	env := servertest.StartGateway(t, target, servertest.Options{Config: func(c *configv1.Config) {
		g.config(c, target, exampleServices)
	}})
	path := "/v1/example/a_bit_of_everything_repeated/1.5,2.5/3.25/-4,5/6/7,8,9/10/11/true,false/a,b%2Cc/" +
		"AQI=,AwQ=/12/ONE,ZERO/-13/14/-15/16"
	resp, body := get(t, env.URL+path)
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("GET %s: got %d %s", path, resp.StatusCode, body)
	}
	checkJSONSubset(t, body, `{"pathRepeatedFloatValue":[1.5,2.5],"pathRepeatedDoubleValue":[3.25],`+
		`"pathRepeatedInt64Value":["-4","5"],"pathRepeatedInt32Value":[7,8,9],"pathRepeatedBoolValue":[true,false],`+
		`"pathRepeatedStringValue":["a","b,c"],"pathRepeatedBytesValue":["AQI=","AwQ="],"pathRepeatedEnumValue":["ONE","ZERO"],`+
		`"pathRepeatedSint64Value":["16"]}`)
	if resp, body := get(t, env.URL+"/v1/example/a_bit_of_everything_repeated/1,x/3/4/6/7/10/11/true/a/AQI=/12/ONE/-13/14/-15/16"); resp.StatusCode != http.StatusBadRequest {
		t.Errorf("a bad value in a list: got %d %s, want 400", resp.StatusCode, body)
	}
}

// config points Portico at the examples, with services exposed in order
// through one integration at target.
func (g ggExamples) config(c *configv1.Config, target string, services []string) {
	g.configAsIs(c, target, services)
}

// configAsIs is config without repeatedPathRule.
func (g ggExamples) configAsIs(c *configv1.Config, target string, services []string) {
	c.Integrations[0].Name = "examples"
	c.Integrations[0].GetGrpc().Target = target
	c.Descriptors = []string{g.protos}
	c.ProtoPaths = []string{g.module}
	c.HttpRules = []string{g.rulesYML}
	c.Apis = nil
	for _, s := range services {
		c.Apis = append(c.Apis, &configv1.Api{Services: []string{s}, Integration: "examples"})
	}
}

// startExamplesBackend compiles the examples for the backend's own use and
// serves them with a servertest.Mirror.
func startExamplesBackend(t *testing.T, g ggExamples) string {
	t.Helper()
	files, err := catalog.LoadSources("", []string{g.protos}, []string{g.module})
	if err != nil {
		t.Fatalf("LoadSources for the backend: %v", err)
	}
	return servertest.StartMirror(t, files).Addr
}

// TestGRPCGatewayExamplesBuild: the example set builds as the example
// gateway is generated, with no warning: the standalone rules bind
// UnannotatedEchoService under /v2, beside EchoService's /v1.
func TestGRPCGatewayExamplesBuild(t *testing.T) {
	g := findExamples(t)
	cfg := servertest.BookstoreConfig("127.0.0.1:1")
	g.config(cfg, "127.0.0.1:1", exampleServices)
	for _, a := range cfg.Apis {
		a.Auth = &configv1.ApiAuth{Public: true}
	}
	cfg.StrictRoutes = true
	snap, err := snapshot.Build(&config.File{Config: cfg, Dir: t.TempDir()}, snapshot.Options{})
	if err != nil {
		t.Fatalf("Build: %v", err)
	}
	defer snap.Close()
	if got := len(snap.Catalog().Services()); got != len(exampleServices) {
		t.Errorf("got %d services, want %d", got, len(exampleServices))
	}
	for _, w := range snap.Warnings() {
		t.Errorf("unexpected warning: %v", w)
	}
}

// TestGRPCGatewayExamplesConflicts: with unannotated_echo_service.yaml
// instead, whose rules bind UnannotatedEchoService on EchoService's own
// paths, the example set builds with the conflicts resolved and reported
// as warnings (UnannotatedEchoService, registered later, wins), and
// strict_routes turns them into errors.
func TestGRPCGatewayExamplesConflicts(t *testing.T) {
	g := findExamples(t)
	g.rulesYML = g.unannotatedYML
	cfg := servertest.BookstoreConfig("127.0.0.1:1")
	g.config(cfg, "127.0.0.1:1", exampleServices)
	snap, err := snapshot.Build(&config.File{Config: cfg, Dir: t.TempDir()}, snapshot.Options{})
	if err != nil {
		t.Fatalf("Build: %v", err)
	}
	defer snap.Close()
	if got := len(snap.Catalog().Services()); got != len(exampleServices) {
		t.Errorf("got %d services, want %d", got, len(exampleServices))
	}
	var conflicts []string
	for _, w := range snap.Catalog().Warnings() {
		if !strings.Contains(w.Message, "are the same route") {
			t.Errorf("unexpected warning: %v", w)
			continue
		}
		conflicts = append(conflicts, w.Message)
	}
	// Echo POST /v1/example/echo/{id} and GET .../{id}/{num}, EchoBody
	// POST /v1/example/echo_body, EchoDelete DELETE /v1/example/echo_delete.
	for _, want := range []string{
		"POST /v1/example/echo/{id} of method " + examplePkg + "UnannotatedEchoService.Echo (rules file " + g.rulesYML + ":6:5)",
		"GET /v1/example/echo/{id}/{num} of method " + examplePkg + "UnannotatedEchoService.Echo (rules file " + g.rulesYML + ":9:7)",
		"POST /v1/example/echo_body of method " + examplePkg + "UnannotatedEchoService.EchoBody (rules file " + g.rulesYML + ":10:5) " +
			"and POST /v1/example/echo_body of method " + examplePkg + "EchoService.EchoBody (google.api.http annotation at examples/internal/proto/examplepb/echo_service.proto:96:5)",
		"DELETE /v1/example/echo_delete of method " + examplePkg + "UnannotatedEchoService.EchoDelete",
	} {
		found := false
		for _, c := range conflicts {
			found = found || strings.Contains(c, want)
		}
		if !found {
			t.Errorf("no warning contains %q; got\n%s", want, strings.Join(conflicts, "\n"))
		}
	}
	if len(conflicts) != 4 {
		t.Errorf("got %d conflicts, want 4:\n%s", len(conflicts), strings.Join(conflicts, "\n"))
	}

	cfg.StrictRoutes = true
	if snap, err := snapshot.Build(&config.File{Config: cfg, Dir: t.TempDir()}, snapshot.Options{}); err == nil {
		snap.Close()
		t.Error("strict_routes: got no error, want the conflicts")
	} else if !strings.Contains(err.Error(), "UnannotatedEchoService.EchoBody") || !strings.Contains(err.Error(), "strict_routes") {
		t.Errorf("strict_routes: got %v, want the echo_body conflict", err)
	}
}

// TestGRPCGatewayExamplesRulesForServiceNotExposed: the rules file names
// UnannotatedEchoService; without that service exposed its rules are
// ignored with a warning each (grpc-gateway's generator would simply not
// generate them), an error with strict_routes.
func TestGRPCGatewayExamplesRulesForServiceNotExposed(t *testing.T) {
	g := findExamples(t)
	cfg := servertest.BookstoreConfig("127.0.0.1:1")
	var services []string
	for _, s := range exampleServices {
		if !strings.HasSuffix(s, ".UnannotatedEchoService") {
			services = append(services, s)
		}
	}
	g.config(cfg, "127.0.0.1:1", services)
	snap, err := snapshot.Build(&config.File{Config: cfg, Dir: t.TempDir()}, snapshot.Options{})
	if err != nil {
		t.Fatalf("Build: %v", err)
	}
	defer snap.Close()
	var ignored int
	for _, w := range snap.Catalog().Warnings() {
		if strings.Contains(w.Message, "a service that no apis entry exposes: the rule is ignored") && w.File == g.rulesYML && w.Line > 0 {
			ignored++
		}
	}
	if ignored != 4 {
		t.Errorf("got %d ignored-rule warnings located in the rules file, want 4: %v", ignored, snap.Catalog().Warnings())
	}
	cfg.StrictRoutes = true
	if snap, err := snapshot.Build(&config.File{Config: cfg, Dir: t.TempDir()}, snapshot.Options{}); err == nil {
		snap.Close()
		t.Error("strict_routes: got no error, want the ignored rules")
	}
}

// ggCall is one REST request to the example set and what must come back.
type ggCall struct {
	name         string
	method, path string
	body         string
	status       int
	// backend is the gRPC method that must have served the call ("" for
	// none: the call must not reach the backend).
	backend string
	// want is a JSON subset of the response (unary), or of each NDJSON line
	// (streams, with lines giving their number).
	want  string
	lines int
	// trailer: response headers that must be present.
	header map[string]string
}

func TestGRPCGatewayExamplesServe(t *testing.T) {
	g := findExamples(t)
	target := startExamplesBackend(t, g)
	env := servertest.StartGateway(t, target, servertest.Options{Config: func(c *configv1.Config) {
		g.config(c, target, exampleServices)
	}})
	echo := "/" + examplePkg + "EchoService/"
	unannotated := "/" + examplePkg + "UnannotatedEchoService/"
	abe := "/" + examplePkg + "ABitOfEverythingService/"
	flow := "/" + examplePkg + "FlowCombination/"
	stream := "/" + examplePkg + "StreamService/"
	calls := []ggCall{
		// EchoService's routes under /v1, UnannotatedEchoService's (from
		// the standalone rules) under /v2.
		{name: "echo_body", method: "POST", path: "/v1/example/echo_body", body: `{"id":"a1","num":"7"}`,
			status: 200, backend: echo + "EchoBody", want: `{"id":"a1","num":"7"}`},
		{name: "echo_body v2", method: "POST", path: "/v2/example/echo_body", body: `{"id":"a1","num":"7"}`,
			status: 200, backend: unannotated + "EchoBody", want: `{"id":"a1","num":"7"}`},
		{name: "echo", method: "POST", path: "/v1/example/echo/x9", status: 200, backend: echo + "Echo", want: `{"id":"x9"}`},
		{name: "echo v2", method: "POST", path: "/v2/example/echo/x9", status: 200, backend: unannotated + "Echo", want: `{"id":"x9"}`},
		{name: "echo, additional binding", method: "GET", path: "/v1/example/echo/x9/12", status: 200, backend: echo + "Echo", want: `{"id":"x9","num":"12"}`},
		{name: "echo v2, additional binding", method: "GET", path: "/v2/example/echo/x9/12/en", status: 200, backend: unannotated + "Echo", want: `{"id":"x9","num":"12","lang":"en"}`},
		{name: "echo_delete", method: "DELETE", path: "/v1/example/echo_delete?id=d", status: 200, backend: echo + "EchoDelete", want: `{"id":"d"}`},
		{name: "echo_delete v2", method: "DELETE", path: "/v2/example/echo_delete?id=d", status: 200, backend: unannotated + "EchoDelete", want: `{"id":"d"}`},
		// Routes only EchoService binds.
		{name: "echo lang", method: "GET", path: "/v1/example/echo/x9/12/en", status: 200, backend: echo + "Echo", want: `{"id":"x9","num":"12","lang":"en"}`},
		{name: "echo nested path", method: "GET", path: "/v1/example/echo1/i/3/hello", status: 200, backend: echo + "Echo", want: `{"id":"i","lineNum":"3","status":{"note":"hello"}}`},
		{name: "echo_body put field body", method: "PUT", path: "/v1/example/echo_body/p1", body: `{"progress":"5"}`,
			status: 200, backend: echo + "EchoBody", want: `{"id":"p1","no":{"progress":"5"}}`},
		{name: "response_body from rules file", method: "PUT", path: "/v1/example/echo_nested", body: `{"nId":{"nId":"deep"}}`,
			status: 200, backend: unannotated + "EchoNested", want: `{"nId":"deep"}`},
		// The verb with a colon, next to the plain verb.
		{name: "custom:custom verb", method: "POST", path: "/v1/example/a_bit_of_everything/u-1:custom:custom", status: 200,
			backend: abe + "DoubleColon", want: `{"uuid":"u-1"}`},
		{name: "custom verb", method: "POST", path: "/v1/example/a_bit_of_everything/u-1:custom", status: 200,
			backend: abe + "Custom", want: `{"uuid":"u-1"}`},
		{name: "lookup", method: "GET", path: "/v1/example/a_bit_of_everything/u-2", status: 200,
			backend: abe + "Lookup", want: `{"uuid":""}`},
		{name: "many path params", method: "POST",
			path:   "/v1/example/a_bit_of_everything/1.5/2.5/-3/separator/4/-5/6/7/true/strprefix/s/8/-9/10/-11/12/ncv/ONE/DEF/JKL/ONE",
			status: 200, backend: abe + "Create",
			want: `{"floatValue":1.5,"doubleValue":2.5,"int64Value":"-3","uint64Value":"4","int32Value":-5,"boolValue":true,"stringValue":"strprefix/s",` +
				`"nonConventionalNameValue":"ncv","enumValue":"ONE","pathEnumValue":"DEF","nestedPathEnumValue":"JKL","enumValueAnnotation":"ONE"}`},
		{name: "nested field body", method: "POST", path: "/v1/example/a_bit_of_everything/params/post/sv", body: `{"name":"n","amount":3}`,
			status: 200, backend: abe + "CheckPostQueryParams", want: `{"stringValue":"sv","singleNested":{"name":"n","amount":3}}`},
		// Client streaming whose rule has no body: the body is the stream.
		{name: "client stream without body", method: "POST", path: "/stream/empty/rpc", body: "{}\n{}\n{}",
			status: 200, backend: flow + "StreamEmptyRpc", want: `{}`, header: map[string]string{"Grpc-Trailer-X-Received": "3"}},
		{name: "client stream with body *", method: "POST", path: "/v1/example/a_bit_of_everything/bulk", body: `{"uuid":"a"}` + "\n" + `{"uuid":"b"}`,
			status: 200, backend: stream + "BulkCreate", want: `{}`, header: map[string]string{"Grpc-Trailer-X-Received": "2"}},
		// Server and bidi streaming: NDJSON {"result": …} lines.
		{name: "server stream", method: "POST", path: "/rpc/empty/stream", status: 200, backend: flow + "RpcEmptyStream", want: `{"result":{}}`, lines: 2},
		{name: "server stream, path and body", method: "POST", path: "/rpc/body/path/x/y/stream", body: `"z"`,
			status: 200, backend: flow + "RpcBodyStream", want: `{"result":{}}`, lines: 2},
		{name: "bidi stream", method: "POST", path: "/v1/example/a_bit_of_everything/echo", body: `{"value":"one"}` + "\n" + `{"value":"two"}`,
			status: 200, backend: stream + "BulkEcho", want: `{"result":{}}`, lines: 2},
		{name: "bidi stream without body", method: "POST", path: "/stream/empty/stream", body: "{}\n{}",
			status: 200, backend: flow + "StreamEmptyStream", want: `{"result":{}}`, lines: 2},
		// The other services.
		{name: "excess body", method: "POST", path: "/rpc/excess-body/rpc/with-body", body: `{}`, status: 200,
			backend: "/" + examplePkg + "ExcessBodyService/WithBodyRpc", want: `{}`},
		{name: "non-standard names", method: "PATCH", path: "/v1/example/non_standard/update", body: `{"id":"i","Num":"3"}`, status: 200,
			backend: "/" + examplePkg + "NonStandardService/Update", want: `{}`},
		{name: "response body", method: "GET", path: "/responsebody/d", status: 200,
			backend: "/" + examplePkg + "ResponseBodyService/GetResponseBody", want: `{"data":""}`},
		// HEAD: an explicit HEAD rule (Exists) wins over the GET route on
		// the same path; a GET route without one answers HEAD itself.
		{name: "HEAD rule", method: "HEAD", path: "/v1/example/a_bit_of_everything/u-2", status: 200, backend: abe + "Exists"},
		{name: "HEAD on a GET route", method: "HEAD", path: "/responsebody/d", status: 200,
			backend: "/" + examplePkg + "ResponseBodyService/GetResponseBody"},
		// Bad input is refused before the backend.
		{name: "bad JSON", method: "POST", path: "/v1/example/echo_body", body: `{"id":`, status: 400, want: `{"code":3}`},
		{name: "unknown path", method: "GET", path: "/v1/example/nope", status: 404, want: `{"code":5}`},
	}
	runGGCalls(t, env, calls)
}

// TestGRPCGatewayExamplesServeConflicts: with unannotated_echo_service.yaml
// (see TestGRPCGatewayExamplesConflicts), identical routes are served by
// the service registered later.
func TestGRPCGatewayExamplesServeConflicts(t *testing.T) {
	g := findExamples(t)
	g.rulesYML = g.unannotatedYML
	target := startExamplesBackend(t, g)
	env := servertest.StartGateway(t, target, servertest.Options{Config: func(c *configv1.Config) {
		g.config(c, target, exampleServices)
	}})
	unannotated := "/" + examplePkg + "UnannotatedEchoService/"
	runGGCalls(t, env, []ggCall{
		{name: "echo_body conflict", method: "POST", path: "/v1/example/echo_body", body: `{"id":"a1","num":"7"}`,
			status: 200, backend: unannotated + "EchoBody", want: `{"id":"a1","num":"7"}`},
		{name: "echo conflict", method: "POST", path: "/v1/example/echo/x9", status: 200, backend: unannotated + "Echo", want: `{"id":"x9"}`},
		{name: "echo conflict, additional binding", method: "GET", path: "/v1/example/echo/x9/12", status: 200, backend: unannotated + "Echo", want: `{"id":"x9","num":"12"}`},
		{name: "echo_delete conflict", method: "DELETE", path: "/v1/example/echo_delete?id=d", status: 200, backend: unannotated + "EchoDelete", want: `{"id":"d"}`},
		{name: "response_body from rules file", method: "PUT", path: "/v1/example/echo_nested", body: `{"nId":{"nId":"deep"}}`,
			status: 200, backend: unannotated + "EchoNested", want: `{"nId":"deep"}`},
	})
}

// runGGCalls makes each call to env and checks its answer.
func runGGCalls(t *testing.T, env *servertest.Env, calls []ggCall) {
	t.Helper()
	for _, c := range calls {
		t.Run(c.name, func(t *testing.T) {
			var body io.Reader
			if c.body != "" {
				body = strings.NewReader(c.body)
			}
			req, err := http.NewRequest(c.method, env.URL+c.path, body)
			if err != nil {
				t.Fatal(err)
			}
			req.Header.Set("TE", "trailers")
			resp, err := servertest.Client().Do(req)
			if err != nil {
				t.Fatal(err)
			}
			data, err := io.ReadAll(resp.Body)
			resp.Body.Close()
			if err != nil {
				t.Fatal(err)
			}
			if resp.StatusCode != c.status {
				t.Fatalf("%s %s: got status %d (%s), want %d", c.method, c.path, resp.StatusCode, data, c.status)
			}
			if got := resp.Header.Get("Grpc-Metadata-X-Backend-Method"); got != c.backend {
				t.Errorf("served by %q, want %q", got, c.backend)
			}
			for k, v := range c.header {
				if got := resp.Header.Get(k); got != v {
					if got = resp.Trailer.Get(k); got != v {
						t.Errorf("header %s: got %q, want %q", k, got, v)
					}
				}
			}
			if c.method == http.MethodHead {
				if len(data) != 0 {
					t.Errorf("HEAD: got a body %q, want none", data)
				}
				return
			}
			if c.lines == 0 {
				checkJSONSubset(t, data, c.want)
				return
			}
			lines := strings.Split(strings.TrimSpace(string(data)), "\n")
			if len(lines) != c.lines {
				t.Fatalf("got %d lines %q, want %d", len(lines), data, c.lines)
			}
			for _, l := range lines {
				checkJSONSubset(t, []byte(l), c.want)
			}
		})
	}
}

// checkJSONSubset fails unless every key of want (a JSON object) is in got
// with an equal value, objects compared recursively.
func checkJSONSubset(t *testing.T, got []byte, want string) {
	t.Helper()
	var g, w any
	if err := json.Unmarshal(got, &g); err != nil {
		t.Fatalf("response is not JSON: %v\n%s", err, got)
	}
	if err := json.Unmarshal([]byte(want), &w); err != nil {
		t.Fatalf("bad want JSON %q: %v", want, err)
	}
	if !jsonSubset(g, w) {
		t.Errorf("got %s, want a superset of %s", got, want)
	}
}

func jsonSubset(got, want any) bool {
	wm, ok := want.(map[string]any)
	if !ok {
		return reflect.DeepEqual(got, want)
	}
	gm, ok := got.(map[string]any)
	if !ok {
		return false
	}
	for k, wv := range wm {
		if gv, ok := gm[k]; !ok || !jsonSubset(gv, wv) {
			return false
		}
	}
	return true
}
