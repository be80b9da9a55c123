package server_test

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"strconv"
	"sync"
	"testing"
	"time"

	"golang.org/x/net/http2"
	"golang.org/x/net/http2/hpack"
)

// Raw clients for refused requests: they send a request whose body they
// never finish, and report how the server ended the exchange.

// slowRequest is an HTTP/1.1 request sent by hand: head (without the
// final blank line), then first, then one byte of more every 20ms for as
// long as the server lets it.
type slowRequest struct {
	head  string // request line and header fields, each ending in "\r\n"
	first string // the body's start, sent with the head
	more  string // trickled afterwards ("" for chunked: "1\r\nx\r\n" chunks)
}

// earlyAnswer is what a slowRequest got: the response, and how long after
// it the server closed the connection (EOF: the server closes gracefully,
// so the client reads the whole answer, then EOF, never a reset), or that
// it did not within 5s.
type earlyAnswer struct {
	status int
	body   []byte
	closed bool          // read returned EOF
	after  time.Duration // from the end of the response to the close
}

// send runs r against the REST door at addr.
func (r slowRequest) send(t *testing.T, addr string) earlyAnswer {
	t.Helper()
	conn, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	if _, err := io.WriteString(conn, r.head+"\r\n"+r.first); err != nil {
		t.Fatal(err)
	}
	stop := make(chan struct{})
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		chunked := r.more == ""
		for i := 0; ; i++ {
			select {
			case <-stop:
				return
			case <-time.After(20 * time.Millisecond):
			}
			b := []byte("1\r\nx\r\n")
			if !chunked {
				b = []byte{r.more[i%len(r.more)]}
			}
			if _, err := conn.Write(b); err != nil {
				return // the server closed: what the test wants
			}
		}
	}()
	defer func() { close(stop); wg.Wait() }()

	_ = conn.SetReadDeadline(time.Now().Add(10 * time.Second))
	br := bufio.NewReader(conn)
	resp, err := http.ReadResponse(br, nil)
	if err != nil {
		t.Fatalf("reading the response: %v", err)
	}
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatalf("reading the response body: %v", err)
	}
	got := earlyAnswer{status: resp.StatusCode, body: body}
	start := time.Now()
	_ = conn.SetReadDeadline(start.Add(5 * time.Second))
	_, err = br.ReadByte()
	got.after = time.Since(start)
	got.closed = errors.Is(err, io.EOF)
	if err == nil {
		t.Errorf("after the %d: got more bytes on the connection, want it closed", resp.StatusCode)
	}
	return got
}

// check fails unless the request got want and the connection was closed
// at once (well within a second) after it, while the client still had
// body bytes to send.
func (a earlyAnswer) check(t *testing.T, want int) {
	t.Helper()
	if a.status != want {
		t.Errorf("got %d %s, want %d", a.status, a.body, want)
	}
	if !bytes.HasPrefix(bytes.TrimSpace(a.body), []byte("{")) {
		t.Errorf("got body %q, want a JSON error body", a.body)
	}
	if !a.closed || a.after > time.Second {
		t.Errorf("after the %d: connection closed %v after %v, want closed at once while the body was still coming", a.status, a.closed, a.after)
	}
}

// postHead is the head of a POST of a body of n bytes (n < 0: chunked) to
// path, with extra header lines.
func postHead(method, path string, n int, extra ...string) string {
	h := method + " " + path + " HTTP/1.1\r\nHost: portico\r\nContent-Type: application/json\r\n"
	if n < 0 {
		h += "Transfer-Encoding: chunked\r\n"
	} else {
		h += "Content-Length: " + strconv.Itoa(n) + "\r\n"
	}
	for _, e := range extra {
		h += e + "\r\n"
	}
	return h
}

// h2Conn is a raw HTTP/2 client connection: frames are read in the
// background and handed out by stream.
type h2Conn struct {
	t       *testing.T
	conn    net.Conn
	fr      *http2.Framer
	mu      sync.Mutex
	frames  chan h2Frame
	goaway  bool
	backlog []h2Frame // frames of other streams, read while awaiting one
}

// h2Frame is what the test reads of a frame, copied out of the framer
// (which reuses its frames) by the reading goroutine.
type h2Frame struct {
	stream uint32
	status string // HEADERS: :status
	data   string // DATA
	end    bool   // END_STREAM
	reset  bool   // RST_STREAM
	code   http2.ErrCode
}

