package transcoder_test

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/portico-gw/portico/server/servertest"
)

// sseEvent is one Server-Sent Event: its name ("" for a message) and
// data (the data lines joined with "\n").
type sseEvent struct {
	name, data string
}

// sseReader reads text/event-stream as the HTML standard's parser does,
// for what the gateway sends: "event" and "data" fields, comments, blank
// lines ending events (ids and retry are not used).
type sseReader struct{ br *bufio.Reader }

// next returns the next event, io.EOF at the end of the stream.
func (r *sseReader) next() (sseEvent, error) {
	var ev sseEvent
	var data []string
	seen := false
	for {
		line, err := r.br.ReadString('\n')
		if err != nil {
			if err == io.EOF && line == "" && !seen {
				return ev, io.EOF
			}
			if err == io.EOF {
				return ev, fmt.Errorf("stream ended inside an event: %q", line)
			}
			return ev, err
		}
		line = strings.TrimSuffix(strings.TrimSuffix(line, "\n"), "\r")
		if line == "" {
			if !seen {
				continue
			}
			ev.data = strings.Join(data, "\n")
			return ev, nil
		}
		if strings.HasPrefix(line, ":") {
			continue
		}
		field, value, _ := strings.Cut(line, ":")
		value = strings.TrimPrefix(value, " ")
		seen = true
		switch field {
		case "event":
			ev.name = value
		case "data":
			data = append(data, value)
		}
	}
}

// sseGet asks for path as an event stream.
func sseGet(t *testing.T, env *servertest.Env, path string, header map[string]string) (*http.Response, *sseReader) {
	t.Helper()
	req, err := http.NewRequest(http.MethodGet, env.URL+path, nil)
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Accept", "text/event-stream")
	for k, v := range header {
		req.Header.Set(k, v)
	}
	resp, err := servertest.Client().Do(req)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { resp.Body.Close() })
	return resp, &sseReader{br: bufio.NewReader(resp.Body)}
}

// readEvents reads every event to the end of the stream.
func readEvents(t *testing.T, r *sseReader) []sseEvent {
	t.Helper()
	var out []sseEvent
	for {
		ev, err := r.next()
		if err == io.EOF {
			return out
		}
		if err != nil {
			t.Fatalf("reading events: %v", err)
		}
		out = append(out, ev)
	}
}

func decodeData(t *testing.T, ev sseEvent) map[string]any {
	t.Helper()
	var m map[string]any
	if err := json.Unmarshal([]byte(ev.data), &m); err != nil {
		t.Fatalf("event %q: data %q is not a JSON object: %v", ev.name, ev.data, err)
	}
	return m
}

