package idlepark

// Bugs found in this package while it was built, one test each.

import (
	"errors"
	"net"
	"net/http"
	"testing"
)

// TestRegressTemporaryAcceptError: the accept pump stopped at the first
// error that was not a time-out, but net/http retries temporary ones
// (EMFILE): the listener then never accepted again.
// flaky is a listener whose first Accept fails with a temporary error
// (as when the process is out of file descriptors).
type flaky struct {
	net.Listener
	failed bool
}

type tempErr struct{}

func (tempErr) Error() string   { return "accept: too many open files" }
func (tempErr) Timeout() bool   { return false }
func (tempErr) Temporary() bool { return true }

func (f *flaky) Accept() (net.Conn, error) {
	if !f.failed {
		f.failed = true
		return nil, tempErr{}
	}
	return f.Listener.Accept()
}

func TestRegressTemporaryAcceptError(t *testing.T) {
	inner, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	l := New(&flaky{Listener: inner})
	srv := &http.Server{Handler: echo}
	done := make(chan struct{})
	go func() { defer close(done); _ = l.Serve(srv) }()
	t.Cleanup(func() { _ = srv.Close(); <-done })
	c := dial(t, inner.Addr().String())
	c.send(get("/after-error"))
	c.want("GET /after-error 0")
}

// TestRegressSplitFirstBytes: a connection whose first read brought only
// "P" (of POST) was taken for the HTTP/2 preface and never parked (found
// by FuzzParkedMatchesNetHTTP). The first 3 bytes decide now.
func TestRegressSplitFirstBytes(t *testing.T) {
	// The connection's first reads bring "P", "O", "S" one at a time.
	c, err := idleReadWith(t, "POST /p HTTP/1.1\r\n", true, func(*conn) {}, bufSize)
	defer c.Close()
	if !errors.Is(err, errParked) {
		t.Fatalf("got %v from the idle wait's read, want it parked", err)
	}
}