// newH2Conn starts HTTP/2 on c (TLS, h2 negotiated).
func newH2Conn(t *testing.T, c net.Conn) *h2Conn {
	t.Helper()
	h := &h2Conn{t: t, conn: c, fr: http2.NewFramer(c, c), frames: make(chan h2Frame, 100)}
	h.fr.ReadMetaHeaders = hpack.NewDecoder(4096, nil)
	t.Cleanup(func() { c.Close() })
	if _, err := io.WriteString(c, http2.ClientPreface); err != nil {
		t.Fatal(err)
	}
	if err := h.fr.WriteSettings(); err != nil {
		t.Fatal(err)
	}
	go func() {
		defer close(h.frames)
		for {
			f, err := h.fr.ReadFrame()
			if err != nil {
				return
			}
			out := h2Frame{stream: f.Header().StreamID}
			switch f := f.(type) {
			case *http2.SettingsFrame:
				if !f.IsAck() {
					h.mu.Lock()
					_ = h.fr.WriteSettingsAck()
					h.mu.Unlock()
				}
				continue
			case *http2.GoAwayFrame:
				h.mu.Lock()
				h.goaway = true
				h.mu.Unlock()
				continue
			case *http2.MetaHeadersFrame:
				out.status, out.end = f.PseudoValue("status"), f.StreamEnded()
			case *http2.DataFrame:
				out.data, out.end = string(f.Data()), f.StreamEnded()
			case *http2.RSTStreamFrame:
				out.reset, out.code = true, f.ErrCode
			default:
				continue
			}
			h.frames <- out
		}
	}()
	return h
}

// headers opens stream id with the given pseudo and regular fields.
func (h *h2Conn) headers(id uint32, end bool, fields ...string) {
	h.t.Helper()
	var buf bytes.Buffer
	enc := hpack.NewEncoder(&buf)
	for i := 0; i < len(fields); i += 2 {
		_ = enc.WriteField(hpack.HeaderField{Name: fields[i], Value: fields[i+1]})
	}
	h.mu.Lock()
	defer h.mu.Unlock()
	if err := h.fr.WriteHeaders(http2.HeadersFrameParam{StreamID: id, BlockFragment: buf.Bytes(), EndHeaders: true, EndStream: end}); err != nil {
		h.t.Fatal(err)
	}
}

// data sends body bytes on stream id; it reports the write error, if any.
func (h *h2Conn) data(id uint32, end bool, b string) error {
	h.mu.Lock()
	defer h.mu.Unlock()
	return h.fr.WriteData(id, end, []byte(b))
}

// h2Outcome is how the server ended one stream.
type h2Outcome struct {
	status string
	body   string
	ended  bool // the response's END_STREAM
	reset  bool // RST_STREAM
	code   http2.ErrCode
}

// await reads frames until stream id has its whole response and is reset,
// or is reset without one, or the wait ends (5s for the response, then 1s
// for a reset).
func (h *h2Conn) await(id uint32) h2Outcome {
	h.t.Helper()
	var out h2Outcome
	timeout := time.After(5 * time.Second)
	next := func() (h2Frame, bool) {
		for i, f := range h.backlog {
			if f.stream == id {
				h.backlog = append(h.backlog[:i], h.backlog[i+1:]...)
				return f, true
			}
		}
		select {
		case f, ok := <-h.frames:
			return f, ok
		case <-timeout:
			return h2Frame{}, false
		}
	}
	for {
		f, ok := next()
		if !ok {
			return out
		}
		if f.stream != id {
			h.backlog = append(h.backlog, f)
			continue
		}
		if f.reset {
			out.reset, out.code = true, f.code
			return out
		}
		if f.status != "" {
			out.status = f.status
		}
		out.body += f.data
		out.ended = out.ended || f.end
		if out.ended {
			timeout = time.After(time.Second)
		}
	}
}

// sawGoAway reports whether the server sent GOAWAY.
func (h *h2Conn) sawGoAway() bool {
	h.mu.Lock()
	defer h.mu.Unlock()
	return h.goaway
}

func (o h2Outcome) String() string {
	return fmt.Sprintf("status %s, ended %v, reset %v (%v), body %q", o.status, o.ended, o.reset, o.code, o.body)
}