func TestSSEServerStreaming(t *testing.T) {
	env := servertest.Start(t, servertest.Options{Config: forwardTestHeaders})
	t.Run("one event per message, then the status", func(t *testing.T) {
		resp, r := sseGet(t, env, "/v1/shelves/1/books:watch", map[string]string{"X-Echo": "hi"})
		if resp.StatusCode != http.StatusOK {
			t.Fatalf("status: got %d, want 200", resp.StatusCode)
		}
		for k, want := range map[string]string{
			"Content-Type":         "text/event-stream",
			"Cache-Control":        "no-cache",
			"Grpc-Metadata-X-Echo": "hi",
		} {
			if got := resp.Header.Get(k); got != want {
				t.Errorf("%s: got %q, want %q", k, got, want)
			}
		}
		evs := readEvents(t, r)
		if len(evs) != 3 {
			t.Fatalf("got %d events %v, want 2 messages and a status", len(evs), evs)
		}
		for i, want := range []string{"shelves/1/books/1", "shelves/1/books/2"} {
			if evs[i].name != "" {
				t.Errorf("event %d: got name %q, want a message event", i, evs[i].name)
			}
			// The message itself, as NDJSON's "result" holds it.
			if m := decodeData(t, evs[i]); m["name"] != want || m["result"] != nil {
				t.Errorf("event %d: got %s, want the book %s", i, evs[i].data, want)
			}
		}
		if evs[2].name != "status" {
			t.Fatalf("last event: got %q, want status", evs[2].name)
		}
		checkSubset(t, []byte(evs[2].data), `{"code":0,"message":"","details":[]}`)
	})
	t.Run("an error from the backend stream is the status event", func(t *testing.T) {
		resp, r := sseGet(t, env, "/v1/shelves/1/books:watch", map[string]string{"X-Fail": "UNAVAILABLE"})
		if resp.StatusCode != http.StatusOK {
			t.Fatalf("status: got %d, want 200 (the stream was open)", resp.StatusCode)
		}
		evs := readEvents(t, r)
		if len(evs) != 1 || evs[0].name != "status" {
			t.Fatalf("got %v, want one status event", evs)
		}
		checkSubset(t, []byte(evs[0].data), `{"code":14,"message":"forced failure"}`)
		if d := decodeData(t, evs[0]); len(d["details"].([]any)) != 1 {
			t.Errorf("details: got %v, want the backend's ErrorInfo", d["details"])
		}
	})
	t.Run("a request refused before the stream opens is a plain JSON error", func(t *testing.T) {
		resp, r := sseGet(t, env, "/v1/shelves/x/books:watch", nil)
		body, _ := io.ReadAll(r.br)
		if resp.StatusCode != http.StatusBadRequest {
			t.Fatalf("status: got %d %s, want 400", resp.StatusCode, body)
		}
		if ct := resp.Header.Get("Content-Type"); ct != "application/json" {
			t.Errorf("Content-Type: got %q, want application/json", ct)
		}
		checkSubset(t, body, `{"code":3}`)
	})
	t.Run("Accept with q=0 keeps NDJSON", func(t *testing.T) {
		resp, body := call{method: "GET", path: "/v1/shelves/1/books:watch",
			header: map[string]string{"Accept": "text/event-stream;q=0, application/json"}}.do(t, env.URL)
		if ct := resp.Header.Get("Content-Type"); ct != "application/json" {
			t.Errorf("Content-Type: got %q, want application/json", ct)
		}
		if lines := ndjson(t, body); len(lines) != 2 || lines[0]["result"] == nil {
			t.Errorf("got %s, want two NDJSON results", body)
		}
	})
}

// TestSSEBidiFlushedPerEvent: each event reaches the client as it is
// written — the client reads the answer to its first request while the
// request body is still open — and an error mid-stream ends the events
// with its status.
func TestSSEBidiFlushedPerEvent(t *testing.T) {
	env := servertest.Start(t, servertest.Options{})
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	pr, pw := io.Pipe()
	t.Cleanup(func() { pw.Close() })
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, env.URL+"/v1/books:lookup", pr)
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Accept", "text/event-stream")
	type result struct {
		resp *http.Response
		err  error
	}
	done := make(chan result, 1)
	go func() {
		resp, err := http.DefaultClient.Do(req)
		done <- result{resp, err}
	}()
	if _, err := io.WriteString(pw, `{"name":"shelves/1/books/2"}`+"\n"); err != nil {
		t.Fatal(err)
	}
	var res result
	select {
	case res = <-done:
	case <-ctx.Done():
		t.Fatal("no response to the first message while the body is open")
	}
	if res.err != nil {
		t.Fatal(res.err)
	}
	defer res.resp.Body.Close()
	r := &sseReader{br: bufio.NewReader(res.resp.Body)}
	ev, err := r.next()
	if err != nil {
		t.Fatal(err)
	}
	if m := decodeData(t, ev); ev.name != "" || m["name"] != "shelves/1/books/2" {
		t.Fatalf("first event: got %q %s, want the book shelves/1/books/2", ev.name, ev.data)
	}
	if _, err := io.WriteString(pw, `{"name":"shelves/1/books/99"}`+"\n"); err != nil {
		t.Fatal(err)
	}
	evs := readEvents(t, r)
	if len(evs) != 1 || evs[0].name != "status" {
		t.Fatalf("after the missing book: got %v, want one status event", evs)
	}
	checkSubset(t, []byte(evs[0].data), `{"code":5}`)
}
