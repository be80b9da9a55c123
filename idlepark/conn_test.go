package idlepark

import (
	"errors"
	"net"
	"net/http"
	"testing"
	"time"
)

// TestOnlyHTTP1ConnectionsPark drives a connection through the sequence
// net/http's idle wait makes (ConnState(StateIdle), SetReadDeadline, a
// 4096-byte Read) after different first bytes: only a request line's
// may lead to parking, never a TLS handshake's or the HTTP/2 preface's.
func TestOnlyHTTP1ConnectionsPark(t *testing.T) {
	for _, tc := range []struct {
		stream string
		pieces bool // read 1 byte at a time (split packets)
		park   bool
	}{
		{"GET / HTTP/1.1\r\n", false, true},
		{"POST / HTTP/1.1\r\n", true, true},
		{"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n", false, false},
		{"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n", true, false},
		{"\x16\x03\x01\x02\x00", false, false},
		{"get / HTTP/1.1\r\n", false, false},
	} {
		c, got := idleReadWith(t, tc.stream, tc.pieces, func(*conn) {}, bufSize)
		if parked := errors.Is(got, errParked); parked != tc.park {
			t.Errorf("%q (in pieces: %v): got parked %v (read error %v), want %v", tc.stream, tc.pieces, parked, got, tc.park)
		}
		c.Close()
	}
}

// TestParkingNeedsTheExactSequence checks that anything between the idle
// state and the idle wait's read, or a read of another size, keeps the
// connection with net/http.
func TestParkingNeedsTheExactSequence(t *testing.T) {
	for name, between := range map[string]func(c *conn){
		"write": func(c *conn) {
			_ = c.Conn.SetWriteDeadline(time.Now()) // nobody reads the pipe
			_, _ = c.Write([]byte("x"))
		},
		"full deadline":   func(c *conn) { _ = c.SetDeadline(time.Now().Add(50 * time.Millisecond)) },
		"second deadline": func(c *conn) { _ = c.SetReadDeadline(time.Now().Add(50 * time.Millisecond)) },
		"active":          func(c *conn) { c.onState(http.StateActive) },
		"hijacked":        func(c *conn) { c.onState(http.StateHijacked) },
	} {
		c, got := idleReadWith(t, "GET / HTTP/1.1\r\n", false, between, bufSize)
		if errors.Is(got, errParked) {
			t.Errorf("%s between the deadline and the read: got parked, want not", name)
		}
		c.Close()
	}
	c, got := idleReadWith(t, "GET / HTTP/1.1\r\n", false, func(*conn) {}, bufSize-1)
	if errors.Is(got, errParked) {
		t.Errorf("a 4095-byte read (a byte buffered): got parked, want not")
	}
	c.Close()
}

// idleReadWith sends stream on a fresh conn and reads its first bytes
// (all at once, or 3 reads of 1 byte), then makes the idle sequence with
// between before its read of size bytes; it returns that read's error (a
// timeout when it went to the socket).
func idleReadWith(t *testing.T, stream string, pieces bool, between func(*conn), size int) (*conn, error) {
	t.Helper()
	a, b := net.Pipe()
	t.Cleanup(func() { a.Close(); b.Close() })
	c := &conn{Conn: a, l: New(nil)}
	go func() { _, _ = b.Write([]byte(stream)) }()
	buf := make([]byte, bufSize)
	reads, size1 := 1, len(stream)
	if pieces {
		reads, size1 = 3, 1
	}
	for range reads {
		if _, err := c.Read(buf[:size1]); err != nil {
			t.Fatalf("read: %v", err)
		}
	}
	c.onState(http.StateIdle)
	_ = c.SetReadDeadline(time.Now().Add(50 * time.Millisecond))
	between(c)
	_, err := c.Read(buf[:size])
	return c, err
}
