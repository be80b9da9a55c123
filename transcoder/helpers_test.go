package transcoder_test

import (
	"encoding/json"
	"io"
	"net/http"
	"reflect"
	"strings"
	"testing"

	"github.com/portico-gw/portico/server/servertest"
)

// call is one HTTP request of a table test.
type call struct {
	method, path, body string
	header             map[string]string
	// ownMessage: the differential test compares this error body without
	// its message (see withoutMessage).
	ownMessage bool
}

func (c call) do(t *testing.T, base string) (*http.Response, []byte) {
	t.Helper()
	var body io.Reader
	if c.body != "" {
		body = strings.NewReader(c.body)
	}
	req, err := http.NewRequest(c.method, base+c.path, body)
	if err != nil {
		t.Fatal(err)
	}
	for k, v := range c.header {
		req.Header.Set(k, v)
	}
	resp, err := servertest.Client().Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", c.method, c.path, err)
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatalf("%s %s: reading body: %v", c.method, c.path, err)
	}
	return resp, withoutRequestInfo(t, resp, data)
}

// withoutRequestInfo checks that an error body of Portico's (the only
// side that sends X-Request-Id) carries the response's request ID as a
// google.rpc.RequestInfo detail, and returns the body (compacted) without
// it, for comparison with grpc-gateway's, which has none.
func withoutRequestInfo(t *testing.T, resp *http.Response, body []byte) []byte {
	t.Helper()
	id := resp.Header.Get("X-Request-Id")
	if id == "" || resp.StatusCode < 400 || !strings.HasPrefix(resp.Header.Get("Content-Type"), "application/json") {
		return body
	}
	compact := compactJSON(body)
	if !strings.HasPrefix(compact, `{"code":`) {
		return body // no body (HEAD), or a stream's error line
	}
	detail := `{"@type":"type.googleapis.com/google.rpc.RequestInfo","requestId":"` + id + `","servingData":""}`
	for _, form := range []string{"," + detail, detail} {
		if strings.Contains(compact, form) {
			return []byte(strings.Replace(compact, form, "", 1))
		}
	}
	t.Errorf("error body %s: want a RequestInfo detail with the X-Request-Id %q", body, id)
	return body
}

// checkSubset fails unless every key of want (a JSON document) is in got
// with an equal value; objects are compared recursively, arrays and
// scalars exactly.
func checkSubset(t *testing.T, got []byte, want string) {
	t.Helper()
	var g, w any
	if err := json.Unmarshal(got, &g); err != nil {
		t.Fatalf("response is not JSON: %v\n%s", err, got)
	}
	if err := json.Unmarshal([]byte(want), &w); err != nil {
		t.Fatalf("bad want JSON: %v", err)
	}
	if path, ok := subset(g, w, "$"); !ok {
		t.Errorf("at %s:\ngot  %s\nwant (subset) %s", path, got, want)
	}
}

func subset(got, want any, path string) (string, bool) {
	wm, ok := want.(map[string]any)
	if !ok {
		return path, reflect.DeepEqual(got, want)
	}
	gm, ok := got.(map[string]any)
	if !ok {
		return path, false
	}
	for k, wv := range wm {
		gv, present := gm[k]
		if !present {
			return path + "." + k + " (missing)", false
		}
		if p, ok := subset(gv, wv, path+"."+k); !ok {
			return p, false
		}
	}
	return "", true
}

// ndjson splits a newline-delimited JSON body.
func ndjson(t *testing.T, body []byte) []map[string]any {
	t.Helper()
	var out []map[string]any
	for _, line := range strings.Split(strings.TrimSpace(string(body)), "\n") {
		if line == "" {
			continue
		}
		var m map[string]any
		if err := json.Unmarshal([]byte(line), &m); err != nil {
			t.Fatalf("line %q is not JSON: %v", line, err)
		}
		out = append(out, m)
	}
	return out
}
