package server_test

// The access log.

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"strings"
	"sync"
	"testing"

	bookstorev1 "github.com/portico-gw/portico/gen/example/bookstore/v1"
	configv1 "github.com/portico-gw/portico/gen/portico/config/v1"
	"github.com/portico-gw/portico/server"
	"github.com/portico-gw/portico/server/servertest"
	"google.golang.org/grpc/metadata"
)

// TestAccessLog: one JSON line per call, on both doors, refusals too, with
// no credential in it.
func TestAccessLog(t *testing.T) {
	var mu sync.Mutex
	var buf bytes.Buffer
	env := servertest.Start(t, servertest.Options{
		Config: func(c *configv1.Config) {
			c.Telemetry = &configv1.Telemetry{AccessLog: "json", Traces: &configv1.Traces{OtlpEndpoint: "127.0.0.1:1"}}
		},
		Server: server.Options{AccessLog: lockedWriter{&mu, &buf}},
	})
	const secret = "s3cr3t-T0KEN"
	opsGet(t, env.URL+"/v1/shelves/1?api_key="+secret, http.Header{"Authorization": {"Bearer " + secret}, "Cookie": {"session=" + secret}})
	opsGet(t, env.URL+"/nope", nil)
	ctx := metadata.AppendToOutgoingContext(context.Background(), "authorization", "Bearer "+secret)
	if _, err := bookstorev1.NewBookstoreServiceClient(env.Conn).GetShelf(ctx, &bookstorev1.GetShelfRequest{Shelf: 1}); err != nil {
		t.Fatal(err)
	}
	opsShutdown(t, env.Server)

	var text string
	eventually(t, "three access log lines", func() bool {
		mu.Lock()
		text = buf.String()
		mu.Unlock()
		return strings.Count(text, "\n") >= 3
	})
	if strings.Contains(text, secret) {
		t.Errorf("the access log holds a credential:\n%s", text)
	}
	var lines []map[string]any
	sc := bufio.NewScanner(strings.NewReader(text))
	for sc.Scan() {
		var l map[string]any
		if err := json.Unmarshal(sc.Bytes(), &l); err != nil {
			t.Fatalf("not a JSON line: %q: %v", sc.Text(), err)
		}
		lines = append(lines, l)
	}
	if len(lines) != 3 {
		t.Fatalf("got %d lines, want one per call (3):\n%s", len(lines), text)
	}
	rest, refused, grpcLine := lines[0], lines[1], lines[2]
	for k, want := range map[string]any{"msg": "access", "door": "rest", "http_method": "GET", "path": "/v1/shelves/1", "status": 200.0,
		"method": "/example.bookstore.v1.BookstoreService/GetShelf", "route": "/v1/shelves/{shelf}", "client_ip": "127.0.0.1"} {
		if rest[k] != want {
			t.Errorf("REST line %s: got %v, want %v", k, rest[k], want)
		}
	}
	for _, k := range []string{"time", "duration_ms", "backend_ms", "bytes_in", "bytes_out", "trace_id"} {
		if _, ok := rest[k]; !ok {
			t.Errorf("REST line: no %s in %v", k, rest)
		}
	}
	if d, b := rest["duration_ms"].(float64), rest["backend_ms"].(float64); b <= 0 || b > d {
		t.Errorf("REST line: backend_ms %v, duration_ms %v: want 0 < backend <= total", b, d)
	}
	if out, _ := rest["bytes_out"].(float64); out <= 0 {
		t.Errorf("REST line: bytes_out %v, want the response's size", rest["bytes_out"])
	}
	if refused["status"] != 404.0 || refused["route"] != "" || refused["backend_ms"] != 0.0 {
		t.Errorf("404 line: got %v, want status 404, no route, no backend time", refused)
	}
	if grpcLine["door"] != "grpc" || grpcLine["grpc_code"] != "OK" || grpcLine["method"] != "/example.bookstore.v1.BookstoreService/GetShelf" {
		t.Errorf("gRPC line: got %v", grpcLine)
	}
}

type lockedWriter struct {
	mu *sync.Mutex
	w  io.Writer
}

func (l lockedWriter) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.w.Write(p)
}
