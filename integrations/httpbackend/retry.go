package httpbackend

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"strconv"
	"strings"
	"sync"

	configv1 "github.com/portico-gw/portico/gen/portico/config/v1"
)

// Retry budget: every call that may be retried (an idempotent one) adds
// budgetRatio of a token (up to budgetBurst tokens), every retry takes
// one. So, over time, retries are
// at most 20% of the calls (plus a burst of 10): a backend in an outage
// gets at most 1.2× the calls it would get without retries, never
// max_attempts×.
const (
	budgetRatio = 0.2
	budgetBurst = 10
)

// maxReplayBytes bounds the body kept to send again: a request whose
// body is longer (as the REST door's default max_body_bytes) is sent
// once, never retried.
const maxReplayBytes = 4 << 20

// retryPolicy is an http integration's retry: how many attempts in all,
// and after what.
type retryPolicy struct {
	attempts int
	statuses map[int]bool // 5xx statuses retried
	connect  bool         // retry when the connection could not be made
}

// retrySettings reads and checks retry: on lists 5xx statuses and
// connect_failure.
func retrySettings(r *configv1.HttpRetry) (*retryPolicy, error) {
	p := &retryPolicy{attempts: int(r.GetMaxAttempts()), statuses: map[int]bool{}}
	if p.attempts < 2 {
		return nil, errors.New("http.retry.max_attempts: 2 to 5 (attempts in all, the first included)")
	}
	for k, on := range r.GetOn() {
		on = strings.ToLower(strings.TrimSpace(on))
		if on == "connect_failure" {
			p.connect = true
			continue
		}
		code, err := strconv.Atoi(on)
		if err != nil || code < 500 || code > 599 {
			return nil, fmt.Errorf("http.retry.on[%d]: %q is neither a 5xx status (502, 503, 504, ...) nor connect_failure", k, r.GetOn()[k])
		}
		p.statuses[code] = true
	}
	if len(p.statuses) == 0 && !p.connect {
		return nil, errors.New("http.retry.on: list what is retried (502, 503, 504, connect_failure)")
	}
	return p, nil
}

// idempotent reports whether an HTTP method may be sent more than once:
// GET, HEAD, PUT, DELETE, OPTIONS (RFC 9110 §9.2.2), never POST or PATCH.
func idempotent(method string) bool {
	switch method {
	case http.MethodGet, http.MethodHead, http.MethodPut, http.MethodDelete, http.MethodOptions:
		return true
	}
	return false
}

// retryable reports whether an attempt that ended with resp or err is
// sent again under p (the call's context still live).
func (p *retryPolicy) retryable(ctx context.Context, resp *http.Response, err error) bool {
	if ctx.Err() != nil {
		return false
	}
	if err != nil {
		return p.connect && connectFailure(err)
	}
	return p.statuses[resp.StatusCode]
}

// connectFailure reports whether err says the connection could not be
// made (refused, unreachable, no such host): nothing was sent.
func connectFailure(err error) bool {
	var op *net.OpError
	if errors.As(err, &op) && op.Op == "dial" {
		return true
	}
	var dns *net.DNSError
	return errors.As(err, &dns)
}

// budget is the retry budget (see budgetRatio).
type budget struct {
	mu     sync.Mutex
	tokens float64
}

func newBudget() *budget { return &budget{tokens: budgetBurst} }

// deposit credits one call.
func (b *budget) deposit() {
	b.mu.Lock()
	b.tokens = min(b.tokens+budgetRatio, budgetBurst)
	b.mu.Unlock()
}

// take spends a token for a retry; false when none is left.
func (b *budget) take() bool {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.tokens < 1 {
		return false
	}
	b.tokens--
	return true
}

// replayable returns req with a body that can be sent again (GetBody),
// and whether it can: no body, a body net/http can already replay, or
// one of at most maxReplayBytes (read into memory here). A longer body
// is left to stream once (what was read put back in front of the rest).
func replayable(req *http.Request) (*http.Request, bool) {
	if req.Body == nil || req.Body == http.NoBody || req.GetBody != nil {
		return req, true
	}
	if req.ContentLength > maxReplayBytes {
		return req, false
	}
	buf, err := io.ReadAll(io.LimitReader(req.Body, maxReplayBytes+1))
	if err != nil || len(buf) > maxReplayBytes {
		out := req.Clone(req.Context())
		out.Body = readCloser{io.MultiReader(bytes.NewReader(buf), errReader{err}, req.Body), req.Body}
		return out, false
	}
	_ = req.Body.Close()
	out := req.Clone(req.Context())
	out.Body = io.NopCloser(bytes.NewReader(buf))
	out.GetBody = func() (io.ReadCloser, error) { return io.NopCloser(bytes.NewReader(buf)), nil }
	out.ContentLength = int64(len(buf))
	return out, true
}

type readCloser struct {
	io.Reader
	io.Closer
}

// errReader returns its error, if any, where the body broke off.
type errReader struct{ err error }

func (e errReader) Read([]byte) (int, error) {
	if e.err != nil {
		return 0, e.err
	}
	return 0, io.EOF
}
