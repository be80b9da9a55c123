package server_test

// Telemetry of gRPC-Web and Connect calls: observed once, by the gRPC
// door that serves them, labelled with the client's protocol.

import (
	"bufio"
	"bytes"
	"encoding/json"
	"strings"
	"sync"
	"testing"

	"connectrpc.com/connect"
	bookstorev1 "github.com/portico-gw/portico/gen/example/bookstore/v1"
	configv1 "github.com/portico-gw/portico/gen/portico/config/v1"
	"github.com/portico-gw/portico/server"
	"github.com/portico-gw/portico/server/servertest"
)

func TestProtocolsAccessLog(t *testing.T) {
	var mu sync.Mutex
	var buf bytes.Buffer
	env := servertest.Start(t, servertest.Options{
		Config: func(c *configv1.Config) {
			c.Telemetry = &configv1.Telemetry{AccessLog: "json", Traces: &configv1.Traces{OtlpEndpoint: "127.0.0.1:1"}}
		},
		Server: server.Options{AccessLog: lockedWriter{&mu, &buf}},
	})
	ids := map[string]string{}
	for _, c := range webClients {
		resp, err := getBookClient(env.URL, c.opts...).CallUnary(callCtx(t), connect.NewRequest(&bookstorev1.GetBookRequest{Name: "shelves/1/books/1"}))
		if err != nil {
			t.Fatalf("%s: %v", c.name, err)
		}
		ids[resp.Header().Get("X-Request-Id")] = strings.ReplaceAll(c.name, "-", "_")
	}
	opsShutdown(t, env.Server)
	mu.Lock()
	text := buf.String()
	mu.Unlock()
	var lines []map[string]any
	sc := bufio.NewScanner(strings.NewReader(text))
	for sc.Scan() {
		var l map[string]any
		if err := json.Unmarshal(sc.Bytes(), &l); err != nil {
			t.Fatalf("not a JSON line: %q: %v", sc.Text(), err)
		}
		lines = append(lines, l)
	}
	if len(lines) != len(webClients) {
		t.Fatalf("got %d access log lines, want %d (one per call):\n%s", len(lines), len(webClients), text)
	}
	for _, l := range lines {
		id, _ := l["request_id"].(string)
		want, ok := ids[id]
		if !ok {
			t.Errorf("line with request_id %q, not one of the calls': %v", id, l)
			continue
		}
		if l["protocol"] != want || l["door"] != "grpc" || l["grpc_code"] != "OK" || l["method"] != "/example.bookstore.v1.BookstoreService/GetBook" {
			t.Errorf("got %v, want protocol %s, door grpc, grpc_code OK, method GetBook", l, want)
		}
	}
}
