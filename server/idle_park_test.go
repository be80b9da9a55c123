package server_test

import (
	"bufio"
	"bytes"
	"context"
	"io"
	"net"
	"net/http"
	"runtime"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/portico-gw/portico/server/servertest"
)

// Idle keep-alive connections of the plaintext REST listener and of the
// gRPC listener's HTTP/1.1 side are parked off net/http (package
// idlepark): net/http's goroutine for the connection ends, and the
// connection is served again, the same one, when its next request comes.

// servingNow counts net/http's connection goroutines (in every server of
// the process).
func servingNow() int {
	buf := make([]byte, 1<<20)
	for {
		n := runtime.Stack(buf, true)
		if n < len(buf) {
			return bytes.Count(buf[:n], []byte("net/http.(*conn).serve("))
		}
		buf = make([]byte, 2*len(buf))
	}
}

// keepAlive is one raw HTTP/1.1 connection.
type keepAlive struct {
	c  net.Conn
	br *bufio.Reader
}

func dialKeepAlive(t *testing.T, addr string) *keepAlive {
	t.Helper()
	c, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	return &keepAlive{c: c, br: bufio.NewReader(c)}
}

// do sends req (raw bytes) and returns the answer's status and body.
func (k *keepAlive) do(t *testing.T, req string) (int, string) {
	t.Helper()
	if _, err := io.WriteString(k.c, req); err != nil {
		t.Fatalf("write: %v", err)
	}
	_ = k.c.SetReadDeadline(time.Now().Add(10 * time.Second))
	resp, err := http.ReadResponse(k.br, nil)
	if err != nil {
		t.Fatalf("answer: %v", err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

func TestIdleConnectionsParkedOnBothListeners(t *testing.T) {
	env := servertest.Start(t, servertest.Options{})
	base := servingNow()
	const restGet = "GET /v1/shelves/1 HTTP/1.1\r\nHost: x\r\n\r\n"
	connectBody := `{"shelf":"1"}`
	connectPost := "POST " + bookstoreSvc + "GetShelf HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nConnect-Protocol-Version: 1\r\nContent-Length: " + strconv.Itoa(len(connectBody)) + "\r\n\r\n" + connectBody
	type side struct {
		addr, req string
	}
	sides := []side{
		{strings.TrimPrefix(env.URL, "http://"), restGet},
		{env.Server.GRPCAddr, connectPost},
	}
	const perSide = 5
	var conns []*keepAlive
	var reqs []string
	for _, s := range sides {
		for range perSide {
			k := dialKeepAlive(t, s.addr)
			if code, body := k.do(t, s.req); code != http.StatusOK {
				t.Fatalf("%s: got %d %s, want 200", s.addr, code, body)
			}
			conns = append(conns, k)
			reqs = append(reqs, s.req)
		}
	}
	// Answered and idle, they leave net/http.
	waitFor(t, func() bool { return servingNow() <= base })
	// Each is served again on the same connection, and parked again.
	for i, k := range conns {
		if code, body := k.do(t, reqs[i]); code != http.StatusOK || !strings.Contains(body, `"1"`) {
			t.Fatalf("connection %d, second request: got %d %s, want 200 with shelf 1", i, code, body)
		}
	}
	waitFor(t, func() bool { return servingNow() <= base })

	// Shutdown closes the parked connections and does not wait for them.
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	start := time.Now()
	if err := env.Server.Shutdown(ctx); err != nil {
		t.Fatalf("Shutdown: %v", err)
	}
	if d := time.Since(start); d > 5*time.Second {
		t.Errorf("Shutdown took %v with parked connections, want well within its 10s grace", d)
	}
	for i, k := range conns {
		_ = k.c.SetReadDeadline(time.Now().Add(5 * time.Second))
		if _, err := k.br.ReadByte(); err != io.EOF {
			t.Errorf("parked connection %d after Shutdown: got %v, want EOF", i, err)
		}
	}
}
