package idlepark

import (
	"fmt"
	"net/http"
	"strings"
	"testing"
)

// FuzzParkedMatchesNetHTTP holds the parking path against net/http alone:
// requests made from the input (GET or POST with a body), sent in chunks
// cut at places the input picks, get the same answers, in the same order,
// from a server that parks and from one that does not. When a chunk ends
// at a request's end the connection must be parked before the next one
// goes; when it ends inside a request the next chunk races net/http going
// idle, which is the case the parking must never get wrong.
func FuzzParkedMatchesNetHTTP(f *testing.F) {
	f.Add([]byte{0, 3, 1, 200, 2}, []byte{5, 1, 40})
	f.Add([]byte{1, 1, 1, 1}, []byte{1, 2, 3, 4, 5, 6})
	f.Add([]byte{9, 0, 130, 7, 255}, []byte{0})
	f.Fuzz(func(t *testing.T, reqs, cuts []byte) {
		if len(reqs) == 0 || len(reqs) > 16 || len(cuts) > 32 {
			return
		}
		stream, answers := requests(reqs)
		chunks := chop(stream, cuts)
		plain := exchange(t, false, chunks, answers)
		parked := exchange(t, true, chunks, answers)
		for i := range answers {
			if plain[i] != answers[i] || parked[i] != answers[i] {
				t.Fatalf("request %d: got %q parked, %q from net/http alone, want %q", i, parked[i], plain[i], answers[i])
			}
		}
	})
}

// requests turns each input byte into a request: even, a GET; odd, a
// POST with a body of b/2 bytes. It returns them one after the other
// (with each one's end offset) and the answers echo gives them.
func requests(in []byte) (stream []reqEnd, answers []string) {
	for i, b := range in {
		path := fmt.Sprintf("/r%d", i)
		if b%2 == 0 {
			stream = append(stream, reqEnd{s: get(path)})
			answers = append(answers, "GET "+path+" 0")
			continue
		}
		n := int(b / 2)
		stream = append(stream, reqEnd{s: post(path, strings.Repeat("b", n))})
		answers = append(answers, fmt.Sprintf("POST %s %d", path, n))
	}
	return stream, answers
}

type reqEnd struct{ s string }

// chunk is bytes to send, then how many answers are complete.
type chunk struct {
	s        string
	complete int  // requests wholly sent after this chunk
	atEnd    bool // the chunk ends at a request's end
}

// chop cuts the requests' bytes at offsets from cuts (each a step of
// 1..256 bytes).
func chop(reqs []reqEnd, cuts []byte) []chunk {
	var all strings.Builder
	var ends []int
	for _, r := range reqs {
		all.WriteString(r.s)
		ends = append(ends, all.Len())
	}
	s := all.String()
	var out []chunk
	pos, ci := 0, 0
	for pos < len(s) {
		step := len(s) - pos
		if ci < len(cuts) {
			step = min(step, int(cuts[ci])+1)
			ci++
		}
		pos += step
		c := chunk{s: s[pos-step : pos]}
		for _, e := range ends {
			if e <= pos {
				c.complete++
			}
			if e == pos {
				c.atEnd = true
			}
		}
		out = append(out, c)
	}
	return out
}

// exchange sends the chunks on one connection, reading each answer once
// its request is whole, and returns the answers' bodies.
func exchange(t *testing.T, park bool, chunks []chunk, answers []string) []string {
	l, addr := serve(t, &http.Server{Handler: echo}, park)
	c := dial(t, addr)
	var got []string
	for _, ch := range chunks {
		c.send(ch.s)
		for len(got) < ch.complete {
			code, body := c.answer()
			got = append(got, fmt.Sprint(code, " ", body)[4:])
			if code != http.StatusOK {
				t.Fatalf("request %d: got status %d (%q)", len(got)-1, code, body)
			}
		}
		if park && ch.atEnd {
			parkedAre(t, l, 1)
		}
	}
	if len(got) != len(answers) {
		t.Fatalf("got %d answers, want %d", len(got), len(answers))
	}
	return got
}
