package server_test

// grpc-gateway's integration scenarios against Portico: the HTTP requests
// of grpc-gateway's own integration tests
// (examples/internal/integration/integration_test.go in its module) and
// the answers they expect, sent to Portico and to grpc-gateway's generated
// gateway, both in front of grpc-gateway's example gRPC server — the real
// backend those tests were written for, built from the module cache by
// server/testdata/ggharness. Each answer must be what the test expects and
// what grpc-gateway answers, except where a row says why not.
//
// What does not apply: the scenarios that need grpc-gateway's generated Go
// types to build a request (they are ported with the JSON those types
// produce), the in-process gateway (port 8089: no gRPC server between),
// the ForwardResponseOption tests (an option of grpc-gateway's ServeMux),
// the excess-body cancellation tests and form bodies (handled and tested
// with the REST door's own tests), and BulkCreate's error metadata
// (Portico does not forward Grpc-Metadata-* headers by default; the
// deliberate differences in docs/apis.md list it).

import (
	"bufio"
	"encoding/json"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	configv1 "github.com/portico-gw/portico/gen/portico/config/v1"
	"github.com/portico-gw/portico/server/servertest"
)

// buildGGHarness builds server/testdata/ggharness inside a copy of the
// grpc-gateway module taken from the module cache (the cache is
// read-only, and only a package inside that module may import its
// internal example packages), and returns the binary. Nothing of
// grpc-gateway's is kept: the copy is in the test's temporary folder.
func buildGGHarness(t *testing.T) string {
	t.Helper()
	g := findExamples(t)
	mod := filepath.Join(t.TempDir(), "grpc-gateway")
	if err := os.CopyFS(mod, os.DirFS(g.module)); err != nil {
		t.Fatalf("copying the grpc-gateway module: %v", err)
	}
	src, err := os.ReadFile(filepath.Join("testdata", "ggharness", "main.go"))
	if err != nil {
		t.Fatal(err)
	}
	dir := filepath.Join(mod, "examples", "internal", "porticoharness")
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "main.go"), src, 0o644); err != nil {
		t.Fatal(err)
	}
	bin := filepath.Join(t.TempDir(), "ggharness")
	cmd := exec.Command("go", "build", "-trimpath", "-o", bin, "./examples/internal/porticoharness")
	cmd.Dir = mod
	cmd.Env = append(os.Environ(), "GOWORK=off", "GOFLAGS=-mod=mod")
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("building the harness in the grpc-gateway module: %v\n%s", err, out)
	}
	return bin
}

// ggExampleServers are grpc-gateway's example gRPC server and its
// generated gateway in front of it, run by the harness.
type ggExampleServers struct {
	GRPC    string `json:"grpc"`    // host:port
	Gateway string `json:"gateway"` // http://host:port
}

// startGGExamples runs `ggharness serve` until the test ends.
func startGGExamples(t *testing.T, harness string) ggExampleServers {
	t.Helper()
	cmd := exec.Command(harness, "serve")
	stdin, err := cmd.StdinPipe()
	if err != nil {
		t.Fatal(err)
	}
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	cmd.Stderr = os.Stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		stdin.Close() // the harness stops when its stdin closes
		done := make(chan error, 1)
		go func() { done <- cmd.Wait() }()
		select {
		case <-done:
		case <-time.After(10 * time.Second):
			_ = cmd.Process.Kill()
			<-done
		}
	})
	line, err := bufio.NewReader(stdout).ReadBytes('\n')
	if err != nil {
		t.Fatalf("the harness said nothing: %v", err)
	}
	var s ggExampleServers
	if err := json.Unmarshal(line, &s); err != nil || s.GRPC == "" || s.Gateway == "" {
		t.Fatalf("the harness said %q (%v), want its addresses", line, err)
	}
	return s
}

// startPorticoForGGExamples starts Portico in front of the example server
// at target, loaded as grpc-gateway's example gateway is generated.
func startPorticoForGGExamples(t *testing.T, target string) *servertest.Env {
	t.Helper()
	g := findExamples(t)
	return servertest.StartGateway(t, target, servertest.Options{Config: func(c *configv1.Config) {
		g.config(c, target, exampleServices)
	}})
}

