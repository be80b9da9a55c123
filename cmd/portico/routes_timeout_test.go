package main

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestRoutesShowTimeouts: `portico routes` shows each method's deadline:
// the shortest of its methods[].timeout, its API's timeout (unary methods)
// and its integration's.
func TestRoutesShowTimeouts(t *testing.T) {
	p := filepath.Join(t.TempDir(), "portico.yaml")
	cfg := `integrations:
  - name: b
    grpc: {target: "127.0.0.1:50051", timeout: 10s}
apis:
  - services: [example.bookstore.v1.BookstoreService]
    integration: b
    timeout: 2s
    methods:
      - selector: example.bookstore.v1.BookstoreService.ListShelves
        timeout: 500ms
      - selector: example.bookstore.v1.BookstoreService.WatchBooks
        timeout: 1m
`
	if err := os.WriteFile(p, []byte(cfg), 0o644); err != nil {
		t.Fatal(err)
	}
	code, out, errOut := runArgs("routes", "--json", "-c", p)
	if code != 0 {
		t.Fatalf("routes --json: exit %d: %s", code, errOut)
	}
	var table struct {
		Routes []struct {
			GRPCMethod string `json:"grpc_method"`
			Timeout    string `json:"timeout"`
		} `json:"routes"`
	}
	if err := json.Unmarshal([]byte(out), &table); err != nil {
		t.Fatal(err)
	}
	got := map[string]string{}
	for _, r := range table.Routes {
		got[strings.TrimPrefix(r.GRPCMethod, "/example.bookstore.v1.BookstoreService/")] = r.Timeout
	}
	for method, want := range map[string]string{
		"GetShelf":    "2s",    // the API's beats the integration's
		"ListShelves": "500ms", // the method's beats the API's
		"WatchBooks":  "10s",   // a stream: its own 1m, the integration's 10s
		"ImportBooks": "10s",   // a stream without its own: the integration's, not the API's
	} {
		if got[method] != want {
			t.Errorf("%s: timeout %q, want %q", method, got[method], want)
		}
	}
	code, out, errOut = runArgs("routes", "-c", p)
	if code != 0 {
		t.Fatalf("routes: exit %d: %s", code, errOut)
	}
	lines := strings.Split(out, "\n")
	if f := strings.Fields(lines[0]); f[len(f)-1] != "TIMEOUT" {
		t.Errorf("routes header %q: want TIMEOUT last", lines[0])
	}
	found := false
	for _, l := range lines {
		if f := strings.Fields(l); len(f) == 6 && strings.HasSuffix(f[2], "/ListShelves") {
			found = f[5] == "500ms"
		}
	}
	if !found {
		t.Errorf("routes table: want ListShelves' row to end with 500ms:\n%s", out)
	}
}
