package server_test

import (
	"net/http"
	"strings"
	"testing"

	"github.com/portico-gw/portico/server/servertest"
)

// TestDescriptorOnlyTypesResolve (issue 6, point 6): a
// google.protobuf.Any whose type exists only in the loaded descriptors is
// converted from and to JSON through the snapshot's own types, in a
// request, in a response, and in an error's details — never through the
// linked types alone, which do not know it.
func TestDescriptorOnlyTypesResolve(t *testing.T) {
	env := servertest.StartHostile(t, servertest.Options{})
	body := `{"name":"outer","extra":{"@type":"type.googleapis.com/hostile.v1.Thing","name":"inner","labels":{"k":"v"}}}`
	resp, out := post(t, env.URL+"/v1/things", body)
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("request with a descriptor-only Any: got %d %s, want 200", resp.StatusCode, out)
	}
	for _, want := range []string{`"@type":"type.googleapis.com/hostile.v1.Thing"`, `"name":"inner"`, `"labels":{"k":"v"}`} {
		if !strings.Contains(string(out), want) {
			t.Errorf("response %s does not hold %s", out, want)
		}
	}

	env2 := servertest.StartHostile(t, servertest.Options{Config: func(c *configv1Config) {
		c.Rest = &configv1Rest{ForwardHeaders: []string{servertest.FailKey}}
	}})
	req, _ := http.NewRequest("POST", env2.URL+"/v1/things", strings.NewReader(`{"name":"the detail"}`))
	req.Header.Set(servertest.FailKey, "precondition failed")
	resp, out = do(t, req)
	if resp.StatusCode != http.StatusBadRequest {
		t.Fatalf("backend error: got %d %s, want 400", resp.StatusCode, out)
	}
	for _, want := range []string{`"code":9`, `"message":"precondition failed"`, `"@type":"type.googleapis.com/hostile.v1.Thing"`, `"name":"the detail"`} {
		if !strings.Contains(string(out), want) {
			t.Errorf("error body %s does not hold %s", out, want)
		}
	}
}