// ggScenario is one request of grpc-gateway's integration tests.
type ggScenario struct {
	name         string
	method, path string
	body         string
	header       map[string]string
	// status and want (a JSON subset of the body; of the first line for a
	// stream, lines giving their number, -1 for any) are what the
	// integration test expects; wantHeader are headers (or trailers) it
	// expects ("*": any value but none).
	status     int
	want       string
	lines      int
	wantHeader map[string]string
	// differs says why Portico's answer may differ from grpc-gateway's
	// beyond status and want ("" : it must not).
	differs string
}

func (s ggScenario) do(t *testing.T, base string) (*http.Response, []byte) {
	t.Helper()
	var body io.Reader
	if s.body != "" {
		body = strings.NewReader(s.body)
	}
	req, err := http.NewRequest(s.method, base+s.path, body)
	if err != nil {
		t.Fatal(err)
	}
	if s.body != "" {
		req.Header.Set("Content-Type", "application/json")
	}
	for k, v := range s.header {
		req.Header.Set(k, v)
	}
	resp, err := servertest.Client().Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", s.method, s.path, err)
	}
	data, err := io.ReadAll(resp.Body)
	resp.Body.Close()
	if err != nil {
		t.Fatal(err)
	}
	return resp, data
}

func TestGRPCGatewayIntegrationScenarios(t *testing.T) {
	servers := startGGExamples(t, buildGGHarness(t))
	portico := startPorticoForGGExamples(t, servers.GRPC)
	const abe = "/v1/example/a_bit_of_everything"
	var scenarios []ggScenario
	for _, v := range []string{"v1", "v2"} {
		scenarios = append(scenarios,
			ggScenario{name: v + " echo", method: "POST", path: "/" + v + "/example/echo/myid", body: "{}", status: 200, want: `{"id":"myid"}`,
				wantHeader: map[string]string{"Content-Type": "application/json"}},
			ggScenario{name: v + " echo oneof lang", method: "GET", path: "/" + v + "/example/echo/myid/10/golang", status: 200, want: `{"lang":"golang"}`},
			ggScenario{name: v + " echo oneof status.note", method: "GET", path: "/" + v + "/example/echo1/myid/10/golang", status: 200, want: `{"status":{"note":"golang"}}`},
			ggScenario{name: v + " echo oneof no.note", method: "GET", path: "/" + v + "/example/echo2/golang", status: 200, want: `{"no":{"note":"golang"}}`},
			ggScenario{name: v + " echo body with trailers", method: "POST", path: "/" + v + "/example/echo_body", body: `{"id":"example"}`,
				header: map[string]string{"TE": "trailers"}, status: 200, want: `{"id":"example"}`,
				wantHeader: map[string]string{"Grpc-Metadata-Foo": "foo1", "Grpc-Metadata-Bar": "bar1", "Grpc-Trailer-Foo": "foo2", "Grpc-Trailer-Bar": "bar2"}},
			ggScenario{name: v + " echo body", method: "POST", path: "/" + v + "/example/echo_body", body: `{"id":"example"}`, status: 200, want: `{"id":"example"}`,
				wantHeader: map[string]string{"Grpc-Metadata-Foo": "foo1", "Grpc-Metadata-Bar": "bar1", "Grpc-Trailer-Foo": ""}},
			ggScenario{name: v + " echo with a non-ASCII header value", method: "POST", path: "/" + v + "/example/echo/myid", body: "{}",
				header: map[string]string{"Grpc-Metadata-Location": "Gjøvik"}, status: 200, want: `{"id":"myid"}`},
			ggScenario{name: v + " echo with an invalid header key", method: "POST", path: "/" + v + "/example/echo/myid", body: "{}",
				header: map[string]string{"Grpc-Metadata-Foo+Bar": "Hello"}, status: 200, want: `{"id":"myid"}`},
		)
	}
	scenarios = append(scenarios, []ggScenario{
		{name: "path parameter wins over the query", method: "GET", path: "/v1/example/echo/resource/my_resource_id?resourceId=bad_resource_id",
			status: 200, want: `{"resourceId":"my_resource_id"}`},
		{name: "nested query parameter", method: "GET", path: "/v1/example/echo/nested/my_nested_id?n_id.val=foo", status: 200, want: `{"nId":{"val":"foo"}}`},
		{name: "nested path parameter wins over the query", method: "GET", path: "/v1/example/echo/nested/my_nested_id?nId.nId=bad_id", status: 200,
			want: `{"nId":{"nId":"my_nested_id"}}`},
		{name: "unauthorized", method: "GET", path: "/v1/example/echo_unauthorized", status: 401, want: `{"code":16}`,
			wantHeader: map[string]string{"Www-Authenticate": "*"}},
		{name: "patch with Struct and Value: the mask from the body", method: "PATCH", path: "/v1/example/echo_patch",
			body:   `{"struct_field":{"struct_key":{"layered_struct_key":"struct_val"}},"value_field":{"value_struct_key":"value_struct_val"}}`,
			status: 200, want: `{"body":{"structField":{"struct_key":{"layered_struct_key":"struct_val"}},"valueField":{"value_struct_key":"value_struct_val"}}}`},
		{name: "ABE create from the path", method: "POST",
			path: abe + "/1.5/2.5/4294967296/separator/9223372036854775807/-2147483648/9223372036854775807/4294967295/true/strprefix/foo/" +
				"4294967295/2147483647/-4611686018427387904/2147483647/4611686018427387903/camelCase/ZERO/ABC/JKL/ZERO",
			body: "{}", status: 200, differs: "the backend makes a new uuid",
			want: `{"floatValue":1.5,"doubleValue":2.5,"int64Value":"4294967296","uint64Value":"9223372036854775807","int32Value":-2147483648,` +
				`"fixed64Value":"9223372036854775807","fixed32Value":4294967295,"boolValue":true,"stringValue":"strprefix/foo",` +
				`"sfixed64Value":"-4611686018427387904","sint64Value":"4611686018427387903","nonConventionalNameValue":"camelCase",` +
				`"enumValue":"ZERO","pathEnumValue":"ABC","nestedPathEnumValue":"JKL","enumValueAnnotation":"ZERO"}`},
		{name: "ABE create from the path, the client's encoded slash", method: "POST",
			path: abe + "/1.5/2.5/4294967296/separator/9223372036854775807/-2147483648/9223372036854775807/4294967295/true/strprefix%2Ffoo/" +
				"4294967295/2147483647/-4611686018427387904/2147483647/4611686018427387903/camelCase/ZERO/ABC/JKL/ZERO",
			status: 200, differs: "the backend makes a new uuid", want: `{"stringValue":"strprefix/foo","nestedPathEnumValue":"JKL"}`},
		{name: "ABE create from the body", method: "POST", path: abe,
			body: `{"float_value":1.5,"double_value":2.5,"int64_value":"4294967296","uint64_value":"9223372036854775807","int32_value":-2147483648,` +
				`"fixed64_value":"9223372036854775807","fixed32_value":4294967295,"bool_value":true,"string_value":"strprefix/foo",` +
				`"nested":[{"name":"bar","amount":10},{"name":"baz","amount":20}],"repeated_string_value":["a","b","c"],` +
				`"oneof_string":"x","map_value":{"a":"ONE","b":"ZERO"},"mapped_string_value":{"a":"x","b":"y"},` +
				`"mapped_nested_value":{"a":{"name":"x","amount":1},"b":{"name":"y","amount":2}},"enum_value":"ONE","path_enum_value":"DEF",` +
				`"nested_path_enum_value":"JKL","timestamp_value":"2016-05-12T08:45:00Z"}`,
			status: 200, differs: "the backend makes a new uuid",
			want: `{"nested":[{"name":"bar","amount":10,"ok":"FALSE"},{"name":"baz","amount":20,"ok":"FALSE"}],"repeatedStringValue":["a","b","c"],` +
				`"oneofString":"x","mapValue":{"a":"ONE","b":"ZERO"},"mappedStringValue":{"a":"x","b":"y"},"timestampValue":"2016-05-12T08:45:00Z"}`},
		{name: "ABE lookup of an unknown uuid", method: "GET", path: abe + "/00000000-0000-0000-0000-000000000000", header: map[string]string{"TE": "trailers"},
			status: 404, want: `{"code":5,"message":"not found"}`,
			wantHeader: map[string]string{"Grpc-Metadata-Uuid": "00000000-0000-0000-0000-000000000000", "Grpc-Trailer-Foo": "foo2", "Grpc-Trailer-Bar": "bar2"}},
		{name: "ABE exists, unknown uuid", method: "HEAD", path: abe + "/00000000-0000-0000-0000-000000000000", status: 404},
		{name: "ABE list (a server stream)", method: "GET", path: abe, status: 200, want: `{"result":{}}`, lines: -1,
			differs: "the list holds what the other scenarios created"},
		{name: "download (a stream of HttpBody)", method: "GET", path: "/v1/example/download", status: 200,
			wantHeader: map[string]string{"Content-Type": "text/html"}},
		{name: "bulk echo (bidi)", method: "POST", path: abe + "/echo", body: `{"value":"one"}` + "\n" + `{"value":"two"}`, status: 200,
			want: `{"result":{}}`, lines: 2},
		{name: "bulk echo with no message", method: "POST", path: abe + "/echo", status: 200},
		{name: "additional binding: GET", method: "GET", path: abe + "/echo/hello", status: 200, want: `{"value":"hello"}`},
		{name: "additional binding: POST with a body", method: "POST", path: "/v2/example/echo", body: `"hello"`, status: 200, want: `{"value":"hello"}`},
		{name: "additional binding: GET with a query", method: "GET", path: "/v2/example/echo?value=hello", status: 200, want: `{"value":"hello"}`},
		{name: "timeout", method: "GET", path: "/v2/example/timeout", header: map[string]string{"Grpc-Timeout": "10m"}, status: 504, want: `{"code":4}`,
			differs: "which side of the deadline reports it first varies, and the message with it"},
		{name: "invalid timeout", method: "GET", path: "/v2/example/timeout", header: map[string]string{"Grpc-Timeout": "INVALID"}, status: 400, want: `{"code":3}`,
			differs: "Portico names the header in its message"},
		{name: "post with an empty body", method: "POST", path: "/v2/example/postwithemptybody/name", status: 200},
		{name: "unknown path", method: "POST", path: "/", body: "{}", status: 404, want: `{"code":5}`},
		{name: "wrong method", method: "GET", path: "/v1/example/echo/myid", status: 405, want: `{"code":12}`,
			differs: "a known path with the wrong method is 405 with Allow (grpc-gateway: 501); docs/apis.md lists it"},
		{name: "invalid argument", method: "GET", path: "/v1/example/echo/myid/not_int64", status: 400, want: `{"code":3}`,
			differs: "Portico names the field and the value in its message"},
		{name: "response body", method: "GET", path: "/responsebody/foo", status: 200, want: `{"data":"foo"}`},
		{name: "response body of the same name", method: "GET", path: "/responsebody/samename/foo", status: 200, want: `"foo"`},
		{name: "response body of an imported type", method: "GET", path: "/responsebody/importedtype/foo", status: 200, want: `"foo"`},
		{name: "response body, streamed", method: "GET", path: "/responsebody/stream/foo", status: 200, want: `{"result":{"data":"first foo"}}`, lines: 2,
			differs: "the lines' order is the same, not their data; want checks the first"},
		{name: "repeated response body", method: "GET", path: "/responsebodies/foo", status: 200},
		{name: "repeated response strings", method: "GET", path: "/responsestrings/foo", status: 200},
		{name: "empty repeated response strings", method: "GET", path: "/responsestrings/empty", status: 200},
		{name: "query: values and a map entry", method: "GET", path: abe + "/params/get/foo?double_value=1234.56&bool_value=true&mapped_string_value[map_key]=map_value",
			status: 200, want: `{"singleNested":{"name":"foo"},"doubleValue":1234.56,"boolValue":true,"mappedStringValue":{"map_key":"map_value"}}`},
		{name: "query: a nested enum in the path", method: "GET", path: abe + "/params/get/nested_enum/TRUE", status: 200, want: `{"singleNested":{"ok":"TRUE"}}`},
		{name: "query: a nested enum by number", method: "GET", path: abe + "/params/get/nested_enum/1", status: 200, want: `{"singleNested":{"ok":"TRUE"}}`},
		{name: "query: an empty oneof message", method: "GET", path: abe + "/params/get/foo?oneof_empty=", status: 200, want: `{"singleNested":{"name":"foo"},"oneofEmpty":{}}`},
		{name: "query and a field body", method: "POST", path: abe + "/params/post/hello-world?double_value=1234.56&bool_value=true",
			body: `{"name":"foo","amount":100}`, status: 200,
			want: `{"singleNested":{"name":"foo","amount":100},"doubleValue":1234.56,"boolValue":true,"stringValue":"hello-world"}`},
		{name: "non-standard names", method: "PATCH", path: "/v1/example/non_standard/update",
			body: `{"id":"foo","Num":"1","line_num":"42","langIdent":"English","STATUS":"good","en_GB":"1","no":"yes",` +
				`"thing":{"subThing":{"sub_value":"hi"}}}`, status: 200,
			want: `{"id":"foo","Num":"1","lineNum":"42","langIdent":"English","STATUS":"good","enGB":"1","no":"yes","thing":{"subThing":{"subValue":"hi"}}}`},
		{name: "non-standard JSON names", method: "PATCH", path: "/v1/example/non_standard/update_with_json_names",
			body: `{"ID":"foo","Num":"1","LineNum":"42","langIdent":"English","status":"good","En_GB":"1","yes":"no",` +
				`"Thingy":{"SubThing":{"sub_Value":"hi"}}}`, status: 200,
			want: `{"ID":"foo","Num":"1","LineNum":"42","langIdent":"English","status":"good","En_GB":"1","yes":"no","Thingy":{"SubThing":{"sub_Value":"hi"}}}`},
		{name: "OPTIONS rule", method: "OPTIONS", path: abe + "/test", body: `{"bool_value": true, "string_value": "strprefix/example"}`, status: 200,
			wantHeader: map[string]string{"Grpc-Metadata-Allow": "OPTIONS, GET, HEAD, POST, PUT, TRACE"}},
		{name: "TRACE rule", method: "TRACE", path: abe + "/test", body: `{"bool_value": true, "string_value": "strprefix/example"}`, status: 200},
	}...)
	for _, s := range scenarios {
		t.Run(s.name, func(t *testing.T) {
			pr, pb := s.do(t, portico.URL)
			pb = withoutRequestInfo(t, pr, pb) // Portico's error bodies name the call; grpc-gateway's do not
			if pr.StatusCode != s.status {
				t.Fatalf("%s %s: got status %d (%s), want %d", s.method, s.path, pr.StatusCode, pb, s.status)
			}
			for k, v := range s.wantHeader {
				got := pr.Header.Get(k)
				if got == "" {
					got = pr.Trailer.Get(k)
				}
				if got != v && (v != "*" || got == "") {
					t.Errorf("header %s: got %q, want %q", k, got, v)
				}
			}
			switch {
			case s.want == "":
			case s.lines == 0:
				checkJSONSubset(t, pb, s.want)
			default:
				lines := strings.Split(strings.TrimSpace(string(pb)), "\n")
				if s.lines > 0 && len(lines) != s.lines {
					t.Fatalf("got %d lines %q, want %d", len(lines), pb, s.lines)
				}
				checkJSONSubset(t, []byte(lines[0]), s.want)
			}

			rr, rb := s.do(t, servers.Gateway)
			if s.differs != "" {
				return
			}
			if pr.StatusCode != rr.StatusCode {
				t.Errorf("status: got %d from Portico, want grpc-gateway's %d (%s)", pr.StatusCode, rr.StatusCode, rb)
			}
			if p, r := compactJSONBody(pb), compactJSONBody(rb); p != r {
				t.Errorf("body: got %s from Portico, want grpc-gateway's %s", pb, rb)
			}
		})
	}
}

// compactJSONBody removes insignificant whitespace from a JSON body, or
// from each line of a newline-delimited one (grpc-gateway's encoder adds
// random spaces on purpose); anything else is compared as it is.
func compactJSONBody(body []byte) string {
	lines := strings.Split(string(body), "\n")
	for i, line := range lines {
		if line == "" {
			continue
		}
		var v any
		if err := json.Unmarshal([]byte(line), &v); err != nil {
			return string(body)
		}
		out, _ := json.Marshal(v)
		lines[i] = string(out)
	}
	return strings.Join(lines, "\n")
}
